package httpserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// testChecker is a readiness check that waits delay (or until its context
// ends, unless it ignores it) and then returns err.
type testChecker struct {
	delay     time.Duration
	ignoreCtx bool
	err       error
}

// Ready implements ReadinessChecker.
func (c testChecker) Ready(ctx context.Context) error {
	if c.ignoreCtx {
		time.Sleep(c.delay)
		return c.err
	}
	select {
	case <-time.After(c.delay):
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// get serves GET path through h.
func get(h http.Handler, path string) *httptest.ResponseRecorder {
	return serve(h, httptest.NewRequest(http.MethodGet, path, nil))
}

// wantHealth checks status, body and headers of a health response.
func wantHealth(t *testing.T, rec *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if rec.Code != status || rec.Body.String() != body {
		t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), status, body)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestHealthz(t *testing.T) {
	wantHealth(t, get(Healthz(), "/healthz"), http.StatusOK, "ok\n")
}

func TestReadyzReady(t *testing.T) {
	log, sink := testLogger()
	wantHealth(t, get(Readyz(testChecker{}, log, nil), "/readyz"), http.StatusOK, "ready\n")
	if sink.String() != "" {
		t.Errorf("logged: %s", sink.String())
	}
}

func TestReadyzFailing(t *testing.T) {
	log, sink := testLogger()
	rec := get(Readyz(testChecker{err: errors.New("migration 0007 not applied")}, log, nil), "/readyz")
	wantHealth(t, rec, http.StatusServiceUnavailable, "not ready\n")
	if strings.Contains(rec.Body.String(), "migration") {
		t.Errorf("cause sent to the client")
	}
	lines := sink.lines(t)
	if len(lines) != 1 || lines[0]["level"] != "WARN" || !strings.Contains(lines[0]["err"].(string), "migration 0007 not applied") {
		t.Errorf("log %v", lines)
	}
}

func TestReadyzSlow(t *testing.T) {
	for _, ignoreCtx := range []bool{false, true} {
		log, sink := testLogger()
		h := readyz(testChecker{delay: time.Second, ignoreCtx: ignoreCtx}, log, nil, 20*time.Millisecond)
		start := time.Now()
		wantHealth(t, get(h, "/readyz"), http.StatusServiceUnavailable, "not ready\n")
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("ignoreCtx %v: answered after %v", ignoreCtx, d)
		}
		if !strings.Contains(sink.String(), "deadline exceeded") {
			t.Errorf("ignoreCtx %v: log %s", ignoreCtx, sink.String())
		}
	}
}

func TestReadyzDefaultTimeout(t *testing.T) {
	if readyTimeout != 2*time.Second {
		t.Errorf("readyTimeout = %v", readyTimeout)
	}
}
