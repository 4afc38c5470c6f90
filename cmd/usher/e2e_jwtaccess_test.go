package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v3"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/storage/storagetest"
)

// verifiedJWT checks raw against the institution's JWKS with go-oidc's key
// set, as a resource server does, and returns its header and claims.
func verifiedJWT(t *testing.T, u *usherServer, raw string) (header, claims map[string]any) {
	t.Helper()
	keys := oidc.NewRemoteKeySet(context.Background(), u.endpoint("/jwks"))
	payload, err := keys.VerifySignature(context.Background(), raw)
	if err != nil {
		t.Fatalf("the access token does not verify against the JWKS: %v", err)
	}
	header, claims = jwtParts(t, raw)
	var fromPayload map[string]any
	if err := json.Unmarshal(payload, &fromPayload); err != nil || fromPayload["jti"] != claims["jti"] {
		t.Fatalf("verified payload %s: %v", payload, err)
	}
	return header, claims
}

// wantAccessJWT checks the RFC 9068 header of an access token: typ at+jwt,
// the algorithm, and a kid the JWKS publishes for it.
func wantAccessJWT(t *testing.T, u *usherServer, header map[string]any, alg string) {
	t.Helper()
	mustEqualf(t, "typ", header["typ"], "at+jwt")
	mustEqualf(t, "alg", header["alg"], alg)
	kid, _ := header["kid"].(string)
	if published := publishedKIDs(t, u)[alg]; kid == "" || !strings.Contains(strings.Join(published, " "), kid) {
		t.Errorf("kid %q, want one of the published %s keys %v", kid, alg, published)
	}
}

