package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// What the OpenID conformance suite checks of the authorization endpoint:
// state echoed exactly, POST requests, unknown and optional parameters
// accepted (login_hint pre-fills the email, ui_locales picks the language),
// request objects refused with request_not_supported after the redirect URI
// is trusted, acr_values honoured.
func TestE2EConformanceAuthorization(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)

		t.Run("optional parameters, login_hint, ui_locales", func(t *testing.T) {
			b := newBrowser(t)
			f := newFlow()
			q := authParams(id, f, url.Values{"extra": {"foobar"}, "display": {"page"}, "claims_locales": {"fr"},
				"login_hint": {"ann@example.org"}, "ui_locales": {"fr"},
				"claims": {`{"userinfo":{"name":{"essential":true}}}`}, "response_mode": {"query"}})
			resp, body := b.open(u.authorizeURL(q))
			if !onSignInPage(resp) {
				t.Fatalf("%d at %s, want the sign-in page:\n%.1000s", resp.StatusCode, resp.Request.URL, body)
			}
			if !regexp.MustCompile(`<input[^>]*name="email"[^>]*value="ann@example.org"`).MatchString(body) {
				t.Error("login_hint did not pre-fill the email field")
			}
			if !strings.Contains(body, `<html lang="fr"`) {
				t.Errorf("ui_locales=fr: the sign-in page is not in French: %.200s", body)
			}
			resp, body = b.submit(resp, body, url.Values{"email": {"ann@example.org"}, "password": {testPassword}})
			got := callback(t, resp, body)
			if got.Get("code") == "" || got.Get("state") != f.state {
				t.Fatalf("callback %v", got)
			}
			_, idt := shop.exchange(got.Get("code"), f)
			mustEqualf(t, "sub", idt.Subject, ann.ID)
		})

		t.Run("state of 128 characters", func(t *testing.T) {
			b := newBrowser(t)
			f := newFlow()
			f.state = strings.Repeat("aB3", 41) + "x-._~" // 128 characters
			if len(f.state) != 128 {
				t.Fatalf("state of %d characters", len(f.state))
			}
			got := b.authorize(u.authorizeURL(authParams(id, f, nil)), "ann@example.org", testPassword)
			if got.Get("state") != f.state || got.Get("code") == "" {
				t.Errorf("callback state %q, want %q", got.Get("state"), f.state)
			}
			// And with the session, silently.
			f.verifier = oauth2.GenerateVerifier()
			resp, body := b.open(u.authorizeURL(authParams(id, f, nil)))
			if got := callback(t, resp, body); got.Get("state") != f.state {
				t.Errorf("silent callback state %q, want %q", got.Get("state"), f.state)
			}
		})

		t.Run("POST", func(t *testing.T) {
			b := newBrowser(t)
			f := newFlow()
			resp, err := b.http.PostForm(u.endpoint("/oauth2/authorize"), authParams(id, f, nil))
			if err != nil {
				t.Fatal(err)
			}
			resp, body := b.read(resp)
			if !onSignInPage(resp) {
				t.Fatalf("POST authorization: %d at %s, want the sign-in page:\n%.1000s", resp.StatusCode, resp.Request.URL, body)
			}
			resp, body = b.submit(resp, body, url.Values{"email": {"ann@example.org"}, "password": {testPassword}})
			got := callback(t, resp, body)
			if got.Get("state") != f.state || got.Get("iss") != u.issuer {
				t.Fatalf("POST authorization callback %v", got)
			}
			shop.exchange(got.Get("code"), f)

			// With the session: the code straight away.
			f = newFlow()
			resp, err = b.http.PostForm(u.endpoint("/oauth2/authorize"), authParams(id, f, nil))
			if err != nil {
				t.Fatal(err)
			}
			resp, body = b.read(resp)
			got = callback(t, resp, body)
			if got.Get("code") == "" || got.Get("state") != f.state {
				t.Fatalf("POST authorization with a session: %v", got)
			}
		})

		t.Run("request objects", func(t *testing.T) {
			b := newBrowser(t)
			f := newFlow()
			enc := base64.RawURLEncoding.EncodeToString
			claims, _ := json.Marshal(map[string]any{"iss": id, "aud": u.issuer, "client_id": id,
				"response_type": "code", "redirect_uri": testRedirectURI, "scope": "openid", "state": f.state})
			unsigned := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(claims) + "."
			wantRedirectedError(t, u, b, "request object", authParams(id, f, url.Values{"request": {unsigned}}),
				"request_not_supported")
			wantRedirectedError(t, u, b, "request_uri", authParams(id, f, url.Values{"request_uri": {"https://shop.example/request.jwt"}}),
				"request_uri_not_supported")
			// With an unregistered redirect URI it is still never redirected.
			resp, body := rawGet(t, u.authorizeURL(authParams(id, f, url.Values{"request": {unsigned},
				"redirect_uri": {"https://evil.example/cb"}})))
			wantErrorPage(t, "request object with an unregistered redirect URI", resp, body)
		})

		t.Run("acr_values", func(t *testing.T) {
			b := newBrowser(t)
			_, idt := shop.signIn(b, "ann@example.org", oauth2.SetAuthURLParam("acr_values", "1 2"))
			if acr := claimsOf(t, idt)["acr"]; acr != "1" {
				t.Errorf("acr_values=\"1 2\" after a password sign-in: acr %v, want \"1\"", acr)
			}
		})
	})
}

