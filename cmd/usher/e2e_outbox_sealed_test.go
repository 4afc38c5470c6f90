package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// outboxDump reads every outbox row with plain SQL: what a dump of the
// database shows.
func outboxDump(t *testing.T, db sqltest.DB) []map[string]string {
	return sqltest.Dump(t, db, `SELECT * FROM outbox_emails`)
}

// The reset email of /password/forgot never shows its link in the database:
// not while it waits for delivery (sealed), not once the SMTP server has it
// (blanked).
func TestE2EResetEmailLinkNotInDatabase(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		smtp := mailtest.Start(t, mailtest.Options{})
		u := startUsher(t, db, "USHER_SMTP_HOST="+smtp.Host, "USHER_SMTP_PORT="+strconv.Itoa(smtp.Port),
			"USHER_SMTP_TLS=none", "USHER_SMTP_TIMEOUT=5s")
		u.client(u.inst, provider.ClientSpec{Name: "Opera Tickets", RedirectURIs: []string{testRedirectURI},
			PointOfSale: true, HomeURL: "https://shop.example/"})
		u.account(u.inst, storage.Customer, "ann@example.org")
		resp, err := http.PostForm(u.endpoint("/password/forgot"), url.Values{"email": {"ann@example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("forgot: %d", resp.StatusCode)
		}
		// The email is queued after the answer; no worker runs yet.
		var queued []map[string]string
		for deadline := time.Now().Add(10 * time.Second); len(queued) == 0 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			queued = outboxDump(t, db)
		}
		if len(queued) != 1 || queued[0]["status"] != "queued" || queued[0]["content"] == "" {
			t.Fatalf("want one sealed email queued, got %q", queued)
		}

		stop, err := u.a.startMail(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		link := resetLinkPattern.FindString(textBody(t, smtp.Wait(t, 1, 10*time.Second)[0]))
		token := link[strings.Index(link, "?token=")+len("?token="):]
		if link == "" || len(token) < 40 {
			t.Fatalf("no reset link in the email: %q", link)
		}
		for col, v := range queued[0] {
			if strings.Contains(v, token) {
				t.Errorf("before delivery, column %s holds the link", col)
			}
		}
		var sent []map[string]string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if sent = outboxDump(t, db); len(sent) == 1 && sent[0]["status"] == "sent" {
				break
			}
		}
		if len(sent) != 1 || sent[0]["status"] != "sent" {
			t.Fatalf("the email was not marked sent: %q", sent)
		}
		for col, v := range sent[0] {
			if strings.Contains(v, token) {
				t.Errorf("after delivery, column %s holds the link", col)
			}
		}
		for _, col := range []string{"content", "subject", "text_body", "html_body"} {
			if sent[0][col] != "" {
				t.Errorf("after delivery, column %s still says %q", col, sent[0][col])
			}
		}
	})
}
