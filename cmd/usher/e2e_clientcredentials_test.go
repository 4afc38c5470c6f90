package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// The client credentials grant: an access token only (no refresh token, no
// ID token), for the client itself, introspectable by a resource server;
// scopes the client was not registered for are invalid_scope; only
// confidential clients registered for the grant may use it.
func TestE2EClientCredentials(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		rsID, rsSecret := u.resourceServer(u.inst)
		svcID, svcSecret := u.client(u.inst, provider.ClientSpec{Name: "Box office back end",
			GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"tickets:read"}})

		tok := wantTokens(t, "client credentials", u.tokenRequest(t, svcID, svcSecret,
			url.Values{"grant_type": {"client_credentials"}, "scope": {"tickets:read"}}))
		if tok.str("refresh_token") != "" || tok.str("id_token") != "" {
			t.Errorf("client credentials gave a refresh or ID token: %s", tok.raw)
		}
		if n, _ := tok.body["expires_in"].(float64); n <= 0 {
			t.Errorf("expires_in %v", tok.body["expires_in"])
		}
		mustEqualf(t, "token_type", tok.str("token_type"), "bearer")

		r := u.introspect(t, rsID, rsSecret, tok.str("access_token"))
		if r.body["active"] != true {
			t.Fatalf("introspected by the resource server: %s", r.raw)
		}
		mustEqualf(t, "client_id", r.body["client_id"], svcID)
		mustEqualf(t, "sub", r.body["sub"], svcID)
		mustEqualf(t, "scope", r.body["scope"], "tickets:read")
		if !u.active(t, svcID, svcSecret, tok.str("access_token")) {
			t.Error("the client cannot introspect its own token")
		}

		// No scope asked: none granted, still a token.
		plain := wantTokens(t, "client credentials without scope", u.tokenRequest(t, svcID, svcSecret,
			url.Values{"grant_type": {"client_credentials"}}))
		if r := u.introspect(t, rsID, rsSecret, plain.str("access_token")); r.body["active"] != true || r.body["scope"] != "" {
			t.Errorf("token without scope: %s", r.raw)
		}

		for _, scope := range []string{"tickets:write", "openid", "tickets:read admin"} {
			wantError(t, "scope "+scope, u.tokenRequest(t, svcID, svcSecret,
				url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}), http.StatusBadRequest, "invalid_scope")
		}
		wantError(t, "wrong secret", u.tokenRequest(t, svcID, "wrong", url.Values{"grant_type": {"client_credentials"}}),
			http.StatusUnauthorized, "invalid_client")

		// A shop (authorization code only) may not use the grant.
		shopID, shopSecret := u.shop()
		wantError(t, "client without the grant", u.tokenRequest(t, shopID, shopSecret,
			url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}), http.StatusBadRequest, "unauthorized_client")

		// Nor a public client, which has no credentials.
		pub, _ := u.client(u.inst, provider.ClientSpec{Name: "App", RedirectURIs: []string{testRedirectURI}, Public: true})
		for _, scope := range []string{"", "openid"} {
			r := send(t, http.MethodPost, u.endpoint("/oauth2/token"), "",
				url.Values{"grant_type": {"client_credentials"}, "client_id": {pub}, "scope": {scope}})
			if e := r.str("error"); (e != "invalid_client" && e != "unauthorized_client") || r.status == http.StatusOK {
				t.Errorf("public client, scope %q: %d %s, want invalid_client or unauthorized_client", scope, r.status, r.raw)
			}
		}
	})
}