// A client registered for JWT access tokens gets, by client credentials, an
// RFC 9068 JWT that verifies against the JWKS, and the server writes
// nothing for it (counted statements); an opaque client's tokens are as
// before. Introspection answers for the JWT until it expires or its client
// is deleted; a forged or altered JWT is inactive, never an error.
func TestE2EJWTAccessTokenClientCredentials(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		// The server's clock stands still until the test moves it: nothing the
		// server does depends on time passing meanwhile (not even its version check).
		clock := storagetest.NewClock(time.Now())
		u := startUsherAt(t, db, "", clock.Now)
		rsID, rsSecret := u.resourceServer(u.inst)
		apiID, apiSecret := u.client(u.inst, provider.ClientSpec{Name: "API client",
			GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"tickets:read", "tickets:write"},
			AccessTokenFormat: storage.AccessTokenJWT, Audiences: []string{"https://api.example.org"}, IDTokenAlg: "ES256"})
		plainID, plainSecret := u.client(u.inst, provider.ClientSpec{Name: "Back end",
			GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"tickets:read"}})
		cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"tickets:read"}}

		tok := wantTokens(t, "client credentials", u.tokenRequest(t, apiID, apiSecret, cc))
		at := tok.str("access_token")
		header, claims := verifiedJWT(t, u, at)
		wantAccessJWT(t, u, header, "ES256")
		mustEqualf(t, "iss", claims["iss"], u.issuer)
		mustEqualf(t, "sub", claims["sub"], apiID)
		mustEqualf(t, "client_id", claims["client_id"], apiID)
		mustEqualf(t, "aud", claims["aud"], []any{"https://api.example.org"})
		mustEqualf(t, "scope", claims["scope"], "tickets:read")
		if jti, _ := claims["jti"].(string); len(jti) < 16 {
			t.Errorf("jti %q", jti)
		}
		iat, exp := numberClaim(t, claims, "iat"), numberClaim(t, claims, "exp")
		if life := exp.Sub(iat); life < 4*time.Minute || life > 6*time.Minute {
			t.Errorf("exp - iat = %s, want the default 5m", life)
		}
		if n, _ := tok.body["expires_in"].(float64); n < 240 || n > 300 {
			t.Errorf("expires_in %v, want about 300", tok.body["expires_in"])
		}
		for _, c := range []string{"auth_time", "acr", "amr"} {
			if _, has := claims[c]; has {
				t.Errorf("a client credentials token carries %s", c)
			}
		}

		// No write at all: not one statement for twenty tokens (the client
		// is cached, the stopped clock skips the version check). The same
		// count sees the opaque client's rows.
		before := u.a.store.Statements()
		for range 20 {
			wantTokens(t, "client credentials", u.tokenRequest(t, apiID, apiSecret, cc))
		}
		if n := u.a.store.Statements() - before; n != 0 {
			t.Errorf("20 JWT client credentials tokens sent %d statements, want 0", n)
		}
		plain := wantTokens(t, "opaque client credentials", u.tokenRequest(t, plainID, plainSecret, cc)).str("access_token")
		before = u.a.store.Statements()
		for range 5 {
			wantTokens(t, "opaque client credentials", u.tokenRequest(t, plainID, plainSecret, cc))
		}
		if n := u.a.store.Statements() - before; n < 5 {
			t.Errorf("5 opaque tokens sent %d statements, want a write each", n)
		}
		if strings.Count(plain, ".") != 1 || !strings.HasPrefix(plain, "ory_at_") {
			t.Errorf("the opaque client's token %.20q… is not opaque", plain)
		}

		// Introspection: active, with the token's grant.
		r := u.introspect(t, rsID, rsSecret, at)
		if r.status != http.StatusOK || r.body["active"] != true {
			t.Fatalf("the resource server introspecting the JWT: %d %s", r.status, r.raw)
		}
		mustEqualf(t, "introspected client_id", r.body["client_id"], apiID)
		mustEqualf(t, "introspected sub", r.body["sub"], apiID)
		mustEqualf(t, "introspected scope", r.body["scope"], "tickets:read")
		mustEqualf(t, "introspected aud", r.body["aud"], []any{"https://api.example.org"})
		mustEqualf(t, "introspected exp", int64(r.num("exp")), exp.Unix())
		if !u.active(t, apiID, apiSecret, at) {
			t.Error("the client cannot introspect its own JWT")
		}
		if u.active(t, plainID, plainSecret, at) {
			t.Error("another client learns about the JWT")
		}

		// Forged, altered, foreign: inactive, and userinfo says invalid_token.
		for name, forged := range forgedTokens(t, at, header) {
			if r := u.introspect(t, rsID, rsSecret, forged); r.status != http.StatusOK || r.body["active"] != false {
				t.Errorf("%s: introspection %d %s, want inactive", name, r.status, r.raw)
			}
			r := send(t, http.MethodGet, u.endpoint("/oauth2/userinfo"), "Bearer "+forged, nil)
			if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("%s: userinfo %d %s, want 401 invalid_token", name, r.status, r.header.Get("WWW-Authenticate"))
			}
		}
		// The JWT of one institution means nothing in another.
		other := u.institution("other")
		oRS, oRSSecret := u.resourceServer(other)
		r = send(t, http.MethodPost, u.url+"/institutions/other/oauth2/introspect", basic(oRS, oRSSecret), url.Values{"token": {at}})
		if r.status != http.StatusOK || r.body["active"] != false {
			t.Errorf("the JWT introspected in another institution: %d %s", r.status, r.raw)
		}

		// Revocation: 200, and the JWT stays (it is stored nowhere).
		if r := send(t, http.MethodPost, u.endpoint("/oauth2/revoke"), basic(apiID, apiSecret), url.Values{"token": {at}}); r.status != http.StatusOK {
			t.Errorf("revoking the JWT: %d %s, want 200", r.status, r.raw)
		}

		// Expiry, by the server's clock.
		clock.Advance(6 * time.Minute)
		if u.active(t, rsID, rsSecret, at) {
			t.Error("the JWT is active after it expired")
		}
		fresh := wantTokens(t, "client credentials after the clock moved", u.tokenRequest(t, apiID, apiSecret, cc)).str("access_token")
		if !u.active(t, rsID, rsSecret, fresh) {
			t.Fatal("a fresh JWT is not active")
		}

		// Its client deleted: its JWTs end with it.
		if err := u.a.clients.Delete(t.Context(), u.inst, apiID, string(flows.ActorCLI)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Second) // past the version check: the server sees the deletion
		if r := u.introspect(t, rsID, rsSecret, fresh); r.status != http.StatusOK || r.body["active"] != false {
			t.Errorf("the JWT of a deleted client: %d %s, want inactive", r.status, r.raw)
		}
	})
}

