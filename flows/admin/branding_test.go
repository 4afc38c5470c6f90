package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Only the uploads of an image get a body limit of their own, the image's:
// every other request keeps the server's.
func TestBodyLimit(t *testing.T) {
	api := testAPI(t)
	for _, c := range []struct {
		method, path string
		want         int64
	}{
		{"PUT", "/institutions/opera/admin/v1/settings/logo", 256 << 10},
		{"PUT", "/institutions/opera/admin/v1/settings/favicon", 64 << 10},
		{"POST", "/institutions/opera/admin/v1/settings/logo", 0},
		{"PATCH", "/institutions/opera/admin/v1/settings", 0},
		{"PUT", "/institutions/opera/admin/v1/accounts/x/password", 0},
		{"PUT", "/institutions/opera/x/admin/v1/settings/logo", 0},
		{"PUT", "/admin/v1/settings/logo", 0},
		{"PUT", "/institutions/opera/admin/v1/settings/logo/more", 0},
	} {
		if got := api.BodyLimit(httptest.NewRequest(c.method, c.path, http.NoBody)); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, got, c.want)
		}
	}
}
