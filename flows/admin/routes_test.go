package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// What the API answers before any handler: the institution, the token,
// the method and the path, each as a problem.
func TestProblemsBeforeTheHandler(t *testing.T) {
	mux := http.NewServeMux()
	testAPI(t).Routes(mux)
	tests := []struct {
		name, method, path, auth string
		status                   int
		header, value            string
	}{
		{"unknown institution", "GET", "/institutions/ballet/admin/v1/accounts", "", 404, "", ""},
		{"no token", "GET", "/institutions/opera/admin/v1/accounts", "", 401,
			"WWW-Authenticate", `Bearer realm="https://id.example.org/institutions/opera"`},
		{"not a bearer token", "GET", "/institutions/opera/admin/v1/accounts", "Basic YTpi", 401,
			"WWW-Authenticate", `Bearer realm="https://id.example.org/institutions/opera"`},
		{"bad token", "GET", "/institutions/opera/admin/v1/accounts", "Bearer nope", 401,
			"WWW-Authenticate", `Bearer realm="https://id.example.org/institutions/opera", error="invalid_token"`},
		{"wrong method", "DELETE", "/institutions/opera/admin/v1/accounts", "Bearer nope", 405, "Allow", "GET, POST, HEAD"},
		{"wrong method on an account", "PATCH", "/institutions/opera/admin/v1/accounts/x/two-factor", "", 405, "Allow", "PUT, DELETE"},
		{"unknown path", "GET", "/institutions/opera/admin/v1/nothing", "", 404, "", ""},
		{"unknown version", "GET", "/institutions/opera/admin/v2/accounts", "", 404, "", ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var p problemBody
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != tt.status || p.Detail == "" || p.Type != "about:blank" {
			t.Errorf("%s: %d %s %s, want a %d problem", tt.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tt.status)
		}
		if tt.header != "" && rec.Header().Get(tt.header) != tt.value {
			t.Errorf("%s: %s %q, want %q", tt.name, tt.header, rec.Header().Get(tt.header), tt.value)
		}
	}
}

// A problem's detail is in the caller's language.
func TestProblemsInTheCallersLanguage(t *testing.T) {
	mux := http.NewServeMux()
	testAPI(t).Routes(mux)
	req := httptest.NewRequest("GET", "/institutions/opera/admin/v1/accounts", nil)
	req.Header.Set("Accept-Language", "fr-CH, en;q=0.5")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "jeton d'accès") || rec.Header().Get("Content-Language") != "fr" {
		t.Errorf("French problem: %s %s", rec.Header().Get("Content-Language"), rec.Body)
	}
}
