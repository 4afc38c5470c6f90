package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// healthTestChecker is a readiness check that waits delay (or until its
// context ends, unless it ignores it) and then returns err.
type healthTestChecker struct {
	delay     time.Duration
	ignoreCtx bool
	err       error
}

// Ready implements healthChecker.
func (c healthTestChecker) Ready(ctx context.Context) error {
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

// healthTestGet serves GET path through h.
func healthTestGet(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// healthTestWant checks status, body and headers of a health response.
func healthTestWant(t *testing.T, rec *httptest.ResponseRecorder, status int, body string) {
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

func TestHealthHealthz(t *testing.T) {
	log, _ := mwTestLogger()
	healthz, _ := healthHandlers(healthTestChecker{err: errors.New("db down")}, log)
	healthTestWant(t, healthTestGet(healthz, "/healthz"), http.StatusOK, "ok\n")
}

func TestHealthReadyzReady(t *testing.T) {
	log, sink := mwTestLogger()
	_, readyz := healthHandlers(healthTestChecker{}, log)
	healthTestWant(t, healthTestGet(readyz, "/readyz"), http.StatusOK, "ready\n")
	if sink.String() != "" {
		t.Errorf("logged: %s", sink.String())
	}
}

func TestHealthReadyzFailing(t *testing.T) {
	log, sink := mwTestLogger()
	_, readyz := healthHandlers(healthTestChecker{err: errors.New("migration 0007 not applied")}, log)
	rec := healthTestGet(readyz, "/readyz")
	healthTestWant(t, rec, http.StatusServiceUnavailable, "not ready\n")
	if strings.Contains(rec.Body.String(), "migration") {
		t.Errorf("cause sent to the client")
	}
	lines := sink.lines(t)
	if len(lines) != 1 || lines[0]["level"] != "WARN" || !strings.Contains(lines[0]["err"].(string), "migration 0007 not applied") {
		t.Errorf("log %v", lines)
	}
}

func TestHealthReadyzSlow(t *testing.T) {
	for _, ignoreCtx := range []bool{false, true} {
		log, sink := mwTestLogger()
		_, readyz := healthHandlersTimeout(healthTestChecker{delay: time.Second, ignoreCtx: ignoreCtx}, log, 20*time.Millisecond)
		start := time.Now()
		healthTestWant(t, healthTestGet(readyz, "/readyz"), http.StatusServiceUnavailable, "not ready\n")
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("ignoreCtx %v: answered after %v", ignoreCtx, d)
		}
		if !strings.Contains(sink.String(), "deadline exceeded") {
			t.Errorf("ignoreCtx %v: log %s", ignoreCtx, sink.String())
		}
	}
}

func TestHealthReadyzDefaultTimeout(t *testing.T) {
	if healthReadyTimeout != 2*time.Second {
		t.Errorf("healthReadyTimeout = %v", healthReadyTimeout)
	}
}
