package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// startUsherWithMail is startUsher with its outbox worker delivering to a
// real SMTP server on loopback.
func startUsherWithMail(t *testing.T, db sqltest.DB, env ...string) (*usherServer, *mailtest.Server) {
	t.Helper()
	return startUsherWithMailAt(t, db, time.Now, env...)
}

// startUsherWithMailAt is startUsherWithMail with the clock now.
func startUsherWithMailAt(t *testing.T, db sqltest.DB, now func() time.Time, env ...string) (*usherServer, *mailtest.Server) {
	t.Helper()
	smtp := mailtest.Start(t, mailtest.Options{})
	u := startUsherAt(t, db, "", now, append(env, "USHER_SMTP_HOST="+smtp.Host, "USHER_SMTP_PORT="+strconv.Itoa(smtp.Port),
		"USHER_SMTP_TLS=none", "USHER_SMTP_TIMEOUT=5s")...)
	stop, err := u.a.startMail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return u, smtp
}

// textBody is the plain-text part of a received email.
func textBody(t *testing.T, r mailtest.Received) string {
	t.Helper()
	msg, err := r.Message()
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(part) // quoted-printable is decoded by NextPart
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

var resetLinkPattern = regexp.MustCompile(`https?://\S+/password/reset\?token=[A-Za-z0-9_-]+`)

// A customer who forgot the password gets back into the shop: from the
// sign-in page of the shop's request, the link "Forgot password?", the
// neutral answer, the email over SMTP, the link, the new password; signed
// in, the request resumes and the shop gets a valid ID token. A refresh
// token from before the reset no longer works; the reset is confirmed by
// email.
func TestE2ERecovery(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u, smtp := startUsherWithMail(t, db)
		id, secret := u.client(u.inst, provider.ClientSpec{Name: "Opera Tickets", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, PointOfSale: true, HomeURL: "https://shop.example/"})
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		before, _ := shop.signIn(newBrowser(t), "ann@example.org")

		b := newBrowser(t)
		f := newFlow()
		resp, body := b.open(shop.authURL(f))
		if !onSignInPage(resp) {
			t.Fatalf("%d at %s, want the sign-in page", resp.StatusCode, resp.Request.URL)
		}
		forgot := regexp.MustCompile(`href="([^"]*/password/forgot[^"]*)"`).FindStringSubmatch(body)
		if forgot == nil {
			t.Fatalf("no forgot-password link on the sign-in page:\n%s", body)
		}
		resp, body = b.open(u.url + htmlUnescape(forgot[1]))
		resp, body = b.submit(resp, body, url.Values{"email": {"ann@example.org"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Your request has been registered") {
			t.Fatalf("after asking: %d\n%s", resp.StatusCode, body)
		}
		link := resetLinkPattern.FindString(textBody(t, smtp.Wait(t, 1, 10*time.Second)[0]))
		if link == "" {
			t.Fatal("no reset link in the email")
		}
		_, body = resetWith(t, b, link, "New-passw0rd-for-ann")
		next := regexp.MustCompile(`<a class="button" href="([^"]*)"`).FindStringSubmatch(body)
		if next == nil {
			t.Fatalf("no way on:\n%s", body)
		}
		resp, body = b.open(u.url + htmlUnescape(next[1]))
		got := callback(t, resp, body)
		if got.Get("state") != f.state || got.Get("code") == "" {
			t.Fatalf("back at the shop: %v", got)
		}
		if _, idt := shop.exchange(got.Get("code"), f); idt.Subject != ann.ID {
			t.Errorf("ID token for %s, want %s", idt.Subject, ann.ID)
		}
		if _, err := shop.conf.TokenSource(shop.ctx, &oauth2.Token{RefreshToken: before.RefreshToken}).Token(); err == nil {
			t.Error("a refresh token from before the reset still works")
		}
		msgs := smtp.Wait(t, 2, 10*time.Second)
		if done := textBody(t, msgs[1]); !strings.Contains(done, "was changed") {
			t.Errorf("the second email is not the confirmation:\n%s", done)
		}
	})
}

// resetWith opens an emailed reset link in browser b and sets the new
// password; it returns the page that says it is done.
func resetWith(t *testing.T, b *browser, link, password string) (*http.Response, string) {
	t.Helper()
	resp, body := b.open(link)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Reset password") {
		t.Fatalf("the link: %d\n%s", resp.StatusCode, body)
	}
	token := strings.TrimPrefix(link[strings.Index(link, "?"):], "?token=")
	resp, body = b.submit(resp, body, url.Values{"token": {token}, "password": {password},
		"password_confirm": {password}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Your password has been changed successfully") {
		t.Fatalf("after the reset: %d\n%s", resp.StatusCode, body)
	}
	return resp, body
}

// Known and unknown emails get their answer in the same time: the
// distributions of response times over many requests do not tell them
// apart (medians within noise), each from its own address so that no limit
// stops the emails.
func TestE2ERecoveryTiming(t *testing.T) {
	u := startUsher(t, sqltest.SQLite(t), "USHER_TRUSTED_PROXIES=127.0.0.1/32")
	u.client(u.inst, provider.ClientSpec{Name: "Opera Tickets", RedirectURIs: []string{testRedirectURI},
		PointOfSale: true, HomeURL: "https://shop.example/"})
	const n = 25
	for i := range n {
		u.account(u.inst, storage.Customer, fmt.Sprintf("known%d@example.org", i))
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	ask := func(i int, email string) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, u.endpoint("/password/forgot"),
			strings.NewReader(url.Values{"email": {email}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", email, resp.StatusCode)
		}
		return time.Since(start)
	}
	var known, unknown []time.Duration
	for i := range n {
		known = append(known, ask(2*i, fmt.Sprintf("known%d@example.org", i)))
		unknown = append(unknown, ask(2*i+1, fmt.Sprintf("unknown%d@example.org", i)))
	}
	mk, mu := median(known), median(unknown)
	if diff := (mk - mu).Abs(); diff > 2*time.Millisecond+max(mk, mu)*3/10 {
		t.Errorf("median answer %v for known emails, %v for unknown ones", mk, mu)
	}
	// The emails are queued after the answers: wait for the last ones.
	var emails []storage.OutboxEmail
	for deadline := time.Now().Add(10 * time.Second); len(emails) < n && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if emails, err = u.a.store.In(u.inst.ID).ListEmails(context.Background(), storage.OutboxFilter{Limit: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	if len(emails) != n {
		t.Errorf("%d emails queued, want %d (one per known email)", len(emails), n)
	}
	t.Logf("median answer: known %v, unknown %v", mk, mu)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
