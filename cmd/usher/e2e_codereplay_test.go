package main

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// A code redeemed twice: the second exchange is invalid_grant, and the
// tokens of the first one are revoked (introspection inactive, userinfo
// 401, refresh invalid_grant).
func TestE2ECodeReplayRevokesTokens(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		code, f := shop.code(newBrowser(t), "ann@example.org")

		first := wantTokens(t, "first exchange", u.redeem(t, id, secret, code, f.verifier))
		if u.userinfoStatus(t, first.str("access_token")) != http.StatusOK {
			t.Fatal("the first access token does not work")
		}
		wantError(t, "second exchange", u.redeem(t, id, secret, code, f.verifier), http.StatusBadRequest, "invalid_grant")

		u.wantGrantEnded(t, "tokens of the replayed code", id, secret, first)
		// And a third time is still just invalid_grant.
		wantError(t, "third exchange", u.redeem(t, id, secret, code, f.verifier), http.StatusBadRequest, "invalid_grant")
	})
}

// A code is bound to its redirect URI and its client: another redirect URI
// (even one registered) or another client is invalid_grant, and the code
// still works for the right request afterwards.
func TestE2ECodeBoundToRedirectAndClient(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		const second = "https://shop.example/other-callback"
		id, secret := u.client(u.inst, provider.ClientSpec{RedirectURIs: []string{testRedirectURI, second}, FirstParty: true})
		otherID, otherSecret := u.client(u.inst, provider.ClientSpec{Name: "Other shop",
			RedirectURIs: []string{testRedirectURI}, FirstParty: true})
		u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		code, f := shop.code(newBrowser(t), "ann@example.org")

		for _, redirect := range []string{second, "https://shop.example/callback/", "https://evil.example/callback", ""} {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {f.verifier}}
			if redirect != "" {
				form.Set("redirect_uri", redirect)
			}
			wantError(t, "exchange with redirect_uri "+redirect, u.tokenRequest(t, id, secret, form), http.StatusBadRequest, "invalid_grant")
		}
		wantError(t, "exchange by another client", u.redeem(t, otherID, otherSecret, code, f.verifier),
			http.StatusBadRequest, "invalid_grant")
		wantError(t, "exchange with another client's secret", u.redeem(t, id, otherSecret, code, f.verifier),
			http.StatusUnauthorized, "invalid_client")
		wantTokens(t, "exchange by the client, with its redirect URI", u.redeem(t, id, secret, code, f.verifier))
	})
}

// Two exchanges of one code at once: one gets tokens, the other
// invalid_grant (not a server error), and, as for a later replay, the
// tokens the winner got end: the code was presented twice.
func TestE2ECodeConcurrentExchange(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		b := newBrowser(t)
		for round := range 3 {
			code, f := shop.code(b, "ann@example.org")
			results := parallel(2, func(int) apiResponse { return u.redeem(t, id, secret, code, f.verifier) })
			ok := 0
			var winner apiResponse
			for i, r := range results {
				switch {
				case r.status == http.StatusOK:
					ok++
					winner = r
				case r.status == http.StatusBadRequest && r.str("error") == "invalid_grant":
				default:
					t.Errorf("round %d: concurrent exchange %d: %d %s, want 200 or 400 invalid_grant", round, i, r.status, r.raw)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d of 2 concurrent exchanges succeeded, want exactly 1", round, ok)
			}
			u.wantGrantEnded(t, fmt.Sprintf("round %d: the winner's tokens", round), id, secret, winner)
		}
	})
}

// A token response that cannot be stored changes nothing: the code, or the
// refresh token, it presented stays usable, and no token of it works. The
// token endpoint writes its tokens with one statement at the end of its
// transaction (after the code or the refresh token was marked used); a
// trigger refuses access token rows, as a full disk would.
func TestE2EFailedTokenResponseBurnsNothing(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		u.account(u.inst, storage.Customer, "ann@example.org")
		code, f := newRP(t, u.issuer, id, secret).code(newBrowser(t), "ann@example.org")

		allow := refuseRows(t, db, "oauth2_tokens", "kind", string(storage.KindAccess))
		wantError(t, "exchange while tokens cannot be stored", u.redeem(t, id, secret, code, f.verifier),
			http.StatusInternalServerError, "server_error")
		allow()
		first := wantTokens(t, "the same code once they can", u.redeem(t, id, secret, code, f.verifier))

		allow = refuseRows(t, db, "oauth2_tokens", "kind", string(storage.KindAccess))
		wantError(t, "refresh while tokens cannot be stored", u.refresh(t, id, secret, first.str("refresh_token")),
			http.StatusInternalServerError, "server_error")
		allow()
		next := wantTokens(t, "the same refresh token once they can", u.refresh(t, id, secret, first.str("refresh_token")))
		if u.userinfoStatus(t, next.str("access_token")) != http.StatusOK {
			t.Error("the access token of the retried refresh does not work")
		}
	})
}

// An authorization whose code cannot be stored sends the browser back to
// the relying party with server_error (its state and the issuer, no code),
// and stores nothing of it: the authorization endpoint writes the code with
// its PKCE and OpenID Connect records in one statement, all or none. A
// trigger refuses code rows, as a full disk would; once it is gone, the
// same signed-in browser gets a code at once.
func TestE2EAuthorizationCodeNotStoredIsServerError(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, secret := u.shop()
		u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		b := newBrowser(t)
		shop.code(b, "ann@example.org") // signed in: the next request needs no page
		raw := sqltest.Raw(t, db)
		rows := func() (n int) {
			t.Helper()
			if err := raw.QueryRow(`SELECT COUNT(*) FROM oauth2_tokens`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := rows()

		allow := refuseRows(t, db, "oauth2_tokens", "kind", string(storage.KindCode))
		got := wantRedirectedError(t, u, b, "authorization while codes cannot be stored",
			authParams(id, newFlow(), nil), "server_error")
		if got.Get("code") != "" {
			t.Errorf("the error redirect carries a code: %v", got)
		}
		if after := rows(); after != before {
			t.Errorf("%d token rows after the refused authorization, %d before: a part of it was stored", after, before)
		}
		allow()
		silentCode(t, u, shop, b, "the same browser once codes can be stored", nil)
	})
}