// The ID token's claims and header, and the token response, as the suite
// checks them; a refreshed ID token keeps iss, sub, aud, auth_time with a new iat.
func TestE2EConformanceTokens(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		code, f := shop.code(newBrowser(t), "ann@example.org")
		before := time.Now().Add(-5 * time.Second)
		tok := wantTokens(t, "code exchange", u.redeem(t, id, secret, code, f.verifier))
		checkTokenResponse(t, "code exchange", tok)

		rawID := tok.str("id_token")
		header, c := jwtParts(t, rawID)
		if header["alg"] != "RS256" || header["kid"] == nil || header["kid"] == "" {
			t.Errorf("ID token header %v, want alg RS256 and a kid", header)
		}
		mustEqualf(t, "iss", c["iss"], u.issuer)
		mustEqualf(t, "sub", c["sub"], ann.ID)
		if sub, _ := c["sub"].(string); len(sub) == 0 || len(sub) > 255 || !isASCII(sub) {
			t.Errorf("sub %q: want 1-255 ASCII characters", sub)
		}
		if !slices.Contains(audience(c["aud"]), id) {
			t.Errorf("aud %v does not contain the client %s", c["aud"], id)
		}
		mustEqualf(t, "nonce", c["nonce"], f.nonce)
		iat := numberClaim(t, c, "iat")
		if iat.Before(before) || iat.After(time.Now().Add(5*time.Second)) {
			t.Errorf("iat %v is not now", iat)
		}
		if exp := numberClaim(t, c, "exp"); !exp.After(time.Now()) {
			t.Errorf("exp %v is not in the future", exp)
		}
		numberClaim(t, c, "auth_time")
		if acr, ok := c["acr"].(string); !ok || acr == "" {
			t.Errorf("acr %v, want a non-empty string", c["acr"])
		}
		for _, private := range []string{"password", "password_hash", "secret"} {
			if _, ok := c[private]; ok {
				t.Errorf("the ID token carries %s", private)
			}
		}
		// go-oidc checks the signature, iss, aud, exp and at_hash.
		shop.verify(tokenOf(tok), f.nonce)

		time.Sleep(1100 * time.Millisecond) // so that the new iat differs
		ref := wantTokens(t, "refresh", u.refresh(t, id, secret, tok.str("refresh_token")))
		checkTokenResponse(t, "refresh", ref)
		if ref.str("id_token") == "" {
			t.Fatal("no ID token at refresh")
		}
		_, c2 := jwtParts(t, ref.str("id_token"))
		for _, k := range []string{"iss", "sub", "aud", "auth_time", "azp", "acr", "amr", "sid"} {
			mustEqualf(t, "refreshed "+k, c2[k], c[k])
		}
		if !numberClaim(t, c2, "iat").After(iat) {
			t.Errorf("refreshed iat %v is not later than %v", c2["iat"], c["iat"])
		}
		shop.verify(tokenOf(ref), "")
	})
}

