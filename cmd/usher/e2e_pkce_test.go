package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// PKCE: required for the clients that must use it (at the authorization
// endpoint, before any sign-in), S256 only, the verifier checked at the
// token endpoint without burning the code; a confidential client with PKCE
// switched off signs in without it, and a verifier made up for its code is
// refused.
func TestE2EPKCE(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		u.account(u.inst, storage.Customer, "ann@example.org")
		b := newBrowser(t)
		f := newFlow()

		wantRedirectedError(t, u, b, "no code_challenge", authParams(id, f, url.Values{"code_challenge": {""},
			"code_challenge_method": {""}}), "invalid_request")
		wantRedirectedError(t, u, b, "code_challenge_method=plain",
			authParams(id, f, url.Values{"code_challenge": {f.verifier}, "code_challenge_method": {"plain"}}), "invalid_request")
		wantRedirectedError(t, u, b, "code_challenge without a method (plain)",
			authParams(id, f, url.Values{"code_challenge_method": {""}}), "invalid_request")

		// A verifier of RFC 7636's whole alphabet, with . and ~.
		f.verifier = strings.Repeat("aZ09-._~", 6)
		got := b.authorize(u.authorizeURL(authParams(id, f, nil)), "ann@example.org", testPassword)
		code := got.Get("code")
		if code == "" {
			t.Fatalf("callback %v, want a code", got)
		}
		wantError(t, "wrong verifier", u.redeem(t, id, secret, code, oauth2.GenerateVerifier()), http.StatusBadRequest, "invalid_grant")
		wantError(t, "short verifier", u.redeem(t, id, secret, code, "abc"), http.StatusBadRequest, "invalid_grant")
		wantError(t, "no verifier (downgrade)", u.redeem(t, id, secret, code, ""), http.StatusBadRequest, "invalid_grant")
		wantTokens(t, "the right verifier after failed attempts", u.redeem(t, id, secret, code, f.verifier))
		wantError(t, "the right verifier a second time", u.redeem(t, id, secret, code, f.verifier), http.StatusBadRequest, "invalid_grant")

		// With a session, a plain challenge is still refused.
		wantRedirectedError(t, u, b, "code_challenge_method=plain with a session",
			authParams(id, newFlow(), url.Values{"code_challenge_method": {"plain"}}), "invalid_request")

		// A public client must use PKCE too.
		pub, _ := u.client(u.inst, provider.ClientSpec{Name: "App", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, Public: true})
		wantRedirectedError(t, u, b, "public client without code_challenge",
			authParams(pub, newFlow(), url.Values{"code_challenge": {""}, "code_challenge_method": {""}}), "invalid_request")

		// A confidential client with PKCE switched off.
		noPKCE, noPKCESecret := u.client(u.inst, provider.ClientSpec{Name: "Legacy shop",
			RedirectURIs: []string{testRedirectURI}, FirstParty: true, DisablePKCE: true})
		f2 := newFlow()
		got = b.authorize(u.authorizeURL(authParams(noPKCE, f2, url.Values{"code_challenge": {""},
			"code_challenge_method": {""}})), "ann@example.org", testPassword)
		if got.Get("code") == "" || got.Get("state") != f2.state {
			t.Fatalf("client without PKCE: callback %v, want a code", got)
		}
		wantError(t, "made-up verifier for a code without challenge", u.redeem(t, noPKCE, noPKCESecret, got.Get("code"),
			oauth2.GenerateVerifier()), http.StatusBadRequest, "invalid_grant")
		tok := wantTokens(t, "client without PKCE", u.redeem(t, noPKCE, noPKCESecret, got.Get("code"), ""))
		if tok.str("id_token") == "" {
			t.Error("client without PKCE: no ID token")
		}
	})
}
