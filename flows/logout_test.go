package flows_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
)

// Signing out deletes the record: the old cookie, replayed, is worthless.
func TestLogoutEndsTheSession(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		ann := e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		anonymous := b.get("/institutions/opera/logout")
		if !strings.Contains(anonymous.body, e.message("en", "signed_out.title", nil)) {
			t.Errorf("logout page of nobody:\n%s", anonymous.body)
		}
		b.signIn("opera", "ann@example.org", goodPassword, "")
		cookie := b.cookie("opera")
		confirm := b.get("/institutions/opera/logout")
		if confirm.status != http.StatusOK || !strings.Contains(confirm.body,
			e.message("en", "logout.question", map[string]string{"institution": "Institution opera"})) {
			t.Fatalf("confirm page: %d\n%s", confirm.status, confirm.body)
		}
		if e.authenticated(t, e.opera, cookie) == nil {
			t.Fatal("GET /logout signed out")
		}
		done := b.post("/institutions/opera/logout", url.Values{})
		if done.status != http.StatusOK || !strings.Contains(done.body, e.message("en", "signed_out.title", nil)) {
			t.Errorf("sign-out: %d\n%s", done.status, done.body)
		}
		if c := setCookie(t, done.cookies); c.MaxAge >= 0 || c.Path != "/institutions/opera/" {
			t.Errorf("the cookie was not cleared: %+v", c)
		}
		if e.authenticated(t, e.opera, cookie) != nil {
			t.Error("the old cookie still authenticates")
		}
		if _, err := e.store.In(e.opera.ID).GetSession(e.ctx, recordID(cookie.Value)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the record survived: %v", err)
		}
		if n := len(e.auditActions(t, e.opera, ann.ID, "sign_out")); n != 1 {
			t.Errorf("%d sign_out events", n)
		}
		if account := b.get("/institutions/opera/account"); account.status != http.StatusSeeOther ||
			account.location != "/institutions/opera/login" {
			t.Errorf("account page after sign-out: %d to %q", account.status, account.location)
		}
	})
}
