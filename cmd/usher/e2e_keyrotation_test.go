package main

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Key rotation: ID tokens signed before and after a rotation both verify
// (go-oidc refetches the JWKS on an unknown kid), with different kids, both
// published; a refreshed ID token is signed with the new key; ES256 clients
// get ES256 ID tokens; the old ID token still works as id_token_hint at
// logout.
func TestE2EKeyRotation(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		esID, esSecret := u.client(u.inst, provider.ClientSpec{Name: "ES shop", RedirectURIs: []string{testRedirectURI},
			PostLogoutRedirectURIs: []string{"https://shop.example/bye"}, FirstParty: true, IDTokenAlg: "ES256"})
		u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		es := newRP(t, u.issuer, esID, esSecret)
		es.verifier = es.provider.Verifier(&oidc.Config{ClientID: esID, SupportedSigningAlgs: []string{oidc.ES256}})

		b := newBrowser(t)
		tok1, _ := shop.signIn(b, "ann@example.org")
		raw1 := tok1.Extra("id_token").(string)
		h1, _ := jwtParts(t, raw1)
		esTok1, _ := es.signIn(b, "")
		eh1, _ := jwtParts(t, esTok1.Extra("id_token").(string))
		if eh1["alg"] != "ES256" || h1["alg"] != "RS256" {
			t.Fatalf("algorithms: RS256 client %v, ES256 client %v", h1["alg"], eh1["alg"])
		}
		if !slices.Contains(publishedKIDs(t, u)["ES256"], eh1["kid"].(string)) {
			t.Errorf("the ES256 kid %v is not published as ES256", eh1["kid"])
		}

		if err := u.a.provider.RotateKeys(context.Background(), "demo"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond) // the provider checks the version at most every second

		tok2, _ := shop.signIn(b, "")
		raw2 := tok2.Extra("id_token").(string)
		h2, _ := jwtParts(t, raw2)
		if h2["kid"] == h1["kid"] {
			t.Fatalf("the ID token after the rotation has the old kid %v", h1["kid"])
		}
		kids := publishedKIDs(t, u)
		for _, kid := range []any{h1["kid"], h2["kid"]} {
			if !slices.Contains(kids["RS256"], kid.(string)) {
				t.Errorf("kid %v is not published: %v", kid, kids)
			}
		}
		// Both verify with the same relying party (its key cache holds the
		// old keys only; the new kid makes it refetch).
		for name, raw := range map[string]string{"before": raw1, "after": raw2} {
			if _, err := shop.verifier.Verify(shop.ctx, raw); err != nil {
				t.Errorf("ID token from %s the rotation: %v", name, err)
			}
		}

		// A refresh of the grant from before the rotation: signed with the new key.
		ref := wantTokens(t, "refresh after the rotation", u.refresh(t, id, secret, tok1.RefreshToken))
		rh, _ := jwtParts(t, ref.str("id_token"))
		mustEqualf(t, "kid of the refreshed ID token", rh["kid"], h2["kid"])
		shop.verify(tokenOf(ref), "")

		// ES256 after the rotation: a new ES256 key.
		esTok2, _ := es.signIn(b, "")
		eh2, _ := jwtParts(t, esTok2.Extra("id_token").(string))
		if eh2["alg"] != "ES256" || eh2["kid"] == eh1["kid"] {
			t.Errorf("ES256 after the rotation: header %v (before: %v)", eh2, eh1)
		}
		esRef := wantTokens(t, "ES256 refresh after the rotation", u.refresh(t, esID, esSecret, esTok1.RefreshToken))
		if erh, _ := jwtParts(t, esRef.str("id_token")); erh["alg"] != "ES256" || erh["kid"] != eh2["kid"] {
			t.Errorf("refreshed ES256 ID token header %v, want ES256 with kid %v", erh, eh2["kid"])
		}
		es.verify(tokenOf(esRef), "")

		// The old ID token still works as id_token_hint of a silent request.
		silentCode(t, u, shop, b, "prompt=none with the ID token from before the rotation",
			url.Values{"prompt": {"none"}, "id_token_hint": {raw1}})

		// Logout with the old ID token of the ES256 client as hint.
		logout := u.endpoint("/oauth2/logout") + "?" + url.Values{"id_token_hint": {esTok1.Extra("id_token").(string)},
			"post_logout_redirect_uri": {"https://shop.example/bye"}, "state": {"st8"}}.Encode()
		resp, body := b.open(logout)
		if loc := resp.Header.Get("Location"); loc != "https://shop.example/bye?state=st8" {
			t.Errorf("logout with the old ES256 ID token: %d Location %q\n%.300s", resp.StatusCode, loc, body)
		}
		// And with the old RS256 one (the browser is signed out by now:
		// the hint still has to verify).
		logout = u.endpoint("/oauth2/logout") + "?" + url.Values{"id_token_hint": {raw1},
			"post_logout_redirect_uri": {"https://shop.example/bye"}}.Encode()
		resp, body = b.open(logout)
		if loc := resp.Header.Get("Location"); loc != "https://shop.example/bye" {
			t.Errorf("logout with the old RS256 ID token: %d Location %q\n%.300s", resp.StatusCode, loc, body)
		}
	})
}
