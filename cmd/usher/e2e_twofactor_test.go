package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// totpCode is the code of secret at now plus offset, as an authenticator
// app computes it.
func totpCode(t *testing.T, secret string, offset time.Duration) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, time.Now().Add(offset), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// claimsOfToken are the claims of a verified ID token.
func claimsOfToken(t *testing.T, idt *oidc.IDToken) map[string]any {
	t.Helper()
	var c map[string]any
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantTwoFactors checks the amr and acr of an ID token of a sign-in with
// two factors (RFC 8176).
func wantTwoFactors(t *testing.T, what string, c map[string]any) {
	t.Helper()
	var amr []string
	for _, m := range c["amr"].([]any) {
		amr = append(amr, m.(string))
	}
	if !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) || c["acr"] != "2" {
		t.Errorf("%s: amr %v, acr %v; want [pwd otp mfa] and 2", what, c["amr"], c["acr"])
	}
}

var keyField = regexp.MustCompile(`<code class="key">([A-Z2-7 ]+)</code>`)

// An operator who must use two-factor enrols at the first sign-in to the
// box office and reaches it with an ID token of two factors, which a
// refresh keeps; the next sign-in asks for a code.
func TestE2ETwoFactorOperator(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.client(u.inst, provider.ClientSpec{Name: "Box office", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, AccountKind: storage.Operator})
		op := u.account(u.inst, storage.Operator, "otto@example.org")
		op.TwoFactorRequired = true
		if err := u.a.store.In(u.inst.ID).UpdateAccount(context.Background(), op); err != nil {
			t.Fatal(err)
		}
		box := newRP(t, u.issuer, id, secret)
		b := newBrowser(t)
		f := newFlow()
		resp, body := b.open(box.authURL(f))
		resp, body = b.submit(resp, body, url.Values{"email": {"otto@example.org"}, "password": {testPassword}})
		m := keyField.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/2fa/setup") || m == nil {
			t.Fatalf("after the password: %d at %s, want the enrolment\n%.1500s", resp.StatusCode, resp.Request.URL, body)
		}
		key := strings.ReplaceAll(m[1], " ", "")
		resp, body = b.submit(resp, body, url.Values{"code": {totpCode(t, key, 0)}})
		next := regexp.MustCompile(`<a class="button" href="([^"]*)"`).FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || next == nil || strings.Count(body, "<li><code>") != 10 {
			t.Fatalf("after the first code: %d\n%.1500s", resp.StatusCode, body)
		}
		resp, body = b.open(u.url + htmlUnescape(next[1]))
		got := callback(t, resp, body)
		tok, idt := box.exchange(got.Get("code"), f)
		wantTwoFactors(t, "the ID token after enrolling", claimsOfToken(t, idt))

		refreshed, err := box.conf.TokenSource(box.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		idt2, err := box.verifier.Verify(box.ctx, refreshed.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		wantTwoFactors(t, "the ID token after a refresh", claimsOfToken(t, idt2))

		b2 := newBrowser(t)
		resp, body = b2.open(box.authURL(newFlow()))
		resp, body = b2.submit(resp, body, url.Values{"email": {"otto@example.org"}, "password": {testPassword}})
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/login/2fa") {
			t.Fatalf("the next sign-in: %d at %s, want the code", resp.StatusCode, resp.Request.URL)
		}
	})
}

// No path issues a code without the second factor where it is required: a
// browser signed in with a password at the shop is asked for it at a
// client that requires two-factor, and at the shop when acr_values ask for
// two factors; prompt=none answers interaction_required.
func TestE2ETwoFactorStepUp(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		shopID, shopSecret := u.shop()
		vipID, vipSecret := u.client(u.inst, provider.ClientSpec{Name: "VIP lounge", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, RequireTwoFactor: true})
		u.account(u.inst, storage.Customer, "ann@example.org")
		shop, vip := newRP(t, u.issuer, shopID, shopSecret), newRP(t, u.issuer, vipID, vipSecret)
		b := newBrowser(t)
		_, idt := shop.signIn(b, "ann@example.org")
		if c := claimsOfToken(t, idt); c["acr"] != "1" {
			t.Fatalf("a password sign-in: acr %v", c["acr"])
		}

		for _, tc := range []struct {
			what string
			url  string
		}{
			{"a client requiring two-factor", vip.authURL(newFlow())},
			{"acr_values=2 at the shop", shop.authURL(newFlow(), oauth2.SetAuthURLParam("acr_values", "2"))},
		} {
			resp, body := b.open(tc.url)
			if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/2fa/setup") ||
				b.visitedPage("/login") {
				t.Errorf("%s with a password-only session: %d at %s, want the second factor (enrolment)\n%.500s",
					tc.what, resp.StatusCode, resp.Request.URL, body)
			}
		}
		resp, body := b.open(vip.authURL(newFlow(), oauth2.SetAuthURLParam("prompt", "none")))
		got := callback(t, resp, body)
		if got.Get("error") != "interaction_required" || got.Get("code") != "" {
			t.Errorf("prompt=none at a client requiring two-factor: %v", got)
		}

		// The step-up done (enrolment from the signed-in session), the
		// request resumes with both factors, and the shop's acr_values=2 is
		// met without asking again.
		f := newFlow()
		resp, body = b.open(vip.authURL(f))
		m := keyField.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no enrolment at the VIP lounge: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		resp, body = b.submit(resp, body, url.Values{"code": {totpCode(t, strings.ReplaceAll(m[1], " ", ""), 0)}})
		next := regexp.MustCompile(`<a class="button" href="([^"]*)"`).FindStringSubmatch(body)
		if next == nil {
			t.Fatalf("after the first code: %d\n%.1000s", resp.StatusCode, body)
		}
		resp, body = b.open(u.url + htmlUnescape(next[1]))
		_, idt = vip.exchange(callback(t, resp, body).Get("code"), f)
		wantTwoFactors(t, "the VIP lounge after the step-up", claimsOfToken(t, idt))
		f = newFlow()
		resp, body = b.open(shop.authURL(f, oauth2.SetAuthURLParam("acr_values", "2")))
		_, idt = shop.exchange(callback(t, resp, body).Get("code"), f)
		wantTwoFactors(t, "the shop with acr_values=2 after the step-up", claimsOfToken(t, idt))
	})
}
