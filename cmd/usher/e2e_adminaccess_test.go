package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Disabling an account ends its grants: its refresh token is refused, its
// tokens introspect as inactive, it cannot sign in; enabling lets it in
// again. Each change starts from its own state (409 otherwise). Unlocking
// lifts a lock. The audit trail names the operator.
func TestE2EAdminDisableEnableUnlock(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		shopID, shopSecret, tok := signedInTokens(t, u)
		ann, err := u.a.store.In(u.inst.ID).GetAccountByEmail(context.Background(), storage.Customer, "ann@example.org")
		if err != nil {
			t.Fatal(err)
		}
		op, token := u.operatorToken(u.inst, "op@example.org")
		api := u.adminOf(u.inst, token)

		got := api.want("disable", api.call(http.MethodPost, "/accounts/"+ann.ID+"/disable", nil), http.StatusOK)
		if got.str("status") != "disabled" {
			t.Errorf("after disable: %s", got.raw)
		}
		u.wantGrantEnded(t, "after disable", shopID, shopSecret, tok)
		shop := newRP(t, u.issuer, shopID, shopSecret)
		b := newBrowser(t)
		resp, body := b.open(shop.authURL(newFlow()))
		resp, _ = b.submit(resp, body, url.Values{"email": {"ann@example.org"}, "password": {testPassword}})
		if resp.StatusCode != http.StatusForbidden || !onPath(resp, "/login") {
			t.Errorf("sign-in of a disabled account: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		wantProblem(t, "disable twice", api.call(http.MethodPost, "/accounts/"+ann.ID+"/disable", nil), http.StatusConflict, "account-state")

		got = api.want("enable", api.call(http.MethodPost, "/accounts/"+ann.ID+"/enable", nil), http.StatusOK)
		if got.str("status") != "active" {
			t.Errorf("after enable: %s", got.raw)
		}
		shop.signIn(newBrowser(t), "ann@example.org")
		wantProblem(t, "enable an active account", api.call(http.MethodPost, "/accounts/"+ann.ID+"/enable", nil),
			http.StatusConflict, "account-state")

		until := time.Now().Add(time.Hour)
		if err := u.a.store.In(u.inst.ID).LockAccount(context.Background(), ann.ID, &until); err != nil {
			t.Fatal(err)
		}
		if got := api.call(http.MethodGet, "/accounts/"+ann.ID, nil); got.body["locked_until"] == nil {
			t.Errorf("a locked account shows no lock: %s", got.raw)
		}
		got = api.want("unlock", api.call(http.MethodPost, "/accounts/"+ann.ID+"/unlock", nil), http.StatusOK)
		if got.body["locked_until"] != nil {
			t.Errorf("after unlock: %s", got.raw)
		}
		events := api.eventsOf(ann.ID)
		for _, action := range []string{"account_disabled", "account_enabled", "account_unlocked"} {
			if !hasEvent(events, "operator:"+op.ID+" "+action) {
				t.Errorf("no %s event by the operator in %v", action, events)
			}
		}

		// A disabled operator's token opens the API no more.
		_, svcToken := u.serviceToken(u.inst, adminScopes...)
		service := u.adminOf(u.inst, svcToken)
		service.want("disable the operator", service.call(http.MethodPost, "/accounts/"+op.ID+"/disable", nil), http.StatusOK)
		wantProblem(t, "a disabled operator's token", api.call(http.MethodGet, "/accounts", nil), http.StatusUnauthorized, "")
	})
}

// A customer's token never carries the admin API's scopes, even from a
// client registered with them and asked for them, nor after a refresh;
// the API refuses it. An operator's token and a client's own carry them.
func TestE2EAdminRefusesCustomersTokens(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		scopes := append([]string{"openid", "offline_access"}, adminScopes...)
		id, secret := u.client(u.inst, provider.ClientSpec{Name: "Shop", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, Scopes: scopes})
		u.account(u.inst, storage.Customer, "ann@example.org")
		shop := newRP(t, u.issuer, id, secret, scopes...)
		code, f := shop.code(newBrowser(t), "ann@example.org")
		check := func(what string, r apiResponse) {
			t.Helper()
			if s := r.str("scope"); !strings.Contains(s, "openid") || strings.Contains(s, "accounts:") || strings.Contains(s, "settings:") {
				t.Errorf("%s: the customer's token carries %q", what, s)
			}
			in := u.introspect(t, id, secret, r.str("access_token"))
			if in.body["active"] != true || !strings.Contains(in.str("scope"), "openid") || strings.Contains(in.str("scope"), ":") {
				t.Errorf("%s: introspection %s", what, in.raw)
			}
			wantProblem(t, what+": the customer's token at the admin API",
				u.adminOf(u.inst, r.str("access_token")).call(http.MethodGet, "/accounts", nil), http.StatusUnauthorized, "")
		}
		tok := wantTokens(t, "code exchange", u.redeem(t, id, secret, code, f.verifier))
		check("issued", tok)
		check("refreshed", wantTokens(t, "refresh", u.refresh(t, id, secret, tok.str("refresh_token"))))

		_, opToken := u.operatorToken(u.inst, "op@example.org")
		_, svcToken := u.serviceToken(u.inst, issuer.ScopeAccountsRead)
		for what, token := range map[string]string{"operator": opToken, "client": svcToken} {
			u.adminOf(u.inst, token).want(what, u.adminOf(u.inst, token).call(http.MethodGet, "/accounts", nil), http.StatusOK)
		}
		// A scope the token lacks: 403 with the challenge.
		r := u.adminOf(u.inst, svcToken).call(http.MethodPost, "/accounts", map[string]any{"kind": "customer", "email": "x@example.org"})
		wantProblem(t, "without accounts:write", r, http.StatusForbidden, "")
		if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope"`) {
			t.Errorf("challenge %q", ch)
		}
		wantProblem(t, "without settings:write", u.adminOf(u.inst, svcToken).call(http.MethodPatch, "/settings",
			map[string]any{"manual_password": true}), http.StatusForbidden, "")
	})
}

