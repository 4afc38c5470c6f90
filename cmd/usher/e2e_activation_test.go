package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

var activationLinkPattern = regexp.MustCompile(`https?://\S+/activate\?token=[A-Za-z0-9_-]+`)

// linkIn is the first link of pattern in the text of the n-th email the
// SMTP server received (counting from 1), waiting for it.
func linkIn(t *testing.T, smtp *mailtest.Server, n int, pattern *regexp.Regexp) string {
	t.Helper()
	link := pattern.FindString(textBody(t, smtp.Wait(t, n, 10*time.Second)[n-1]))
	if link == "" {
		t.Fatalf("no link in email %d", n)
	}
	return link
}

// linkToken is the token parameter of a link.
func linkToken(link string) string {
	u, _ := url.Parse(link)
	return u.Query().Get("token")
}

// A new customer registers from the shop's sign-in page, gets the
// activation email over SMTP, activates from its link, is signed in and
// back at the shop with an ID token whose email is verified.
func TestE2ERegistration(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u, smtp := startUsherWithMail(t, db)
		id, secret := u.client(u.inst, provider.ClientSpec{Name: "Opera Tickets", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, PointOfSale: true, HomeURL: "https://shop.example/"})
		shop := newRP(t, u.issuer, id, secret)
		b := newBrowser(t)
		f := newFlow()
		resp, body := b.open(shop.authURL(f))
		register := regexp.MustCompile(`href="([^"]*/register[^"]*)"`).FindStringSubmatch(body)
		if register == nil {
			t.Fatalf("no registration link on the sign-in page:\n%s", body)
		}
		resp, body = b.open(u.url + htmlUnescape(register[1]))
		resp, body = b.submit(resp, body, url.Values{"email": {"pat@example.org"}, "given_name": {"Pat"},
			"family_name": {"Lee"}, "locale": {"en"}, "password": {"Pat-passw0rd-long"}, "password_confirm": {"Pat-passw0rd-long"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Open the link in it to activate your account") {
			t.Fatalf("after registering: %d\n%s", resp.StatusCode, body)
		}
		link := linkIn(t, smtp, 1, activationLinkPattern)
		resp, body = b.open(link)
		resp, body = b.submit(resp, body, url.Values{"token": {linkToken(link)}})
		next := regexp.MustCompile(`<a class="button" href="([^"]*)"`).FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || next == nil {
			t.Fatalf("after activating: %d\n%s", resp.StatusCode, body)
		}
		resp, body = b.open(u.url + htmlUnescape(next[1]))
		_, idt := shop.exchange(callback(t, resp, body).Get("code"), f)
		if c := claimsOfToken(t, idt); c["email"] != "pat@example.org" || c["email_verified"] != true {
			t.Errorf("ID token after activation: email %v, verified %v", c["email"], c["email_verified"])
		}
		if done := textBody(t, smtp.Wait(t, 2, 10*time.Second)[1]); !strings.Contains(done, "active") {
			t.Errorf("the second email is not the confirmation:\n%s", done)
		}
	})
}

// The box office creates a customer with `usher account create --invite`:
// the invitation's link asks for the first password, then the customer
// signs in to the shop.
func TestE2EInvitationFromTheCommandLine(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u, smtp := startUsherWithMail(t, db)
		id, secret := u.client(u.inst, provider.ClientSpec{Name: "Opera Tickets", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, PointOfSale: true, HomeURL: "https://shop.example/"})
		// The same database and master secret (emails are sealed with it):
		// the running server's worker sends what the command queues.
		tc := newTestCLI(t, db)
		for i, kv := range tc.env {
			if strings.HasPrefix(kv, "USHER_SECRET=") {
				tc.env[i] = "USHER_SECRET=" + strings.Repeat("k", 40)
			}
		}
		tc.fails("exclude each other", "x\n", "account", "create", "--institution", "demo", "--kind", "customer",
			"--email", "pat@example.org", "--invite", "--password-stdin")
		tc.ok("", "account", "create", "--institution", "demo", "--kind", "customer", "--email", "pat@example.org",
			"--invite", "--point-of-sale", id)
		acct, err := u.a.store.In(u.inst.ID).GetAccountByEmail(context.Background(), storage.Customer, "pat@example.org")
		if err != nil || acct.Status != storage.Pending || acct.PasswordHash != "" {
			t.Fatalf("the invited account: %+v, %v", acct, err)
		}
		link := linkIn(t, smtp, 1, activationLinkPattern)
		u2, _ := url.Parse(link) // the command's public URL: the path is what the server serves
		resp, body := acceptInvitation(t, newBrowser(t), u.url+u2.RequestURI(), testPassword)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the first password: %d\n%s", resp.StatusCode, body)
		}
		shop := newRP(t, u.issuer, id, secret)
		if _, idt := shop.signIn(newBrowser(t), "pat@example.org"); claimsOfToken(t, idt)["email_verified"] != true {
			t.Error("the invitation did not prove the address")
		}
	})
}
