package httpserver

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	log, _ := testLogger()
	h := testStack(testMux(), log, nil, false)
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	cases := map[string]bool{ // incoming id -> reused
		"abc-DEF_123":               true,
		strings.Repeat("a", 64):     true,
		"x":                         true,
		strings.Repeat("a", 65):     false,
		"":                          false,
		"has space":                 false,
		"semi;colon":                false,
		"new\nline":                 false,
		"ünïcode":                   false,
		"<script>alert(1)</script>": false,
	}
	seen := map[string]bool{}
	for in, reused := range cases {
		r := httptest.NewRequest(http.MethodGet, "/id", nil)
		if in != "" {
			r.Header["X-Request-Id"] = []string{in}
		}
		rec := serve(h, r)
		got := rec.Header().Get("X-Request-Id")
		if rec.Body.String() != got {
			t.Errorf("%q: context id %q, header %q", in, rec.Body.String(), got)
		}
		switch {
		case reused && got != in:
			t.Errorf("%q not reused: %q", in, got)
		case !reused && !hexID.MatchString(got):
			t.Errorf("%q: generated id %q", in, got)
		}
		if !reused {
			if seen[got] {
				t.Errorf("id %q generated twice", got)
			}
			seen[got] = true
		}
	}
	if id := RequestID(httptest.NewRequest(http.MethodGet, "/", nil).Context()); id != "" {
		t.Errorf("id without middleware: %q", id)
	}
}