// The second factor per operator: required or not (audited), removed
// (emailed, audited); a customer cannot be required one.
func TestE2EAdminTwoFactor(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		admin, token := u.operatorToken(u.inst, "admin@example.org")
		api := u.adminOf(u.inst, token)
		op := u.account(u.inst, storage.Operator, "op@example.org")
		ann := u.account(u.inst, storage.Customer, "ann@example.org")

		got := api.want("require", api.call(http.MethodPut, "/accounts/"+op.ID+"/two-factor", map[string]any{"required": true}), http.StatusOK)
		if got.body["two_factor_required"] != true {
			t.Errorf("after require: %s", got.raw)
		}
		wantProblem(t, "a customer", api.call(http.MethodPut, "/accounts/"+ann.ID+"/two-factor", map[string]any{"required": true}),
			http.StatusConflict, "account-state")
		wantProblem(t, "remove what is not there", api.call(http.MethodDelete, "/accounts/"+op.ID+"/two-factor", nil),
			http.StatusConflict, "account-state")

		s := u.a.store.In(u.inst.ID)
		a, _ := s.GetAccount(context.Background(), op.ID)
		now := time.Now()
		a.TOTPSecret, a.TOTPConfirmedAt = []byte("sealed secret"), &now // enrolled (the test's set-up)
		if err := s.UpdateAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		api.want("remove", api.call(http.MethodDelete, "/accounts/"+op.ID+"/two-factor", nil), http.StatusNoContent)
		got = api.want("after removal", api.call(http.MethodGet, "/accounts/"+op.ID, nil), http.StatusOK)
		if got.body["two_factor_enrolled"] != false || got.body["two_factor_required"] != true {
			t.Errorf("after removal: %s", got.raw)
		}
		emails, _ := s.ListEmails(context.Background(), storage.OutboxFilter{AccountID: op.ID})
		if !slices.ContainsFunc(emails, func(e storage.OutboxEmail) bool { return e.Class == "two_factor_removed" }) {
			t.Errorf("no two_factor_removed email: %+v", emails)
		}
		events := api.eventsOf(op.ID)
		for _, action := range []string{"two_factor_requirement_changed", "two_factor_removed"} {
			if !hasEvent(events, "operator:"+admin.ID+" "+action) {
				t.Errorf("no %s event by the operator in %v", action, events)
			}
		}
	})
}

// Grants follow the account on their own, whatever changed the account: a
// token of an account that is no longer active introspects as inactive
// and its refresh token is refused, even while its grant still exists.
func TestE2EGrantsFollowTheAccount(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		shopID, shopSecret, tok := signedInTokens(t, u)
		s := u.a.store.In(u.inst.ID)
		ann, err := s.GetAccountByEmail(context.Background(), storage.Customer, "ann@example.org")
		if err != nil {
			t.Fatal(err)
		}
		ann.Status = storage.Disabled // behind the flows' back: the grant is not revoked
		if err := s.UpdateAccount(context.Background(), ann); err != nil {
			t.Fatal(err)
		}
		if u.active(t, shopID, shopSecret, tok.str("access_token")) {
			t.Error("the access token of a disabled account introspects as active")
		}
		if u.active(t, shopID, shopSecret, tok.str("refresh_token")) {
			t.Error("the refresh token of a disabled account introspects as active")
		}
		wantError(t, "refresh for a disabled account", u.refresh(t, shopID, shopSecret, tok.str("refresh_token")),
			http.StatusBadRequest, "invalid_grant")
	})
}
