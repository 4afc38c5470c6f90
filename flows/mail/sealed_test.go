package mail_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	umail "github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/templates"
)

// rawRow reads the outbox row id with plain SQL: what a dump of the
// database shows.
func rawRow(t *testing.T, db sqltest.DB, id string) map[string]string {
	t.Helper()
	rows := sqltest.Dump(t, db, `SELECT * FROM outbox_emails WHERE id = $1`, id)
	if len(rows) != 1 {
		t.Fatalf("no outbox row %s", id)
	}
	return rows[0]
}

// holds reports the columns of row that contain s.
func holds(row map[string]string, s string) []string {
	var cols []string
	for c, v := range row {
		if strings.Contains(v, s) {
			cols = append(cols, c)
		}
	}
	return cols
}

// A reset email's link is never readable from the database: sealed from the
// moment it is queued (a key derived from another master secret does not
// open it), delivered by the worker that has the master secret, and blanked
// once delivered.
func TestResetLinkNeverReadableFromTheDatabase(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newEnv(t, db)
		acct := e.account("ann@example.org", "Ann", "Lee", "en")
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		token := base64.RawURLEncoding.EncodeToString(secret)
		doc := templates.PasswordResetEmail{PointOfSale: "Billetterie", ValidFor: 48 * time.Hour,
			Link: "https://id.example.org/institutions/opera/password/reset?token=" + token}
		var queued *storage.OutboxEmail
		err := e.store.InTx(e.ctx, func(ctx context.Context) error {
			var err error
			queued, err = e.outbox.Queue(ctx, e.inst, umail.To(acct), doc)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(queued.TextBody, token) {
			t.Fatalf("the email does not carry the link:\n%s", queued.TextBody)
		}
		before := rawRow(t, db, queued.ID)
		if cols := holds(before, token); len(cols) != 0 {
			t.Fatalf("before delivery, the row holds the link in %v", cols)
		}
		if before["content"] == "" || before["subject"] != "" || before["text_body"] != "" || before["html_body"] != "" {
			t.Fatalf("before delivery: want sealed content and no clear parts, got %q", before)
		}
		if cols := holds(before, "Reset your password"); len(cols) != 0 {
			t.Fatalf("before delivery, the row holds the subject in clear in %v", cols)
		}

		// Without the master secret, the content does not open: a worker
		// holding a key derived from another secret fails the email for
		// good and sends nothing.
		srv := mailtest.Start(t, mailtest.Options{})
		other, err := seal.New([]byte("another master secret, 32 bytes or more!"), umail.SealPurpose)
		if err != nil {
			t.Fatal(err)
		}
		stranger := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), func(c *umail.WorkerConfig) { c.Sealer = other })
		e.once(stranger, umail.BatchResult{Claimed: 1, Failed: 1})
		if got := e.get(queued.ID); got.Status != storage.EmailFailed || !strings.Contains(got.LastError, "does not open") {
			t.Fatalf("opened with another secret: %s %q", got.Status, got.LastError)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("%d messages sent without the master secret", n)
		}
		if failed := rawRow(t, db, queued.ID); failed["content"] != before["content"] {
			t.Fatal("a failed email lost its sealed content: it could not be retried")
		}

		// Retried, and sent by the worker with the master secret.
		if err := e.outbox.Retry(e.ctx, e.inst, queued.ID, "test"); err != nil {
			t.Fatal(err)
		}
		e.once(e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil), umail.BatchResult{Claimed: 1, Sent: 1})
		msg, err := srv.Messages()[0].Message()
		if err != nil {
			t.Fatal(err)
		}
		if text, _ := parts(t, msg); !strings.Contains(text, token) {
			t.Fatalf("the delivered email lacks the link:\n%s", text)
		}
		after := rawRow(t, db, queued.ID)
		if cols := holds(after, token); len(cols) != 0 {
			t.Fatalf("after delivery, the row holds the link in %v", cols)
		}
		if after["content"] != "" || after["subject"] != "" || after["text_body"] != "" || after["html_body"] != "" {
			t.Fatalf("after delivery: want nothing left of what the email said, got %q", after)
		}
		if after["status"] != "sent" || after["sent_at"] == "" || after["attempts"] != "2" || after["class"] != "password_reset" ||
			after["recipient"] != "ann@example.org" || after["account_id"] != acct.ID {
			t.Fatalf("after delivery: want the row to keep what happened, got %q", after)
		}
	})
}

// Sealed content is bound to its row: copied into a row for another
// recipient, it does not open, and nothing reaches that recipient.
func TestSealedContentBoundToItsRow(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newEnv(t, db)
		queued := e.queue(umail.Recipient{Email: "ann@example.org", Locale: "en"})
		stolen := e.get(queued.ID)
		forged := &storage.OutboxEmail{Class: stolen.Class, Locale: stolen.Locale, Recipient: "eve@example.org",
			Sender: stolen.Sender, Content: stolen.Content}
		if err := e.store.In(e.inst.ID).EnqueueEmail(e.ctx, forged); err != nil {
			t.Fatal(err)
		}
		srv := mailtest.Start(t, mailtest.Options{})
		e.once(e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil), umail.BatchResult{Claimed: 2, Sent: 1, Failed: 1})
		if got := e.get(forged.ID); got.Status != storage.EmailFailed {
			t.Fatalf("the forged row: %s %q", got.Status, got.LastError)
		}
		for _, r := range srv.Messages() {
			if len(r.To) != 1 || r.To[0] != "ann@example.org" {
				t.Fatalf("a message went to %v", r.To)
			}
		}
	})
}

// An email queued before sealing (its parts in clear, no content) is still
// delivered, and blanked.
func TestUnsealedEmailFromBeforeIsDelivered(t *testing.T) {
	e := sqlite(t)
	row := &storage.OutboxEmail{Class: "password_reset", Locale: "en", Recipient: "ann@example.org",
		Sender: "Opera <no-reply@usher.example>", Subject: "Hello", TextBody: "a link\n", HTMLBody: "<p>a link</p>\n"}
	if err := e.store.In(e.inst.ID).EnqueueEmail(e.ctx, row); err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	e.once(e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil), umail.BatchResult{Claimed: 1, Sent: 1})
	msg, err := srv.Messages()[0].Message()
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := parts(t, msg); text != "a link\n" || msg.Header.Get("Subject") != "Hello" {
		t.Fatalf("delivered: %q %q", msg.Header.Get("Subject"), text)
	}
	if got := e.get(row.ID); got.TextBody != "" || got.Subject != "" {
		t.Fatalf("not blanked: %+v", got)
	}
}
