package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Manual and temporary passwords: refused while the institution does not
// allow manual entry; once it does (PATCH settings), a password that fails
// the policy is refused with every rule it fails; a temporary one forces a
// change at the next sign-in, and stops working after the institution's
// lifetime; the customer is emailed each time.
func TestE2EAdminManualAndTemporaryPasswords(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		clock := &testClock{}
		u := startUsherAt(t, db, "", clock.Now)
		shopID, shopSecret := u.pointOfSale(u.inst, "Opera Tickets")
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		op, token := u.operatorToken(u.inst, "op@example.org")
		api := u.adminOf(u.inst, token)
		setPassword := func(pw string, temporary bool) apiResponse {
			return api.call(http.MethodPut, "/accounts/"+ann.ID+"/password", map[string]any{"password": pw, "temporary": temporary})
		}

		wantProblem(t, "manual entry off", setPassword("Another-passw0rd!", false), http.StatusForbidden, "manual-password-off")
		settings := api.want("settings", api.call(http.MethodPatch, "/settings", map[string]any{"manual_password": true,
			"temporary_password_lifetime_minutes": 1, "password_policy": map[string]any{"require_upper": true,
				"require_digit": true, "require_special": true}}), http.StatusOK)
		policy, _ := settings.body["password_policy"].(map[string]any)
		if settings.body["manual_password"] != true || settings.body["temporary_password_lifetime_minutes"] != float64(1) ||
			policy["require_special"] != true || policy["min_length"] != float64(10) {
			t.Errorf("settings after the change: %s", settings.raw)
		}
		if got := api.call(http.MethodGet, "/settings", nil); got.raw != settings.raw {
			t.Errorf("settings read back: %s, want %s", got.raw, settings.raw)
		}

		wantProblem(t, "a password that fails every rule", setPassword("abc", false), http.StatusBadRequest, "invalid-input",
			"password:password.too_short", "password:password.needs_upper", "password:password.needs_digit",
			"password:password.needs_special")
		api.want("a temporary password", setPassword("Temporary-passw0rd!", true), http.StatusNoContent)
		got := api.want("the account", api.call(http.MethodGet, "/accounts/"+ann.ID, nil), http.StatusOK)
		if got.body["must_change_password"] != true || got.str("password_expires_at") == "" {
			t.Errorf("after a temporary password: %s", got.raw)
		}
		emails, err := u.a.store.In(u.inst.ID).ListEmails(context.Background(), storage.OutboxFilter{AccountID: ann.ID})
		if err != nil || len(emails) != 1 || emails[0].Class != "password_changed" {
			t.Errorf("emails queued: %+v %v", emails, err)
		}
		if !hasEvent(api.eventsOf(ann.ID), "operator:"+op.ID+" password_set") {
			t.Errorf("no password_set event by the operator: %v", api.eventsOf(ann.ID))
		}

		// Within its lifetime: the sign-in goes through the forced change,
		// then on to the shop.
		shop := newRP(t, u.issuer, shopID, shopSecret)
		b := newBrowser(t)
		f := newFlow()
		resp, body := b.open(shop.authURL(f))
		resp, body = b.submit(resp, body, url.Values{"email": {"ann@example.org"}, "password": {"Temporary-passw0rd!"}})
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/password/change") {
			t.Fatalf("sign-in with the temporary password: %d at %s, want the forced change", resp.StatusCode, resp.Request.URL)
		}
		resp, body = b.submit(resp, body, url.Values{"password": {"Chosen-passw0rd!"}, "password_confirm": {"Chosen-passw0rd!"}})
		if got := callback(t, resp, body); got.Get("code") == "" || got.Get("state") != f.state {
			t.Fatalf("after the change: %v", got)
		}

		// After its lifetime: refused.
		api.want("another temporary password", setPassword("Temporary-passw0rd-2!", true), http.StatusNoContent)
		clock.Advance(2 * time.Minute)
		b = newBrowser(t)
		resp, body = b.open(shop.authURL(newFlow()))
		resp, body = b.submit(resp, body, url.Values{"email": {"ann@example.org"}, "password": {"Temporary-passw0rd-2!"}})
		if resp.StatusCode != http.StatusForbidden || !onPath(resp, "/login") || !strings.Contains(body, "expired") {
			t.Errorf("sign-in with an expired temporary password: %d at %s\n%.2000s", resp.StatusCode, resp.Request.URL, body)
		}
	})
}

// onPath reports whether resp is the page whose path ends in suffix.
func onPath(resp *http.Response, suffix string) bool {
	return strings.HasSuffix(resp.Request.URL.Path, suffix)
}
