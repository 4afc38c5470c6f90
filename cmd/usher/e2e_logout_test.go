package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v3"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

const byeURI = "https://shop.example/bye"

// logoutURL is the end-session endpoint with these parameters.
func (u *usherServer) logoutURL(params url.Values) string {
	return u.endpoint("/oauth2/logout") + "?" + params.Encode()
}

// wantSessionAlive checks that the browser is still signed in: prompt=none
// gives a code.
func wantSessionAlive(t *testing.T, u *usherServer, shop *rp, b *browser, what string) {
	t.Helper()
	f := newFlow()
	resp, body := b.open(u.authorizeURL(authParams(shop.conf.ClientID, f, url.Values{"prompt": {"none"}})))
	if got := callback(t, resp, body); got.Get("code") == "" {
		t.Errorf("after %s the browser is signed out: %v", what, got)
	}
}

// wantSignedOut checks that prompt=none now answers login_required.
func wantSignedOut(t *testing.T, u *usherServer, shop *rp, b *browser, what string) {
	t.Helper()
	resp, body := b.open(u.authorizeURL(authParams(shop.conf.ClientID, newFlow(), url.Values{"prompt": {"none"}})))
	if got := callback(t, resp, body); got.Get("error") != "login_required" {
		t.Errorf("after %s, prompt=none: %v, want login_required", what, got)
	}
}

// forge returns the ID token raw with its header replaced and signature as
// its signature part ("" for none).
func forge(t *testing.T, raw string, header map[string]any, signature string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	h, _ := json.Marshal(header)
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + signature
}