// forgedTokens returns tokens made from a genuine JWT access token: altered
// claims under the genuine signature, alg none, a key of the attacker's
// under the genuine kid, and ID-token shaped (typ JWT) ones.
func forgedTokens(t *testing.T, genuine string, header map[string]any) map[string]string {
	t.Helper()
	parts := strings.Split(genuine, ".")
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	_, claims := jwtParts(t, genuine)
	altered := map[string]any{}
	for k, v := range claims {
		altered[k] = v
	}
	altered["scope"] = "tickets:read tickets:write admin"
	noneHeader := map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(typ string) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
			(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", header["kid"]))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := signer.Sign([]byte(parts[1]))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	return map[string]string{
		"altered claims":            parts[0] + "." + enc(altered) + "." + parts[2],
		"alg none":                  enc(noneHeader) + "." + parts[1] + ".",
		"alg none with a signature": enc(noneHeader) + "." + parts[1] + "." + parts[2],
		"the attacker's key":        sign("at+jwt"),
		"truncated signature":       genuine[:len(genuine)-4],
		"garbage in three parts":    "eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
		"long":                      parts[0] + "." + strings.Repeat("A", 20000) + "." + parts[2],
	}
}

// jwtShop registers a first-party shop for JWT access tokens and a
// resource server that introspects them, and returns both credentials.
func jwtShop(u *usherServer) (id, secret, rsID, rsSecret string) {
	id, secret = u.client(u.inst, provider.ClientSpec{RedirectURIs: []string{testRedirectURI},
		FirstParty: true, AccessTokenFormat: storage.AccessTokenJWT})
	rsID, rsSecret = u.resourceServer(u.inst)
	return id, secret, rsID, rsSecret
}

// A signed-in client registered for JWT access tokens gets a JWT of the
// sign-in (sub, auth_time, acr, amr, scope) that userinfo accepts and the
// ID token's at_hash covers; refresh gives a new one; introspection turns
// inactive once the account is disabled; revoking the refresh token ends
// the grant while the JWT, which cannot be revoked, lives out its minutes.
func TestE2EJWTAccessTokenSignIn(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret, rsID, rsSecret := jwtShop(u)
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		tok, idToken := shop.signIn(newBrowser(t), "ann@example.org") // verifies the ID token and its at_hash

		header, claims := verifiedJWT(t, u, tok.AccessToken)
		wantAccessJWT(t, u, header, "RS256")
		mustEqualf(t, "sub", claims["sub"], ann.ID)
		mustEqualf(t, "client_id", claims["client_id"], id)
		mustEqualf(t, "aud", claims["aud"], []any{id})
		mustEqualf(t, "scope", claims["scope"], "openid email profile offline_access")
		mustEqualf(t, "acr", claims["acr"], "1")
		mustEqualf(t, "amr", claims["amr"], []any{"pwd"})
		mustEqualf(t, "auth_time", numberClaim(t, claims, "auth_time").Unix(), numberClaim(t, claimsOf(t, idToken), "auth_time").Unix())

		// Userinfo accepts it.
		info := send(t, http.MethodGet, u.endpoint("/oauth2/userinfo"), "Bearer "+tok.AccessToken, nil)
		if info.status != http.StatusOK || info.str("sub") != ann.ID || info.str("email") != "ann@example.org" {
			t.Fatalf("userinfo with the JWT: %d %s", info.status, info.raw)
		}
		// Introspection shows the sign-in's grant.
		r := u.introspect(t, rsID, rsSecret, tok.AccessToken)
		if r.body["active"] != true || r.str("sub") != ann.ID || r.str("username") != "ann@example.org" {
			t.Fatalf("introspecting the JWT: %s", r.raw)
		}

		// Refresh: the grant was stored, a new JWT comes back.
		ref := wantTokens(t, "refresh", u.refresh(t, id, secret, tok.RefreshToken))
		_, refreshed := verifiedJWT(t, u, ref.str("access_token"))
		if refreshed["jti"] == claims["jti"] || refreshed["sub"] != ann.ID || refreshed["auth_time"] != claims["auth_time"] {
			t.Errorf("refreshed JWT claims %v, first %v", refreshed, claims)
		}

		// Revoking the JWT: 200, nothing to revoke. Revoking the refresh
		// token ends the grant.
		if r := send(t, http.MethodPost, u.endpoint("/oauth2/revoke"), basic(id, secret), url.Values{"token": {ref.str("access_token")}}); r.status != http.StatusOK {
			t.Errorf("revoking the JWT: %d %s", r.status, r.raw)
		}
		if r := send(t, http.MethodPost, u.endpoint("/oauth2/revoke"), basic(id, secret), url.Values{"token": {ref.str("refresh_token")}}); r.status != http.StatusOK {
			t.Errorf("revoking the refresh token: %d %s", r.status, r.raw)
		}
		wantError(t, "refresh after revocation", u.refresh(t, id, secret, ref.str("refresh_token")), http.StatusBadRequest, "invalid_grant")

		// The account disabled: introspection and userinfo refuse its JWTs.
		if err := u.a.accounts.Disable(t.Context(), u.inst, ann.ID, flows.ActorCLI); err != nil {
			t.Fatal(err)
		}
		if u.active(t, rsID, rsSecret, tok.AccessToken) {
			t.Error("the JWT of a disabled account is active")
		}
		if s := u.userinfoStatus(t, tok.AccessToken); s != http.StatusUnauthorized {
			t.Errorf("userinfo with the JWT of a disabled account: %d, want 401", s)
		}
	})
}