// checkTokenResponse checks a successful token response's form: no-store,
// token_type Bearer, expires_in > 0, an ID token.
func checkTokenResponse(t *testing.T, what string, r apiResponse) {
	t.Helper()
	if !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", what, r.header.Get("Cache-Control"))
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	if !strings.EqualFold(r.str("token_type"), "Bearer") {
		t.Errorf("%s: token_type %q, want Bearer", what, r.str("token_type"))
	}
	if n, ok := r.body["expires_in"].(float64); !ok || n <= 0 {
		t.Errorf("%s: expires_in %v, want a positive number", what, r.body["expires_in"])
	}
	if r.str("id_token") == "" {
		t.Errorf("%s: no id_token", what)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// audience reads an aud claim: a string or a list.
func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, s := range a {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// The discovery document has every field the suite checks, with the right
// values; the JWKS has only public keys, each with a unique kid, use sig and
// alg, and the ID token's kid names one of them.
func TestE2EConformanceDiscoveryAndKeys(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		u.account(u.inst, storage.Customer, "ann@example.org")

		const suffix = "/.well-known/openid-configuration"
		r := send(t, http.MethodGet, u.issuer+suffix, "", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("discovery: %d %s", r.status, r.header.Get("Content-Type"))
		}
		d := r.body
		mustEqualf(t, "issuer", d["issuer"], strings.TrimSuffix(u.issuer+suffix, suffix))
		for field, path := range map[string]string{"authorization_endpoint": "/oauth2/authorize", "token_endpoint": "/oauth2/token",
			"userinfo_endpoint": "/oauth2/userinfo", "jwks_uri": "/jwks", "end_session_endpoint": "/oauth2/logout",
			"introspection_endpoint": "/oauth2/introspect", "revocation_endpoint": "/oauth2/revoke"} {
			mustEqualf(t, field, d[field], u.issuer+path)
		}
		list := func(field string) []string {
			var out []string
			raw, ok := d[field].([]any)
			if !ok {
				t.Errorf("%s = %v, want a list", field, d[field])
			}
			for _, v := range raw {
				s, _ := v.(string)
				out = append(out, s)
			}
			return out
		}
		wantAll := func(field string, want ...string) {
			got := list(field)
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("%s = %v, want it to contain %s", field, got, w)
				}
			}
		}
		mustEqualf(t, "response_types_supported", list("response_types_supported"), []string{"code"})
		mustEqualf(t, "subject_types_supported", list("subject_types_supported"), []string{"public"})
		mustEqualf(t, "code_challenge_methods_supported", list("code_challenge_methods_supported"), []string{"S256"})
		wantAll("id_token_signing_alg_values_supported", "RS256")
		wantAll("scopes_supported", "openid", "offline_access", "profile", "email")
		wantAll("claims_supported", "sub", "iss", "auth_time", "acr", "email", "email_verified", "name", "updated_at")
		wantAll("grant_types_supported", "authorization_code", "refresh_token")
		wantAll("token_endpoint_auth_methods_supported", "client_secret_basic", "client_secret_post")
		wantAll("acr_values_supported", "1", "2")
		bcp47 := regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
		locales := list("ui_locales_supported")
		if len(locales) == 0 {
			t.Error("ui_locales_supported is empty")
		}
		for _, l := range locales {
			if !bcp47.MatchString(l) {
				t.Errorf("ui_locales_supported: %q is not a BCP 47 tag", l)
			}
		}
		for _, alg := range list("id_token_signing_alg_values_supported") {
			if alg == "none" || strings.HasPrefix(alg, "HS") {
				t.Errorf("id_token_signing_alg_values_supported advertises %s", alg)
			}
		}
		if d["request_parameter_supported"] == true || d["request_uri_parameter_supported"] == true {
			t.Error("request objects are advertised")
		}
		if _, ok := d["request_object_signing_alg_values_supported"]; ok {
			t.Error("request object algorithms are advertised")
		}
		mustEqualf(t, "authorization_response_iss_parameter_supported", d["authorization_response_iss_parameter_supported"], true)

		// JWKS.
		jr := send(t, http.MethodGet, u.issuer+"/jwks", "", nil)
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal([]byte(jr.raw), &set); err != nil || jr.status != http.StatusOK || len(set.Keys) == 0 {
			t.Fatalf("JWKS: %d %v %.200s", jr.status, err, jr.raw)
		}
		kids := map[string]bool{}
		for _, k := range set.Keys {
			kid, _ := k["kid"].(string)
			if kid == "" || kids[kid] {
				t.Errorf("JWKS key with empty or repeated kid %q", kid)
			}
			kids[kid] = true
			if k["use"] != "sig" || k["alg"] == nil || k["alg"] == "" {
				t.Errorf("JWKS key %s: use %v alg %v, want use sig and an alg", kid, k["use"], k["alg"])
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				if _, ok := k[private]; ok {
					t.Errorf("JWKS key %s has private member %q", kid, private)
				}
			}
		}

		shop := newRP(t, u.issuer, id, secret)
		tok, _ := shop.signIn(newBrowser(t), "ann@example.org")
		header, _ := jwtParts(t, tok.Extra("id_token").(string))
		if kid, _ := header["kid"].(string); !kids[kid] {
			t.Errorf("the ID token's kid %q is not in the JWKS", kid)
		}
	})
}

