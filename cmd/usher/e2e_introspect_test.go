package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Introspection (RFC 7662): a client learns about its own tokens only, a
// resource server about every token of its institution and of no other;
// garbage and foreign tokens are inactive; callers must authenticate.
func TestE2EIntrospection(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret, tok := signedInTokens(t, u)
		ann, err := u.a.store.In(u.inst.ID).GetAccountByEmail(t.Context(), storage.Customer, "ann@example.org")
		if err != nil {
			t.Fatal(err)
		}
		otherID, otherSecret := u.client(u.inst, provider.ClientSpec{Name: "Other shop",
			RedirectURIs: []string{testRedirectURI}, FirstParty: true})
		rsID, rsSecret := u.resourceServer(u.inst)
		at := tok.str("access_token")

		// The token's own client.
		own := u.introspect(t, id, secret, at)
		if own.status != http.StatusOK || own.body["active"] != true {
			t.Fatalf("own token: %d %s", own.status, own.raw)
		}
		if !strings.Contains(own.header.Get("Cache-Control"), "no-store") {
			t.Errorf("introspection Cache-Control %q, want no-store", own.header.Get("Cache-Control"))
		}

		// Another client of the institution: inactive, nothing else.
		other := u.introspect(t, otherID, otherSecret, at)
		if other.status != http.StatusOK || len(other.body) != 1 || other.body["active"] != false {
			t.Errorf("another client introspecting: %d %s, want exactly {\"active\":false}", other.status, other.raw)
		}

		// The resource server: active, with the grant's details.
		rs := u.introspect(t, rsID, rsSecret, at)
		if rs.status != http.StatusOK || rs.body["active"] != true {
			t.Fatalf("resource server: %d %s", rs.status, rs.raw)
		}
		mustEqualf(t, "sub", rs.body["sub"], ann.ID)
		mustEqualf(t, "client_id", rs.body["client_id"], id)
		mustEqualf(t, "iss", rs.body["iss"], u.issuer)
		mustEqualf(t, "scope", rs.body["scope"], "openid email profile offline_access")
		if exp, ok := rs.body["exp"].(float64); !ok || time.Unix(int64(exp), 0).Before(time.Now()) {
			t.Errorf("exp %v, want a time in the future", rs.body["exp"])
		}
		rt := u.introspect(t, rsID, rsSecret, tok.str("refresh_token"))
		if rt.body["active"] != true || rt.body["token_type"] == "Bearer" {
			t.Errorf("refresh token introspected by the resource server: %s", rt.raw)
		}

		// Garbage.
		for _, garbage := range []string{"garbage", strings.Repeat("x", 5000), at + "x", "ory_at_a.b", "a.b.c"} {
			if r := u.introspect(t, rsID, rsSecret, garbage); r.status != http.StatusOK || r.body["active"] != false {
				t.Errorf("garbage token %.20q: %d %s", garbage, r.status, r.raw)
			}
		}

		// Callers must authenticate.
		endpoint := u.endpoint("/oauth2/introspect")
		for name, auth := range map[string]string{"no authentication": "", "wrong secret": basic(rsID, "wrong"),
			"unknown client": basic("nobody", "x"), "bearer token": "Bearer " + at} {
			r := send(t, http.MethodPost, endpoint, auth, url.Values{"token": {at}})
			if r.status != http.StatusUnauthorized || r.body["active"] != nil {
				t.Errorf("%s: %d %s, want 401 without an answer", name, r.status, r.raw)
			}
		}
		// client_secret_post, as discovery advertises.
		r := send(t, http.MethodPost, endpoint, "", url.Values{"token": {at}, "client_id": {rsID}, "client_secret": {rsSecret}})
		if r.status != http.StatusOK || r.body["active"] != true {
			t.Errorf("client_secret_post: %d %s", r.status, r.raw)
		}
		// A public client cannot introspect.
		pub, _ := u.client(u.inst, provider.ClientSpec{Name: "App", RedirectURIs: []string{testRedirectURI}, Public: true})
		if r := send(t, http.MethodPost, endpoint, "", url.Values{"token": {at}, "client_id": {pub}}); r.status != http.StatusUnauthorized {
			t.Errorf("public client: %d %s, want 401", r.status, r.raw)
		}

		// Another institution on the same server: its resource server learns
		// nothing of the demo institution's tokens, its userinfo refuses them.
		b := u.institution("other")
		bIssuer := u.url + "/institutions/other"
		bRS, bRSSecret := u.resourceServer(b)
		r = send(t, http.MethodPost, bIssuer+"/oauth2/introspect", basic(bRS, bRSSecret), url.Values{"token": {at}})
		if r.status != http.StatusOK || r.body["active"] != false {
			t.Errorf("token of demo introspected in other: %d %s", r.status, r.raw)
		}
		// The demo resource server's credentials do not work in other.
		r = send(t, http.MethodPost, bIssuer+"/oauth2/introspect", basic(rsID, rsSecret), url.Values{"token": {at}})
		if r.status != http.StatusUnauthorized {
			t.Errorf("demo's resource server at other: %d %s, want 401", r.status, r.raw)
		}
		if r := send(t, http.MethodGet, bIssuer+"/oauth2/userinfo", "Bearer "+at, nil); r.status != http.StatusUnauthorized {
			t.Errorf("token of demo at other's userinfo: %d %s, want 401", r.status, r.raw)
		}
		// Still fine at home.
		if s := u.userinfoStatus(t, at); s != http.StatusOK {
			t.Errorf("userinfo at home: %d", s)
		}
	})
}
