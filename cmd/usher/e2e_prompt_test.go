package main

import (
	"net/url"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// reauthenticate runs an authorization request that must show the sign-in
// page, signs in, and returns the ID token claims.
func reauthenticate(t *testing.T, u *usherServer, shop *rp, b *browser, what string, extra url.Values) map[string]any {
	t.Helper()
	f := newFlow()
	resp, body := b.open(u.authorizeURL(authParams(shop.conf.ClientID, f, extra)))
	if !onSignInPage(resp) {
		t.Fatalf("%s: %d at %s, want the sign-in page", what, resp.StatusCode, resp.Request.URL)
	}
	resp, body = b.submit(resp, body, url.Values{"email": {"ann@example.org"}, "password": {testPassword}})
	got := callback(t, resp, body)
	if got.Get("code") == "" || got.Get("state") != f.state {
		t.Fatalf("%s: callback %v, want a code", what, got)
	}
	_, id := shop.exchange(got.Get("code"), f)
	return claimsOf(t, id)
}

// prompt and max_age: prompt=none answers login_required without a
// session and a code with one (also with id_token_hint); prompt=login and
// an exceeded max_age force a new sign-in whose auth_time is later;
// max_age within the session keeps auth_time.
func TestE2EPromptAndMaxAge(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		u.account(u.inst, storage.Customer, "bob@example.org")
		shop := newRP(t, u.issuer, id, secret)
		b := newBrowser(t)

		wantRedirectedError(t, u, b, "prompt=none without a session", authParams(id, newFlow(), url.Values{"prompt": {"none"}}),
			"login_required")

		tok, id1 := shop.signIn(b, "ann@example.org")
		c1 := claimsOf(t, id1)
		hint := tok.Extra("id_token").(string)

		c := silentCode(t, u, shop, b, "prompt=none with a session", url.Values{"prompt": {"none"}})
		mustEqualf(t, "prompt=none sub", c["sub"], ann.ID)
		mustEqualf(t, "prompt=none auth_time", c["auth_time"], c1["auth_time"])
		c = silentCode(t, u, shop, b, "prompt=none with id_token_hint", url.Values{"prompt": {"none"}, "id_token_hint": {hint}})
		mustEqualf(t, "prompt=none with id_token_hint sub", c["sub"], ann.ID)
		c = silentCode(t, u, shop, b, "max_age=10000", url.Values{"max_age": {"10000"}})
		mustEqualf(t, "max_age=10000 auth_time", c["auth_time"], c1["auth_time"])

		// A hint naming somebody else: not silently ann.
		bobHint := idTokenOf(t, u, shop, "bob@example.org")
		wantRedirectedError(t, u, b, "prompt=none with another person's id_token_hint",
			authParams(id, newFlow(), url.Values{"prompt": {"none"}, "id_token_hint": {bobHint}}), "login_required")

		time.Sleep(1100 * time.Millisecond) // auth_time has a resolution of a second
		c2 := reauthenticate(t, u, shop, b, "prompt=login with a session", url.Values{"prompt": {"login"}})
		if numberClaim(t, c2, "auth_time").Compare(numberClaim(t, c1, "auth_time")) <= 0 {
			t.Errorf("prompt=login: auth_time %v is not later than %v", c2["auth_time"], c1["auth_time"])
		}
		mustEqualf(t, "prompt=login sub", c2["sub"], ann.ID)

		time.Sleep(2 * time.Second)
		c3 := reauthenticate(t, u, shop, b, "max_age=1 after 2 s", url.Values{"max_age": {"1"}})
		if numberClaim(t, c3, "auth_time").Compare(numberClaim(t, c2, "auth_time")) <= 0 {
			t.Errorf("max_age=1: auth_time %v is not later than %v", c3["auth_time"], c2["auth_time"])
		}
		// max_age=0 is "sign in now" too.
		time.Sleep(1100 * time.Millisecond)
		c4 := reauthenticate(t, u, shop, b, "max_age=0", url.Values{"max_age": {"0"}})
		if numberClaim(t, c4, "auth_time").Compare(numberClaim(t, c3, "auth_time")) <= 0 {
			t.Errorf("max_age=0: auth_time %v is not later than %v", c4["auth_time"], c3["auth_time"])
		}

		// Combinations: never a server error.
		for _, extra := range []url.Values{
			{"prompt": {"login", "none"}},
			{"prompt": {"none", "login"}},
			{"prompt": {"login none"}},
			{"prompt": {"none consent"}},
			{"prompt": {"bogus"}},
			{"max_age": {"-1"}},
			{"max_age": {"soon"}},
		} {
			resp, body := b.open(u.authorizeURL(authParams(id, newFlow(), extra)))
			if resp.StatusCode >= 500 {
				t.Errorf("%v: %d", extra, resp.StatusCode)
				continue
			}
			if onSignInPage(resp) {
				continue
			}
			got := callback(t, resp, body)
			if got.Get("code") == "" {
				checkErrorRedirect(t, extra.Encode(), got)
			}
			if extra.Get("prompt") == "login none" || extra.Get("prompt") == "none consent" || extra.Get("prompt") == "bogus" {
				mustEqualf(t, extra.Encode()+" error", got.Get("error"), "invalid_request")
			}
		}
	})
}
