package main

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// A replayed code and a reused refresh token are signs of theft: each is an
// audit event of the account (client, grant, address), a warning in the log
// and a count in usher_theft_signals_total.
func TestE2ETheftSignals(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db, "USHER_LOG_LEVEL=warn", "USHER_TOKENS_REFRESH_GRACE=1s")
		id, secret := u.shop()
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret)
		b := newBrowser(t)

		// A code redeemed twice in a row, then one redeemed twice at once.
		code, f := shop.code(b, "ann@example.org")
		wantTokens(t, "exchange", u.redeem(t, id, secret, code, f.verifier))
		wantError(t, "replay", u.redeem(t, id, secret, code, f.verifier), http.StatusBadRequest, "invalid_grant")
		code, f = shop.code(b, "ann@example.org")
		parallel(2, func(int) apiResponse { return u.redeem(t, id, secret, code, f.verifier) })
		u.wantTheft(t, "code_replay", 2, ann.ID, id, "code_replayed", "authorization_code")

		// A refresh token used again after the grace period; a second use of
		// it (its family gone) is no longer a sign of anything.
		code, f = shop.code(b, "ann@example.org")
		tok := wantTokens(t, "exchange", u.redeem(t, id, secret, code, f.verifier))
		wantTokens(t, "refresh", u.refresh(t, id, secret, tok.str("refresh_token")))
		time.Sleep(1500 * time.Millisecond) // past the grace period
		wantError(t, "reuse", u.refresh(t, id, secret, tok.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
		wantError(t, "reuse again", u.refresh(t, id, secret, tok.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
		u.wantTheft(t, "refresh_reuse", 1, ann.ID, id, "refresh_token_reused", "refresh_token")
	})
}

// wantTheft checks the count of a theft signal in the metrics, its audit
// events and its warnings.
func (u *usherServer) wantTheft(t *testing.T, signal string, n int, accountID, clientID, action, grant string) {
	t.Helper()
	if got := u.theftCount(t, signal); got != n {
		t.Errorf("usher_theft_signals_total{signal=%q} = %d, want %d", signal, got, n)
	}
	events, err := u.a.store.In(u.inst.ID).ListAudit(context.Background(), storage.AuditFilter{AccountID: accountID, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != n {
		t.Errorf("%d %s audit events of the account, want %d", len(events), action, n)
	}
	for _, e := range events {
		if e.Actor != "client:"+clientID || e.Address != "127.0.0.1" || e.Details["client_id"] != clientID || e.Details["grant"] != grant {
			t.Errorf("%s audit event: %+v, want the client %s, the grant %s and the address 127.0.0.1", action, e, clientID, grant)
		}
	}
	if got := u.log.count("level=WARN", `msg="theft signal"`, "signal="+signal, "client_id="+clientID, "address=127.0.0.1"); got != n {
		t.Errorf("%d warnings of the %s signal in the log, want %d", got, signal, n)
	}
}

var theftMetric = regexp.MustCompile(`(?m)^usher_theft_signals_total\{signal="([a-z_]+)"\} (\d+)$`)

// theftCount reads usher_theft_signals_total{signal} from the metrics
// listener (0 when absent).
func (u *usherServer) theftCount(t *testing.T, signal string) int {
	t.Helper()
	_, body := rawGet(t, u.metricsURL)
	for _, m := range theftMetric.FindAllStringSubmatch(body, -1) {
		if m[1] == signal {
			n, _ := strconv.Atoi(m[2])
			return n
		}
	}
	return 0
}
