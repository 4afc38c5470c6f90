package flows_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// The provider's interfaces (provider/sessions.go, provider/provider.go),
// restated here: flows may not import provider, and implements them by
// shape.
type (
	providerSessions interface {
		Authenticated(r *http.Request, inst *storage.Institution) (*issuer.SignedIn, error)
		SignOut(w http.ResponseWriter, r *http.Request, inst *storage.Institution) error
	}
	providerPages interface {
		Error(w http.ResponseWriter, r *http.Request, inst *storage.Institution, status int, titleID, messageID string)
	}
	cmdMetrics interface {
		SignIn(outcome string)
		Lockout()
	}
)

var (
	_ providerSessions = (*flows.Sessions)(nil)
	_ providerPages    = (*flows.Site)(nil)
	_ flows.Metrics    = cmdMetrics(nil)
)

// The protocol side's error pages are localized like the others.
func TestErrorPageForTheProvider(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/institutions/opera/oauth2/authorize?client_id=x&ui_locales=it", nil)
		e.site.Error(w, r, e.opera, http.StatusBadRequest, "error.oauth.title", "error.oauth.unknown_client")
		body := w.Body.String()
		want := e.message("it", "error.oauth.unknown_client", map[string]string{"institution": "Institution opera"})
		if w.Code != http.StatusBadRequest || !strings.Contains(body, want) || !strings.Contains(body, `lang="it"`) ||
			w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%d %v\n%s", w.Code, w.Header(), body)
		}
	})
}
