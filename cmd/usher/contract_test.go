package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// The provider and the pages agree on the URL contract of package issuer:
// the provider sends the browser to the sign-in and consent pages with a
// return_to the pages accept and resume; the longest request the provider
// sends on is one the pages take, a longer one is refused at once; the
// consent page's "no" is what the provider reads as access_denied.
func TestURLContractBothSidesAgree(t *testing.T) {
	u := startUsher(t, sqltest.SQLite(t))
	id, _ := u.client(u.inst, provider.ClientSpec{Name: "Partner", RedirectURIs: []string{testRedirectURI}})
	u.account(u.inst, storage.Customer, "ann@example.org")
	b := newBrowser(t)

	// The provider's side: the sign-in page, with the request to resume.
	f := newFlow()
	resp, _ := rawGet(t, u.authorizeURL(authParams(id, f, url.Values{"scope": {"openid email"}})))
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Path != "/institutions/demo"+issuer.LoginPath {
		t.Fatalf("authorize without a session: %d to %q, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	rt := loc.Query().Get(issuer.ReturnToParam)
	if !strings.HasPrefix(rt, issuer.AuthorizeURL("demo")+"?") || len(rt) > issuer.MaxReturnTo {
		t.Fatalf("return_to %q: not the institution's authorization endpoint", rt)
	}

	// The pages' side: the sign-in page keeps it and resumes it, then the
	// provider sends the browser to the consent page, whose "no" comes back
	// as access_denied.
	resp, body := b.open(loc.String())
	if !onSignInPage(resp) || !strings.Contains(body, `name="return_to" value="`) {
		t.Fatalf("the sign-in page did not take the provider's return_to: %d\n%.1000s", resp.StatusCode, body)
	}
	resp, body = b.submit(resp, body, url.Values{"email": {"ann@example.org"}, "password": {testPassword}})
	if !onConsentPage(resp) || resp.Request.URL.Query().Get(issuer.ReturnToParam) != rt {
		t.Fatalf("after signing in: %d at %s, want the consent page with the same return_to", resp.StatusCode, resp.Request.URL)
	}
	resp, body = b.submit(resp, body, url.Values{"consent": {"deny"}})
	if got := callback(t, resp, body); got.Get("error") != "access_denied" || got.Get("state") != f.state {
		t.Errorf("after no at the consent page: %v, want access_denied", got)
	}

	// A request longer than the pages accept is refused by the provider at
	// once, not lost after the sign-in.
	long := authParams(id, newFlow(), url.Values{"login_hint": {strings.Repeat("a", issuer.MaxReturnTo)}})
	resp, _ = rawGet(t, u.authorizeURL(long))
	if strings.Contains(resp.Header.Get("Location"), issuer.LoginPath) {
		t.Errorf("a request longer than %d bytes was sent to the sign-in page", issuer.MaxReturnTo)
	}
}

// /metrics is served on its own listener, never on the public one, where
// the counts of sign-ins and statements would tell strangers what happens.
func TestMetricsOffThePublicListener(t *testing.T) {
	u := startUsher(t, sqltest.SQLite(t))
	if resp, _ := rawGet(t, u.url+"/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %d", resp.StatusCode)
	}
	if resp, body := rawGet(t, u.metricsURL); resp.StatusCode != http.StatusOK || !strings.Contains(body, "usher_lockouts_total") {
		t.Errorf("/metrics on the metrics listener: %d", resp.StatusCode)
	}
}