// RP-initiated logout as the conformance suite checks it: with a valid
// id_token_hint and a registered post_logout_redirect_uri, the browser is
// signed out and redirected with exactly the state; anything doubtful
// (another URI, a query added, a forged hint, no hint and no client) is
// refused with an error page and nobody is signed out; no parameters at
// all sign out onto the signed-out page.
func TestE2ELogout(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		u.account(u.inst, storage.Customer, "ann@example.org")
		otherID, _ := u.client(u.inst, provider.ClientSpec{Name: "Other shop", RedirectURIs: []string{testRedirectURI},
			PostLogoutRedirectURIs: []string{"https://other.example/bye"}, FirstParty: true})
		shop := newRP(t, u.issuer, id, secret)
		b := newBrowser(t)

		// With hint, registered URI and state: exactly that state back.
		tok, _ := shop.signIn(b, "ann@example.org")
		hint := tok.Extra("id_token").(string)
		state := strings.Repeat("S", 100) + "-._~ &=?/"
		resp, _ := b.open(u.logoutURL(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {byeURI}, "state": {state}}))
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode/100 != 3 {
			t.Fatalf("logout: %d %q, want a redirect", resp.StatusCode, resp.Header.Get("Location"))
		}
		q := loc.Query()
		if loc.Scheme+"://"+loc.Host+loc.Path != byeURI || len(q) != 1 || q.Get("state") != state || loc.Fragment != "" {
			t.Errorf("logout redirect %q, want %s with exactly state %q", loc, byeURI, state)
		}
		wantSignedOut(t, u, shop, b, "logout with state")

		// Without state: no state.
		tok, _ = shop.signIn(b, "ann@example.org")
		hint = tok.Extra("id_token").(string)
		resp, _ = b.open(u.logoutURL(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {byeURI}}))
		if loc := resp.Header.Get("Location"); loc != byeURI {
			t.Errorf("logout without state: Location %q, want %s", loc, byeURI)
		}
		wantSignedOut(t, u, shop, b, "logout without state")

		// Refused requests: an error page, no redirect, still signed in.
		tok, _ = shop.signIn(b, "ann@example.org")
		hint = tok.Extra("id_token").(string)
		header, _ := jwtParts(t, hint)
		parts := strings.Split(hint, ".")
		hs256 := func() string {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)},
				(&jose.SignerOptions{}).WithHeader("kid", header["kid"]).WithType("JWT"))
			if err != nil {
				t.Fatal(err)
			}
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			jws, err := signer.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := jws.CompactSerialize()
			return s
		}()
		none := map[string]any{"alg": "none", "kid": header["kid"], "typ": "JWT"}
		refused := map[string]url.Values{
			"an unregistered post_logout_redirect_uri": {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/bye"}},
			"a query added to the registered URI":      {"id_token_hint": {hint}, "post_logout_redirect_uri": {byeURI + "?x=1"}},
			"a path added to the registered URI":       {"id_token_hint": {hint}, "post_logout_redirect_uri": {byeURI + "/x"}},
			"another client's registered URI":          {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://other.example/bye"}},
			"a hint altered to alg none":               {"id_token_hint": {forge(t, hint, none, "")}, "post_logout_redirect_uri": {byeURI}},
			"a hint altered to alg none, signed":       {"id_token_hint": {forge(t, hint, none, parts[2])}, "post_logout_redirect_uri": {byeURI}},
			"a hint signed HS256 with the secret":      {"id_token_hint": {hs256}, "post_logout_redirect_uri": {byeURI}},
			"a hint with its payload altered":          {"id_token_hint": {parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","aud":"`+id+`"}`)) + "." + parts[2]}, "post_logout_redirect_uri": {byeURI}},
			"no hint and no client_id":                 {"post_logout_redirect_uri": {byeURI}, "state": {"s1"}},
			"a hint and another client_id":             {"id_token_hint": {hint}, "client_id": {otherID}, "post_logout_redirect_uri": {byeURI}},
			"garbage as hint":                          {"id_token_hint": {"garbage"}, "post_logout_redirect_uri": {byeURI}},
		}
		for what, params := range refused {
			resp, body := b.open(u.logoutURL(params))
			if loc := resp.Header.Get("Location"); loc != "" || resp.StatusCode != http.StatusBadRequest {
				t.Errorf("logout with %s: %d Location %q, want a 400 error page", what, resp.StatusCode, loc)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || strings.Contains(body, "evil.example") {
				t.Errorf("logout with %s: not a plain HTML error page", what)
			}
			wantSessionAlive(t, u, shop, b, "a logout with "+what)
		}
		// The same by POST.
		r, err := b.http.PostForm(u.endpoint("/oauth2/logout"), url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/bye"}})
		if err != nil {
			t.Fatal(err)
		}
		resp, _ = b.read(r)
		if resp.Header.Get("Location") != "" || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST logout to an unregistered URI: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		wantSessionAlive(t, u, shop, b, "a refused POST logout")

		// A POST logout with a valid hint works as the GET does.
		r, err = b.http.PostForm(u.endpoint("/oauth2/logout"), url.Values{"id_token_hint": {hint},
			"post_logout_redirect_uri": {byeURI}, "state": {"p"}})
		if err != nil {
			t.Fatal(err)
		}
		resp, _ = b.read(r)
		if loc := resp.Header.Get("Location"); loc != byeURI+"?state=p" {
			t.Errorf("POST logout: %d %q", resp.StatusCode, loc)
		}
		wantSignedOut(t, u, shop, b, "POST logout")

		// No hint (no parameters at all, or only state): any site could send
		// the browser there, so nobody is signed out at once; the sign-out
		// page asks, and a same-origin POST signs out.
		for what, q := range map[string]url.Values{"no parameters": nil, "only state": {"state": {"only"}}} {
			shop.signIn(b, "ann@example.org")
			resp, body := b.open(u.logoutURL(q))
			if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/logout") ||
				!strings.Contains(body, `action="/institutions/demo/logout"`) || strings.Contains(resp.Request.URL.RawQuery, "only") {
				t.Errorf("logout with %s: %d at %s, want the confirmation\n%.500s", what, resp.StatusCode, resp.Request.URL, body)
			}
			wantSessionAlive(t, u, shop, b, "logout with "+what+", before confirming")
			resp, body = b.submit(resp, body, url.Values{})
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You have signed out") {
				t.Errorf("logout with %s, confirmed: %d at %s", what, resp.StatusCode, resp.Request.URL)
			}
			wantSignedOut(t, u, shop, b, "logout with "+what+", confirmed")
		}

		// A hint without redirect URI: signed out, on the signed-out page.
		tok, _ = shop.signIn(b, "ann@example.org")
		resp, body := b.open(u.logoutURL(url.Values{"id_token_hint": {tok.Extra("id_token").(string)}}))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You have signed out") {
			t.Errorf("logout with only a hint: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		wantSignedOut(t, u, shop, b, "logout with only a hint")
	})
}
