package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// wantSecurityHeaders checks the security headers of a response.
func wantSecurityHeaders(t *testing.T, h http.Header, hsts bool) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
			"font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Permissions-Policy":         "camera=(), microphone=(), geolocation=()",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(h.Get("Content-Security-Policy"), "form-action") {
		t.Errorf("CSP has form-action")
	}
	got := h.Get("Strict-Transport-Security")
	if hsts && got != "max-age=31536000" || !hsts && got != "" {
		t.Errorf("Strict-Transport-Security = %q (https %v)", got, hsts)
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		log, _ := testLogger()
		h := testStack(testMux(), log, nil, https)
		for path, status := range map[string]int{"/institutions/acme/healthz": 200, "/nowhere": 404, "/boom": 500} {
			rec := serve(h, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != status {
				t.Errorf("%s: status %d, want %d", path, rec.Code, status)
			}
			wantSecurityHeaders(t, rec.Header(), https)
		}
	}
}
