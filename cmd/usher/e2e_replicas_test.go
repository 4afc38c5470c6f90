package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// startReplica serves another Usher on the same database and master secret
// as primary, with the same public URL (as replicas behind one load
// balancer are): its issuer is primary's, while its issuer field here is
// its own address, where the tests send requests.
func startReplica(t *testing.T, db sqltest.DB, primary *usherServer, env ...string) *usherServer {
	t.Helper()
	u := startUsherAs(t, db, primary.url, env...)
	if u.inst.ID != primary.inst.ID {
		t.Fatalf("the replica sees institution %s, the primary %s", u.inst.ID, primary.inst.ID)
	}
	return u
}

// Two replicas on one database: a code from one is redeemed at the other,
// tokens refreshed at one work at the other, a revocation at one holds at
// the other, and so do browser sessions, logout and key rotations.
func TestE2EReplicas(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		s1 := startUsher(t, db)
		s2 := startReplica(t, db, s1)
		id, secret := s1.shop()
		ann := s1.account(s1.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, s1.issuer, id, secret)
		b := newBrowser(t)

		// Discovery at the replica names the same issuer.
		if d := send(t, http.MethodGet, s2.endpoint("/.well-known/openid-configuration"), "", nil); d.body["issuer"] != s1.issuer {
			t.Errorf("replica issuer %v, want %s", d.body["issuer"], s1.issuer)
		}

		code, f := shop.code(b, "ann@example.org")
		tok := wantTokens(t, "code of server 1 redeemed at server 2", s2.redeem(t, id, secret, code, f.verifier))
		idt := shop.verify(tokenOf(tok), f.nonce)
		mustEqualf(t, "sub", idt.Subject, ann.ID)
		wantError(t, "the same code again at server 1", s1.redeem(t, id, secret, code, f.verifier), http.StatusBadRequest, "invalid_grant")
		if s := s2.userinfoStatus(t, tok.str("access_token")); s != http.StatusUnauthorized {
			t.Errorf("after the replay at server 1, userinfo at server 2: %d, want 401", s)
		}

		code, f = shop.code(b, "ann@example.org")
		tok = wantTokens(t, "second code redeemed at server 2", s2.redeem(t, id, secret, code, f.verifier))
		ref := wantTokens(t, "refresh at server 2", s2.refresh(t, id, secret, tok.str("refresh_token")))
		shop.verify(tokenOf(ref), "")
		info := send(t, http.MethodGet, s1.endpoint("/oauth2/userinfo"), "Bearer "+ref.str("access_token"), nil)
		if info.status != http.StatusOK || info.body["sub"] != ann.ID {
			t.Errorf("userinfo at server 1 with the token refreshed at server 2: %d %s", info.status, info.raw)
		}
		if !s2.active(t, id, secret, ref.str("access_token")) {
			t.Error("the refreshed access token is not active at server 2")
		}

		r := send(t, http.MethodPost, s1.endpoint("/oauth2/revoke"), basic(id, secret), url.Values{"token": {ref.str("refresh_token")}})
		if r.status != http.StatusOK {
			t.Fatalf("revoke at server 1: %d %s", r.status, r.raw)
		}
		s2.wantGrantEnded(t, "at server 2 after the revocation at server 1", id, secret, ref)

		// The browser session is in the database: server 2 signs in silently.
		resp, body := b.open(s2.authorizeURL(authParams(id, newFlow(), url.Values{"prompt": {"none"}})))
		if got := callback(t, resp, body); got.Get("code") == "" || got.Get("iss") != s1.issuer {
			t.Errorf("prompt=none at server 2 with the session of server 1: %v", got)
		}

		// A key rotation seen by both.
		before := publishedKIDs(t, s2)["RS256"]
		if err := s1.a.provider.RotateKeys(context.Background(), "demo"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond)
		code, f = shop.code(b, "")
		tok = wantTokens(t, "code after the rotation, redeemed at server 2", s2.redeem(t, id, secret, code, f.verifier))
		h, _ := jwtParts(t, tok.str("id_token"))
		if h["kid"] == before[0] {
			t.Errorf("server 2 still signs with the key current before the rotation (%v)", h["kid"])
		}
		shop.verify(tokenOf(tok), f.nonce)
		if !slices.Contains(publishedKIDs(t, s1)["RS256"], h["kid"].(string)) {
			t.Errorf("server 2 signed with kid %v, which server 1 does not publish", h["kid"])
		}

		// Logout at server 1 ends the session at server 2.
		resp, _ = b.open(s1.endpoint("/oauth2/logout") + "?" + url.Values{"id_token_hint": {tok.str("id_token")},
			"post_logout_redirect_uri": {"https://shop.example/bye"}}.Encode())
		if resp.Header.Get("Location") != "https://shop.example/bye" {
			t.Fatalf("logout at server 1: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body = b.open(s2.authorizeURL(authParams(id, newFlow(), url.Values{"prompt": {"none"}})))
		if got := callback(t, resp, body); got.Get("error") != "login_required" || got.Get("iss") != s1.issuer {
			t.Errorf("prompt=none at server 2 after logout at server 1: %v, want login_required", got)
		}
	})
}
