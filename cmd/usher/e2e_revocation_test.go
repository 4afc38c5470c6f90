package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Revocation (RFC 7009): a client revokes its own tokens and the whole
// grant ends; another client's attempt changes nothing; unknown tokens are
// answered 200; callers must authenticate; institutions do not mix.
func TestE2ERevocation(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret, tok := signedInTokens(t, u)
		otherID, otherSecret := u.client(u.inst, provider.ClientSpec{Name: "Other shop",
			RedirectURIs: []string{testRedirectURI}, FirstParty: true})
		endpoint := u.endpoint("/oauth2/revoke")
		revoke := func(auth, token string) apiResponse {
			return send(t, http.MethodPost, endpoint, auth, url.Values{"token": {token}})
		}
		at, rt := tok.str("access_token"), tok.str("refresh_token")

		// Another client: refused, and nothing is revoked.
		if r := revoke(basic(otherID, otherSecret), rt); r.status == http.StatusOK && !u.active(t, id, secret, rt) {
			t.Error("another client revoked the shop's refresh token")
		} else if r.status >= 500 {
			t.Errorf("another client revoking: %d %s", r.status, r.raw)
		}
		if !u.active(t, id, secret, rt) || !u.active(t, id, secret, at) {
			t.Fatal("the grant ended after another client's revocation request")
		}
		// Unauthenticated: 401, nothing revoked.
		for what, auth := range map[string]string{"no authentication": "", "wrong secret": basic(id, "wrong")} {
			r := revoke(auth, rt)
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Errorf("%s: %d %s, want 401 invalid_client", what, r.status, r.raw)
			}
			if auth != "" && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: WWW-Authenticate %q, want a Basic challenge", what, r.header.Get("WWW-Authenticate"))
			}
		}
		// Another institution: as unknown there, and nothing happens here.
		other := u.institution("other")
		oID, oSecret := u.client(other, provider.ClientSpec{Name: "Shop of other", RedirectURIs: []string{testRedirectURI}})
		if r := send(t, http.MethodPost, u.url+"/institutions/other/oauth2/revoke", basic(oID, oSecret), url.Values{"token": {rt}}); r.status != http.StatusOK {
			t.Errorf("revoking demo's token at other: %d %s, want 200", r.status, r.raw)
		}
		if !u.active(t, id, secret, rt) {
			t.Fatal("other revoked demo's refresh token")
		}
		// Unknown token: 200.
		if r := revoke(basic(id, secret), "garbage"); r.status != http.StatusOK {
			t.Errorf("unknown token: %d %s, want 200", r.status, r.raw)
		}

		// The owner revokes the access token: the refresh token ends too.
		if r := revoke(basic(id, secret), at); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
		if u.active(t, id, secret, at) || u.active(t, id, secret, rt) {
			t.Error("a token of the revoked grant is still active")
		}
		wantError(t, "refresh after revocation", u.refresh(t, id, secret, rt), http.StatusBadRequest, "invalid_grant")
		if r := revoke(basic(id, secret), at); r.status != http.StatusOK {
			t.Errorf("revoking again: %d %s, want 200", r.status, r.raw)
		}
	})
}
