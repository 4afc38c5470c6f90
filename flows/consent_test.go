package flows_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
)

func TestConsentAllowAndDeny(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		ann := e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		rt := returnTo("opera", shopID, "scope", "openid email offline_access admin:all")
		consentURL := "/institutions/opera/consent?return_to=" + url.QueryEscape(rt)

		anonymous := b.get(consentURL)
		if anonymous.status != http.StatusSeeOther || anonymous.location != "/institutions/opera/login?return_to="+url.QueryEscape(rt) {
			t.Fatalf("consent before sign-in: %d to %q", anonymous.status, anonymous.location)
		}
		b.signIn("opera", "ann@example.org", goodPassword, rt)
		page := b.get(consentURL)
		for _, id := range []string{"scope.openid", "scope.email", "scope.offline_access"} {
			if !strings.Contains(page.body, e.message("en", id, nil)) {
				t.Errorf("consent page lacks %s:\n%s", id, page.body)
			}
		}
		if !strings.Contains(page.body, "Ticket Shop") || strings.Contains(page.body, e.message("en", "scope.profile", nil)) ||
			strings.Contains(page.body, "admin:all") {
			t.Errorf("consent page shows the wrong client or scopes:\n%s", page.body)
		}

		allow := b.post("/institutions/opera/consent", url.Values{"return_to": {rt}, "consent": {"allow"}})
		if allow.status != http.StatusSeeOther || allow.location != rt {
			t.Fatalf("allow: %d to %q", allow.status, allow.location)
		}
		c, err := e.store.In(e.opera.ID).GetConsent(e.ctx, ann.ID, shopID)
		if err != nil || !slices.Equal([]string(c.Scopes), []string{"email", "offline_access", "openid"}) &&
			!slices.Equal([]string(c.Scopes), []string{"openid", "email", "offline_access"}) {
			t.Errorf("stored consent %+v, %v", c, err)
		}
		if n := len(e.auditActions(t, e.opera, ann.ID, "consent_granted")); n != 1 {
			t.Errorf("%d consent_granted events", n)
		}

		must(t, e.store.In(e.opera.ID).RevokeConsent(e.ctx, ann.ID, shopID))
		deny := b.post("/institutions/opera/consent", url.Values{"return_to": {rt}, "consent": {"deny"}})
		if deny.status != http.StatusSeeOther || deny.location != rt+"&usher_consent=denied" {
			t.Errorf("deny: %d to %q", deny.status, deny.location)
		}
		if _, err := e.store.In(e.opera.ID).GetConsent(e.ctx, ann.ID, shopID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deny stored a consent: %v", err)
		}
		bad := b.post("/institutions/opera/consent", url.Values{"return_to": {"https://evil.example/"}, "consent": {"allow"}})
		if bad.status != http.StatusBadRequest || strings.Contains(bad.location, "evil") {
			t.Errorf("consent for a foreign return_to: %d to %q", bad.status, bad.location)
		}
	})
}
