package flows_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

const temporaryPassword = "a temporary passphrase"

// A temporary password signs in only through a forced change, which must
// meet the policy; then the person is signed in and back on the request.
func TestTemporaryPasswordForcesChange(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		ann := e.customer(t, e.opera, "ann@example.org")
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Password.RequireDigit = true })
		must(t, e.accounts.SetPassword(e.ctx, e.opera, ann.ID, temporaryPassword+" 1", true, flows.OperatorActor("op")))
		b := e.browser(t)
		rt := returnTo("opera", shopID)

		got := b.signIn("opera", "ann@example.org", temporaryPassword+" 1", rt)
		if got.status != http.StatusSeeOther || got.location != "/institutions/opera/password/change" {
			t.Fatalf("sign-in with a temporary password: %d to %q", got.status, got.location)
		}
		pending := b.cookie("opera")
		if pending == nil || e.authenticated(t, e.opera, pending) != nil {
			t.Fatal("the account is signed in before changing its password")
		}
		form := b.get("/institutions/opera/password/change")
		if form.status != http.StatusOK || !strings.Contains(form.body, e.message("en", "password.needs_digit", nil)) {
			t.Fatalf("change form: %d\n%s", form.status, form.body)
		}

		weak := b.post("/institutions/opera/password/change", url.Values{"password": {"short"}, "password_confirm": {"other"}})
		for _, id := range []string{"password.too_short", "password.needs_digit", "password_change.mismatch"} {
			if !strings.Contains(weak.body, `<li id="problem-`) || !strings.Contains(weak.body,
				e.message("en", id, map[string]string{"min_length": "10"})) {
				t.Errorf("weak password: no %s\n%s", id, weak.body)
			}
		}
		same := b.post("/institutions/opera/password/change", url.Values{"password": {temporaryPassword + " 1"},
			"password_confirm": {temporaryPassword + " 1"}})
		if same.status != http.StatusBadRequest || !strings.Contains(same.body, e.message("en", "password_change.same_as_old", nil)) {
			t.Errorf("the temporary password again: %d\n%s", same.status, same.body)
		}

		done := b.post("/institutions/opera/password/change", url.Values{"password": {"my own passphrase 7"},
			"password_confirm": {"my own passphrase 7"}})
		if done.status != http.StatusSeeOther || done.location != rt {
			t.Fatalf("change: %d to %q\n%s", done.status, done.location, done.body)
		}
		bs := e.authenticated(t, e.opera, b.cookie("opera"))
		if bs == nil || bs.AccountID != ann.ID || b.cookie("opera").Value == pending.Value {
			t.Fatalf("not signed in with a new session: %+v", bs)
		}
		stored, _ := e.store.In(e.opera.ID).GetAccount(e.ctx, ann.ID)
		if stored.MustChangePassword || stored.PasswordExpiresAt != nil {
			t.Errorf("still temporary: %+v", stored)
		}
		if ok, _, _ := e.hasher.Verify(e.ctx, "my own passphrase 7", stored.PasswordHash); !ok {
			t.Error("the new password was not stored")
		}
		if n := len(e.auditActions(t, e.opera, ann.ID, "password_changed")); n != 1 {
			t.Errorf("%d password_changed events", n)
		}
		if again := b.get("/institutions/opera/password/change"); again.status != http.StatusSeeOther {
			t.Errorf("the change page after the change: %d", again.status)
		}
	})
}

// An expired temporary password is refused, with its own message, once it
// was given right.
func TestExpiredTemporaryPasswordRefused(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		ann := e.customer(t, e.opera, "ann@example.org")
		must(t, e.accounts.SetPassword(e.ctx, e.opera, ann.ID, temporaryPassword, true, flows.ActorCLI))
		e.clock.Advance(e.opera.Settings.TemporaryPasswordTTL.Std())
		b := e.browser(t)
		wrong := b.signIn("opera", "ann@example.org", "not it at all", "")
		if wrong.status != http.StatusBadRequest {
			t.Errorf("wrong password: %d", wrong.status)
		}
		got := b.signIn("opera", "ann@example.org", temporaryPassword, "")
		want := e.message("en", "signin.password_expired", map[string]string{"institution": "Institution opera"})
		if got.status != http.StatusForbidden || !strings.Contains(got.body, want) {
			t.Errorf("expired: %d\n%s", got.status, got.body)
		}
		if b.cookie("opera") != nil {
			t.Error("a session was created")
		}
	})
}

// The pending change does not wait forever.
func TestPendingPasswordChangeExpires(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		ann := e.customer(t, e.opera, "ann@example.org")
		must(t, e.accounts.SetPassword(e.ctx, e.opera, ann.ID, temporaryPassword, true, flows.ActorCLI))
		b := e.browser(t)
		b.signIn("opera", "ann@example.org", temporaryPassword, "")
		e.clock.Advance(16 * time.Minute)
		got := b.post("/institutions/opera/password/change", url.Values{"password": {"my own passphrase 7"},
			"password_confirm": {"my own passphrase 7"}})
		if got.status != http.StatusForbidden || !strings.Contains(got.body, e.message("en", "signin.step_expired", nil)) {
			t.Errorf("late change: %d\n%s", got.status, got.body)
		}
		stored, _ := e.store.In(e.opera.ID).GetAccount(e.ctx, ann.ID)
		if !stored.MustChangePassword {
			t.Error("the late change was applied")
		}
	})
}
