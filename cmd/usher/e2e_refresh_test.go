package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// A refresh token used again after the grace period is a replay: the answer
// is invalid_grant and the whole grant ends, including the newest refresh
// token and access token.
func TestE2ERefreshReuseAfterGraceRevokesFamily(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db, "USHER_TOKENS_REFRESH_GRACE=1s")
		id, secret, tok1 := signedInTokens(t, u)
		tok2 := wantTokens(t, "first refresh", u.refresh(t, id, secret, tok1.str("refresh_token")))
		tok3 := wantTokens(t, "second refresh", u.refresh(t, id, secret, tok2.str("refresh_token")))
		if tok2.str("refresh_token") == tok1.str("refresh_token") || tok3.str("refresh_token") == tok2.str("refresh_token") {
			t.Fatal("refresh did not rotate the refresh token")
		}
		if !u.active(t, id, secret, tok3.str("access_token")) || u.userinfoStatus(t, tok3.str("access_token")) != http.StatusOK {
			t.Fatal("the newest access token does not work before the replay")
		}

		time.Sleep(1500 * time.Millisecond) // past the grace period
		wantError(t, "replayed refresh token", u.refresh(t, id, secret, tok1.str("refresh_token")), http.StatusBadRequest, "invalid_grant")

		if u.active(t, id, secret, tok2.str("refresh_token")) {
			t.Error("after the replay, the middle refresh token is still active")
		}
		u.wantGrantEnded(t, "newest tokens after the replay", id, secret, tok3)
	})
}

// Within the grace period (15 s by default) the refresh token just rotated
// still works, and so do the tokens it gives; five refreshes with one token
// at once all succeed, and every token they give works.
func TestE2ERefreshWithinGrace(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret, tok1 := signedInTokens(t, u)
		rt1 := tok1.str("refresh_token")
		tok2 := wantTokens(t, "refresh", u.refresh(t, id, secret, rt1))
		tok2b := wantTokens(t, "the rotated token again, within grace", u.refresh(t, id, secret, rt1))
		for _, tok := range []apiResponse{tok2, tok2b} {
			if !u.active(t, id, secret, tok.str("access_token")) || !u.active(t, id, secret, tok.str("refresh_token")) {
				t.Error("a token given within the grace period is not active")
			}
		}
		if s := u.userinfoStatus(t, tok2.str("access_token")); s != http.StatusOK {
			t.Errorf("userinfo with the first refreshed access token after the reuse within grace: %d", s)
		}

		// Five tabs refresh with the same token at once; a few rounds, each
		// with one of the tokens the round before gave.
		rt := tok2b.str("refresh_token")
		for round := range 4 {
			results := parallel(5, func(int) apiResponse { return u.refresh(t, id, secret, rt) })
			seen := map[string]bool{}
			for i, r := range results {
				if r.status != http.StatusOK {
					t.Fatalf("round %d: concurrent refresh %d within grace: %d %s", round, i, r.status, r.raw)
				}
				if seen[r.str("refresh_token")] || seen[r.str("access_token")] {
					t.Errorf("round %d: concurrent refresh %d: a token given twice", round, i)
				}
				seen[r.str("refresh_token")], seen[r.str("access_token")] = true, true
			}
			for i, r := range results {
				if s := u.userinfoStatus(t, r.str("access_token")); s != http.StatusOK {
					t.Errorf("round %d: access token of concurrent refresh %d: userinfo %d", round, i, s)
				}
				if !u.active(t, id, secret, r.str("refresh_token")) {
					t.Errorf("round %d: refresh token of concurrent refresh %d is not active", round, i)
				}
			}
			if round == 3 {
				for _, r := range results {
					wantTokens(t, "refresh token of a concurrent refresh", u.refresh(t, id, secret, r.str("refresh_token")))
				}
			}
			rt = results[round%5].str("refresh_token")
		}
	})
}

// With strict rotation (USHER_TOKENS_REFRESH_GRACE=0s) one of five
// concurrent refreshes with the same token wins, the others get a 400; the
// token used again afterwards is a replay that ends the grant.
func TestE2ERefreshStrictRotation(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db, "USHER_TOKENS_REFRESH_GRACE=0s")
		id, secret, tok1 := signedInTokens(t, u)
		rt1 := tok1.str("refresh_token")
		results := parallel(5, func(int) apiResponse { return u.refresh(t, id, secret, rt1) })
		var winner apiResponse
		wins := 0
		for i, r := range results {
			switch r.status {
			case http.StatusOK:
				wins++
				winner = r
			case http.StatusBadRequest:
				if e := r.str("error"); e != "invalid_grant" && e != "invalid_request" {
					t.Errorf("concurrent refresh %d lost with %q, want invalid_grant or invalid_request", i, e)
				}
			default:
				t.Errorf("concurrent refresh %d: %d %s, want 200 or 400", i, r.status, r.raw)
			}
		}
		if wins != 1 {
			t.Fatalf("%d of 5 concurrent refreshes succeeded with strict rotation, want exactly 1", wins)
		}

		// Used again: a replay. The winner's tokens end with the grant.
		wantError(t, "the rotated token used again", u.refresh(t, id, secret, rt1), http.StatusBadRequest, "invalid_grant")
		u.wantGrantEnded(t, "the winner's tokens after the replay", id, secret, winner)
	})
}

// A refresh token presented by another client of the institution is
// invalid_grant (the client authenticated fine), and it does not end the
// grant of the client it belongs to.
func TestE2ERefreshOtherClientsToken(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret, tok := signedInTokens(t, u)
		otherID, otherSecret := u.client(u.inst, provider.ClientSpec{Name: "Other shop",
			RedirectURIs: []string{testRedirectURI}, FirstParty: true})
		wantError(t, "another client's refresh token", u.refresh(t, otherID, otherSecret, tok.str("refresh_token")),
			http.StatusBadRequest, "invalid_grant")
		wantTokens(t, "the owner refreshes afterwards", u.refresh(t, id, secret, tok.str("refresh_token")))
	})
}
