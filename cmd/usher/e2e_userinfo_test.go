package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Userinfo as relying parties call it: GET or POST, the token in the header
// or the form body; typed claims by granted scope; RFC 6750 errors with
// WWW-Authenticate.
func TestE2EUserinfo(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		tok, idt := shop.signIn(newBrowser(t), "ann@example.org")
		at := tok.AccessToken
		endpoint := u.endpoint("/oauth2/userinfo")

		variants := map[string]apiResponse{
			"GET, bearer header":              send(t, http.MethodGet, endpoint, "Bearer "+at, nil),
			"GET, lower-case scheme":          send(t, http.MethodGet, endpoint, "bearer "+at, nil),
			"POST, bearer header, no body":    send(t, http.MethodPost, endpoint, "Bearer "+at, nil),
			"POST, bearer header, empty form": send(t, http.MethodPost, endpoint, "Bearer "+at, url.Values{}),
			"POST, access_token in the body":  send(t, http.MethodPost, endpoint, "", url.Values{"access_token": {at}}),
		}
		for what, r := range variants {
			if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s: %d %q %s", what, r.status, r.header.Get("Content-Type"), r.raw)
				continue
			}
			if r.body["sub"] != idt.Subject || r.body["sub"] != ann.ID {
				t.Errorf("%s: sub %v, want the ID token's %s", what, r.body["sub"], idt.Subject)
			}
			if _, ok := r.body["email_verified"].(bool); !ok {
				t.Errorf("%s: email_verified %#v, want a JSON boolean", what, r.body["email_verified"])
			}
			if _, ok := r.body["updated_at"].(float64); !ok {
				t.Errorf("%s: updated_at %#v, want a JSON number", what, r.body["updated_at"])
			}
			mustEqualf(t, what+" email", r.body["email"], "ann@example.org")
			mustEqualf(t, what+" name", r.body["name"], "Ann Smith")
			mustEqualf(t, what+" given_name", r.body["given_name"], "Ann")
			mustEqualf(t, what+" family_name", r.body["family_name"], "Smith")
			if l, _ := r.body["locale"].(string); l == "" {
				t.Errorf("%s: no locale", what)
			}
			if !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
				t.Errorf("%s: Cache-Control %q", what, r.header.Get("Cache-Control"))
			}
		}

		// Only openid: only sub.
		narrow := newRP(t, u.issuer, id, secret, "openid")
		ntok, _ := narrow.signIn(newBrowser(t), "ann@example.org")
		r := send(t, http.MethodGet, endpoint, "Bearer "+ntok.AccessToken, nil)
		if r.status != http.StatusOK || len(r.body) != 1 || r.body["sub"] != ann.ID {
			t.Errorf("scope openid only: %d %s, want just sub", r.status, r.raw)
		}

		// No token: 401 with a Bearer challenge.
		for what, r := range map[string]apiResponse{
			"GET without a token":  send(t, http.MethodGet, endpoint, "", nil),
			"POST without a token": send(t, http.MethodPost, endpoint, "", url.Values{}),
		} {
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d WWW-Authenticate %q, want 401 with a Bearer challenge", what, r.status, r.header.Get("WWW-Authenticate"))
			}
		}
		// A bad token: 401 invalid_token.
		for what, auth := range map[string]string{"garbage": "Bearer garbage", "altered": "Bearer " + at + "x",
			"the refresh token": "Bearer " + tok.RefreshToken, "Basic credentials": basic(id, secret)} {
			r := send(t, http.MethodGet, endpoint, auth, nil)
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d WWW-Authenticate %q, want 401 with a Bearer challenge", what, r.status, r.header.Get("WWW-Authenticate"))
			}
			if what != "Basic credentials" && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("%s: WWW-Authenticate %q, want error=\"invalid_token\"", what, r.header.Get("WWW-Authenticate"))
			}
		}

		// A client credentials token (no openid scope): 403 insufficient_scope.
		svcID, svcSecret := u.resourceServer(u.inst)
		cc := wantTokens(t, "client credentials", u.tokenRequest(t, svcID, svcSecret,
			url.Values{"grant_type": {"client_credentials"}, "scope": {"tickets:read"}}))
		r = send(t, http.MethodGet, endpoint, "Bearer "+cc.str("access_token"), nil)
		if r.status != http.StatusForbidden || r.str("error") != "insufficient_scope" ||
			!strings.Contains(r.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("client credentials token at userinfo: %d %q %s, want 403 insufficient_scope", r.status,
				r.header.Get("WWW-Authenticate"), r.raw)
		}

		// After revocation: 401.
		if r := send(t, http.MethodPost, u.endpoint("/oauth2/revoke"), basic(id, secret), url.Values{"token": {at}}); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
		if s := u.userinfoStatus(t, at); s != http.StatusUnauthorized {
			t.Errorf("userinfo after revocation: %d, want 401", s)
		}
	})
}
