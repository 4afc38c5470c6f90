package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// A relying party that knows only the issuer URL: discovery, sign-in, token
// exchange, ID token verification, userinfo, refresh, introspection,
// revocation and logout.
func TestCodeFlow(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		clientID, secret := u.shop()
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, clientID, secret)
		b := newBrowser(t)

		tok, id := shop.signIn(b, "ann@example.org")
		c := claimsOf(t, id)
		mustEqualf(t, "sub", id.Subject, ann.ID)
		mustEqualf(t, "amr", c["amr"], []any{"pwd"})
		mustEqualf(t, "acr", c["acr"], "1")
		mustEqualf(t, "email", c["email"], "ann@example.org")
		if c["auth_time"] == nil || c["sid"] == nil {
			t.Errorf("auth_time or sid missing: %v", c)
		}
		if tok.RefreshToken == "" {
			t.Error("no refresh token, although offline_access was granted")
		}

		info, err := shop.provider.UserInfo(shop.ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var claims map[string]any
		if err := info.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		mustEqualf(t, "userinfo sub", info.Subject, id.Subject)
		mustEqualf(t, "userinfo email_verified", claims["email_verified"], true)
		mustEqualf(t, "userinfo name", claims["name"], "Ann Smith")

		// Refresh: a new pair, the old refresh token rotated; the refreshed ID
		// token keeps iss, sub, aud and auth_time.
		expired := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
		fresh, err := shop.conf.TokenSource(shop.ctx, expired).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken || fresh.RefreshToken == "" {
			t.Error("refresh did not rotate the tokens")
		}
		id2 := shop.verify(fresh, "")
		c2 := claimsOf(t, id2)
		mustEqualf(t, "refreshed sub", id2.Subject, id.Subject)
		mustEqualf(t, "refreshed auth_time", c2["auth_time"], c["auth_time"])
		mustEqualf(t, "refreshed aud", id2.Audience, id.Audience)

		// Introspection by the token's own client.
		introspect := u.issuer + "/oauth2/introspect"
		status, got := post(t, introspect, clientID, secret, url.Values{"token": {fresh.AccessToken}})
		if status != http.StatusOK || got["active"] != true || got["sub"] != ann.ID || got["client_id"] != clientID {
			t.Errorf("introspection: %d %v", status, got)
		}
		if _, got := post(t, introspect, clientID, secret, url.Values{"token": {tok.AccessToken}}); got["active"] != false {
			t.Errorf("the access token replaced at refresh is still active: %v", got)
		}

		// Revocation ends the grant: refresh and access tokens.
		status, _ = post(t, u.issuer+"/oauth2/revoke", clientID, secret, url.Values{"token": {fresh.RefreshToken}})
		if status != http.StatusOK {
			t.Errorf("revoke: %d", status)
		}
		for _, token := range []string{fresh.RefreshToken, fresh.AccessToken} {
			if _, got := post(t, introspect, clientID, secret, url.Values{"token": {token}}); got["active"] != false {
				t.Errorf("a token of the revoked grant is active: %v", got)
			}
		}

		// RP-initiated logout, then prompt=none must ask for a sign-in.
		raw := tok.Extra("id_token").(string)
		logout := u.issuer + "/oauth2/logout?" + url.Values{"id_token_hint": {raw},
			"post_logout_redirect_uri": {"https://shop.example/bye"}, "state": {"s-._~"}}.Encode()
		resp, _ := b.visit(logout)
		if loc := resp.Header.Get("Location"); loc != "https://shop.example/bye?state=s-._~" && loc != "https://shop.example/bye?state=s-._%7E" {
			t.Errorf("logout redirect %d %q", resp.StatusCode, loc)
		}
		f := newFlow()
		got2 := b.authorize(shop.authURL(f, oauth2.SetAuthURLParam("prompt", "none")), "", "")
		mustEqualf(t, "prompt=none after logout", got2.Get("error"), "login_required")
	})
}
