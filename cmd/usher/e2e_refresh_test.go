package main

import (
	"fmt"
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
// may be used again while its successor is unused, and then it gets the same
// answer: the same successor, the same access token. Five tabs refreshing
// with one token at once all get that one answer, and the family never
// forks: one refresh token of the grant is active at a time.
func TestE2ERefreshWithinGrace(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret, tok1 := signedInTokens(t, u)
		rt1 := tok1.str("refresh_token")
		tok2 := wantTokens(t, "refresh", u.refresh(t, id, secret, rt1))
		tok2b := wantTokens(t, "the rotated token again, within grace", u.refresh(t, id, secret, rt1))
		sameAnswer(t, "the rotated token again", tok2, tok2b)
		if !u.active(t, id, secret, tok2.str("access_token")) || !u.active(t, id, secret, tok2.str("refresh_token")) {
			t.Error("the tokens given within the grace period are not active")
		}
		if u.active(t, id, secret, rt1) {
			t.Error("the rotated refresh token introspects as active")
		}
		if s := u.userinfoStatus(t, tok2.str("access_token")); s != http.StatusOK {
			t.Errorf("userinfo with the refreshed access token after the use within grace: %d", s)
		}

		// Five tabs refresh with the same token at once, a few rounds, each
		// with the token the round before gave: one answer per round.
		rt := tok2b.str("refresh_token")
		for round := range 4 {
			results := parallel(5, func(int) apiResponse { return u.refresh(t, id, secret, rt) })
			for i, r := range results {
				if r.status != http.StatusOK {
					t.Fatalf("round %d: concurrent refresh %d within grace: %d %s", round, i, r.status, r.raw)
				}
				sameAnswer(t, fmt.Sprintf("round %d: concurrent refresh %d", round, i), results[0], r)
			}
			if s := u.userinfoStatus(t, results[0].str("access_token")); s != http.StatusOK {
				t.Errorf("round %d: the access token of the concurrent refreshes: userinfo %d", round, s)
			}
			if !u.active(t, id, secret, results[0].str("refresh_token")) || u.active(t, id, secret, rt) {
				t.Errorf("round %d: want the new refresh token active and the one it replaced inactive", round)
			}
			rt = results[0].str("refresh_token")
		}
		wantTokens(t, "the newest refresh token", u.refresh(t, id, secret, rt))
	})
}

// A rotated token whose successor has been used is not accepted again, even
// within the grace period: that is reuse, and the whole family ends.
func TestE2ERefreshRotatedTwiceIsReuse(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret, tok1 := signedInTokens(t, u)
		tok2 := wantTokens(t, "first refresh", u.refresh(t, id, secret, tok1.str("refresh_token")))
		tok3 := wantTokens(t, "second refresh", u.refresh(t, id, secret, tok2.str("refresh_token")))
		wantError(t, "the first token, its successor used, within grace", u.refresh(t, id, secret, tok1.str("refresh_token")),
			http.StatusBadRequest, "invalid_grant")
		u.wantGrantEnded(t, "the newest tokens after the reuse", id, secret, tok3)
		wantError(t, "the second token after the family ended", u.refresh(t, id, secret, tok2.str("refresh_token")),
			http.StatusBadRequest, "invalid_grant")
	})
}

// sameAnswer fails unless two token answers give the same tokens.
func sameAnswer(t *testing.T, what string, want, got apiResponse) {
	t.Helper()
	for _, k := range []string{"access_token", "refresh_token", "id_token", "scope", "token_type"} {
		if got.str(k) != want.str(k) {
			t.Errorf("%s: %s differs from the first answer's", what, k)
		}
	}
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

// A grant ends tokens.grant_ttl after its sign-in however often its refresh
// tokens are used: each refresh token expires by then, and a refresh after
// it is invalid_grant.
func TestE2EGrantLifetimeFromSignIn(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db, "USHER_TOKENS_GRANT_TTL=3s")
		id, secret, tok := signedInTokens(t, u)
		signedIn := time.Now()
		for i := range 2 {
			tok = wantTokens(t, fmt.Sprintf("refresh %d", i), u.refresh(t, id, secret, tok.str("refresh_token")))
			r := u.introspect(t, id, secret, tok.str("refresh_token"))
			exp := time.Unix(int64(r.num("exp")), 0)
			if exp.After(signedIn.Add(4*time.Second)) || exp.Before(signedIn) {
				t.Errorf("refresh %d: the refresh token expires at %s, want at most 3 s after the sign-in at %s", i, exp, signedIn)
			}
			time.Sleep(time.Second)
		}
		time.Sleep(time.Until(signedIn.Add(3500 * time.Millisecond)))
		wantError(t, "refresh after the grant's lifetime", u.refresh(t, id, secret, tok.str("refresh_token")),
			http.StatusBadRequest, "invalid_grant")
	})
}
