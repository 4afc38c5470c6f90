package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// scopeTexts are the English consent lines of the standard scopes.
var scopeTexts = map[string]string{
	"openid": "Sign you in", "email": "See your email address",
	"profile": "See your name and language", "offline_access": "Keep you signed in",
}

// Consent for a third-party client: asked once per scope set, listing the
// scopes; Allow gives a code, Deny access_denied; prompt=consent asks again;
// prompt=none without consent is consent_required; a new scope asks again.
func TestE2EConsent(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.client(u.inst, provider.ClientSpec{Name: "Partner Tickets", RedirectURIs: []string{testRedirectURI}})
		otherID, _ := u.client(u.inst, provider.ClientSpec{Name: "Other Partner", RedirectURIs: []string{testRedirectURI}})
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		partner := newRP(t, u.issuer, id, secret)
		b := newBrowser(t)

		// First time: sign in, then the consent page.
		f := newFlow()
		q := authParams(id, f, url.Values{"scope": {"openid email"}})
		resp, body := b.open(u.authorizeURL(q))
		if !onSignInPage(resp) {
			t.Fatalf("%d at %s, want the sign-in page", resp.StatusCode, resp.Request.URL)
		}
		resp, body = b.submit(resp, body, url.Values{"email": {"ann@example.org"}, "password": {testPassword}})
		if !onConsentPage(resp) {
			t.Fatalf("after signing in: %d at %s, want the consent page\n%.500s", resp.StatusCode, resp.Request.URL, body)
		}
		checkConsentPage(t, "first consent", body, "Partner Tickets", "openid", "email")
		resp, body = b.submit(resp, body, url.Values{"consent": {"allow"}})
		got := callback(t, resp, body)
		if got.Get("code") == "" || got.Get("state") != f.state {
			t.Fatalf("after Allow: callback %v, want a code", got)
		}
		_, idt := partner.exchange(got.Get("code"), f)
		mustEqualf(t, "sub after consent", idt.Subject, ann.ID)

		// Second time: no page at all.
		silentCode(t, u, partner, b, "the same scopes again", url.Values{"scope": {"openid email"}})
		silentCode(t, u, partner, b, "prompt=none with consent", url.Values{"scope": {"openid email"}, "prompt": {"none"}})

		// prompt=consent asks again; Allow gives a code.
		f = newFlow()
		resp, body = b.open(u.authorizeURL(authParams(id, f, url.Values{"scope": {"openid email"}, "prompt": {"consent"}})))
		if !onConsentPage(resp) || b.visitedPage("/login") {
			t.Fatalf("prompt=consent: %d at %s (pages %v), want the consent page only", resp.StatusCode, resp.Request.URL, b.pages)
		}
		resp, body = b.submit(resp, body, url.Values{"consent": {"allow"}})
		if got := callback(t, resp, body); got.Get("code") == "" || got.Get("state") != f.state {
			t.Fatalf("prompt=consent, Allow: callback %v", got)
		}

		// Deny: access_denied, with state and iss.
		f = newFlow()
		resp, body = b.open(u.authorizeURL(authParams(id, f, url.Values{"scope": {"openid email"}, "prompt": {"consent"}})))
		if !onConsentPage(resp) {
			t.Fatalf("prompt=consent: %d at %s, want the consent page", resp.StatusCode, resp.Request.URL)
		}
		resp, body = b.submit(resp, body, url.Values{"consent": {"deny"}})
		got = callback(t, resp, body)
		if got.Get("error") != "access_denied" || got.Get("state") != f.state || got.Get("iss") != u.issuer || got.Get("code") != "" {
			t.Errorf("Deny: callback %v, want error access_denied with state and iss", got)
		}
		checkErrorRedirect(t, "Deny", got)
		// Denying did not take the earlier consent away.
		silentCode(t, u, partner, b, "after a denial", url.Values{"scope": {"openid email"}})

		// A scope not consented yet: the page again, listing all scopes asked.
		f = newFlow()
		resp, body = b.open(u.authorizeURL(authParams(id, f, url.Values{"scope": {"openid email profile"}})))
		if !onConsentPage(resp) {
			t.Fatalf("new scope: %d at %s, want the consent page", resp.StatusCode, resp.Request.URL)
		}
		checkConsentPage(t, "new scope", body, "Partner Tickets", "openid", "email", "profile")
		wantRedirectedError(t, u, b, "prompt=none with a scope not consented",
			authParams(id, newFlow(), url.Values{"scope": {"openid email profile"}, "prompt": {"none"}}), "consent_required")

		// Another third-party client: never consented.
		wantRedirectedError(t, u, b, "prompt=none, another client", authParams(otherID, newFlow(), url.Values{"prompt": {"none"}}),
			"consent_required")
	})
}

// checkConsentPage checks that the consent page names the client and lists
// exactly the scopes.
func checkConsentPage(t *testing.T, what, body, client string, scopes ...string) {
	t.Helper()
	if !strings.Contains(body, client) {
		t.Errorf("%s: the consent page does not name %q", what, client)
	}
	want := map[string]bool{}
	for _, s := range scopes {
		want[s] = true
	}
	for s, text := range scopeTexts {
		if has := strings.Contains(body, text); has != want[s] {
			t.Errorf("%s: consent page lists %q: %v, want %v", what, text, has, want[s])
		}
	}
}