// Opaque stays the default: a client registered without a format gets an
// opaque token, and its record says opaque.
func TestE2EAccessTokenOpaqueByDefault(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		_, _, tok := signedInTokens(t, u)
		if at := tok.str("access_token"); strings.Count(at, ".") != 1 || !strings.HasPrefix(at, "ory_at_") {
			t.Errorf("a default client's access token %.20q… is not opaque", at)
		}
		list, err := u.a.store.In(u.inst.ID).ListClients(t.Context())
		if err != nil || len(list) != 1 || list[0].AccessTokenFormat != storage.AccessTokenOpaque {
			t.Errorf("the default client's record: %+v, %v", list, err)
		}
	})
}

// The admin API takes a back end's JWT access token as it takes an opaque
// one (the scopes it holds), and refuses an altered one, never with a 500.
func TestE2EJWTAccessTokenAdminAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.client(u.inst, provider.ClientSpec{Name: "Box office back end",
			GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"accounts:read"},
			AccessTokenFormat: storage.AccessTokenJWT, IDTokenAlg: "ES256"})
		u.account(u.inst, storage.Customer, "ann@example.org")
		tok := wantTokens(t, "client credentials", u.tokenRequest(t, id, secret,
			url.Values{"grant_type": {"client_credentials"}, "scope": {"accounts:read"}})).str("access_token")
		if strings.Count(tok, ".") != 2 {
			t.Fatalf("not a JWT: %.20q", tok)
		}
		api := u.adminOf(u.inst, tok)
		r := api.want("list accounts with the JWT", api.call(http.MethodGet, "/accounts", nil), http.StatusOK)
		if !strings.Contains(r.raw, "ann@example.org") {
			t.Errorf("the list does not show ann: %s", r.raw)
		}
		parts := strings.Split(tok, ".")
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","scope":"accounts:write"}`)) + "." + parts[2]
		bad := u.adminOf(u.inst, forged)
		bad.want("an altered JWT", bad.call(http.MethodGet, "/accounts", nil), http.StatusUnauthorized)
	})
}

// A replayed code ends the grant of a client with JWT access tokens too
// (DESIGN: a second redemption revokes what the first produced): the
// second exchange is invalid_grant and the first's refresh token no longer
// refreshes. Its JWT, which nothing can revoke, stays valid until it
// expires (tokens.jwt_access_ttl, 5 minutes by default), as RFC 9068 allows.
func TestE2EJWTAccessTokenCodeReplay(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret, rsID, rsSecret := jwtShop(u)
		u.account(u.inst, storage.Customer, "ann@example.org")
		code, f := newRP(t, u.issuer, id, secret).code(newBrowser(t), "ann@example.org")

		first := wantTokens(t, "first exchange", u.redeem(t, id, secret, code, f.verifier))
		verifiedJWT(t, u, first.str("access_token"))
		wantError(t, "second exchange", u.redeem(t, id, secret, code, f.verifier), http.StatusBadRequest, "invalid_grant")
		wantError(t, "refresh after the replay", u.refresh(t, id, secret, first.str("refresh_token")),
			http.StatusBadRequest, "invalid_grant")
		if !u.active(t, rsID, rsSecret, first.str("access_token")) {
			t.Error("the first exchange's JWT is inactive before its expiry; it cannot be revoked, so it should live out its minutes")
		}
	})
}