// Client authentication at the token endpoint: Basic credentials are
// form-decoded (RFC 6749 §2.3.1), so a secret with characters that need
// escaping works escaped; client_secret_post works too.
func TestE2EConformanceClientAuthentication(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		const secret = "a b+c%d:e&f=g/h?"
		id, got := u.client(u.inst, provider.ClientSpec{Name: "Escaped shop", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, Secret: secret})
		if got != secret {
			t.Fatalf("client secret %q, want %q", got, secret)
		}
		u.account(u.inst, storage.Customer, "ann@example.org")
		b := newBrowser(t)
		shop := newRP(t, u.issuer, id, secret)

		// Basic with the escaped secret (basic() escapes both parts).
		code, f := shop.code(b, "ann@example.org")
		checkTokenResponse(t, "Basic, escaped", wantTokens(t, "Basic with the escaped secret", u.redeem(t, id, secret, code, f.verifier)))

		// Basic with the raw secret: not the secret once decoded.
		code, f = shop.code(b, "ann@example.org")
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(id, secret)
		r := send(t, http.MethodPost, u.endpoint("/oauth2/token"), req.Header.Get("Authorization"), url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirectURI}, "code_verifier": {f.verifier}})
		if r.status == http.StatusOK || r.status >= 500 {
			t.Errorf("Basic with the unescaped secret: %d %s, want a client error", r.status, r.raw)
		}

		// No client authentication at all, or a wrong secret: invalid_client.
		noAuth := send(t, http.MethodPost, u.endpoint("/oauth2/token"), "", url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "redirect_uri": {testRedirectURI}, "code_verifier": {f.verifier}})
		wantError(t, "token request without client authentication", noAuth, http.StatusUnauthorized, "invalid_client")
		wrong := u.redeem(t, id, "wrong", code, f.verifier)
		wantError(t, "token request with a wrong secret", wrong, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(wrong.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("wrong Basic credentials: WWW-Authenticate %q, want a Basic challenge (RFC 6749 §5.2)", wrong.header.Get("WWW-Authenticate"))
		}

		// client_secret_post (the raw secret, form-encoded by the form).
		code, f = shop.code(b, "ann@example.org")
		r = send(t, http.MethodPost, u.endpoint("/oauth2/token"), "", url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "redirect_uri": {testRedirectURI}, "code_verifier": {f.verifier},
			"client_id": {id}, "client_secret": {secret}})
		checkTokenResponse(t, "client_secret_post", wantTokens(t, "client_secret_post", r))

		// x/oauth2 with AuthStyleInHeader escapes too.
		code, f = shop.code(b, "ann@example.org")
		conf := shop.conf
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		if _, err := conf.Exchange(shop.ctx, code, oauth2.VerifierOption(f.verifier)); err != nil {
			t.Errorf("x/oauth2 Basic: %v", err)
		}
	})
}
