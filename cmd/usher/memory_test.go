package main

import (
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"testing"
	"time"

	"github.com/usher-idp/usher/internal/httpserver"
)

// serve raises the collector's target unless the operator chose one, and
// lowers it while passwords are hashed.
func TestGCTuning(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	operator := &gcTuning{}
	operator.start([]string{"PATH=/bin", "GOGC=50"})
	operator.hashing(false)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: the target changed to %d", got)
	}
	g := &gcTuning{}
	g.start([]string{"PATH=/bin"})
	if got := debug.SetGCPercent(gcPercent); got != gcPercent {
		t.Errorf("GOGC unset: target %d, want %d", got, gcPercent)
	}
	g.hashing(true)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("while hashing: target %d, want 100", got)
	}
	g.hashing(false)
	if got := debug.SetGCPercent(gcPercent); got != gcPercent {
		t.Errorf("after hashing: target %d, want %d", got, gcPercent)
	}
}

// The activity middleware sees a request in flight and when it ended, which
// is how serve knows it may hand memory back.
func TestActivity(t *testing.T) {
	a := &httpserver.InFlight{}
	if last, quiet := a.Idle(); !quiet || !last.IsZero() {
		t.Fatalf("new: last %v, quiet %v", last, quiet)
	}
	var duringQuiet bool
	h := a.Count(isActivity)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		_, duringQuiet = a.Idle()
	}))
	before := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/institutions/demo/jwks", nil))
	if duringQuiet {
		t.Error("quiet while a request ran")
	}
	last, quiet := a.Idle()
	if !quiet || last.Before(before) {
		t.Errorf("after the request: last %v (started %v), quiet %v", last, before, quiet)
	}
	for _, probe := range []string{"/healthz", "/readyz", "/metrics"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", probe, nil))
		if got, _ := a.Idle(); !got.Equal(last) {
			t.Errorf("a probe of %s counted as activity", probe)
		}
	}
}
