package httpserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// InFlight sees a request in flight and when it ended; requests it is told
// not to count leave it untouched.
func TestInFlight(t *testing.T) {
	f := &InFlight{}
	if last, idle := f.Idle(); !idle || !last.IsZero() {
		t.Fatalf("new: last %v, idle %v", last, idle)
	}
	var idleDuring bool
	counts := func(r *http.Request) bool { return r.URL.Path != "/skip" }
	h := f.Count(counts)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		_, idleDuring = f.Idle()
	}))
	before := time.Now()
	serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
	if idleDuring {
		t.Error("idle while a request ran")
	}
	last, idle := f.Idle()
	if !idle || last.Before(before) {
		t.Errorf("after the request: last %v (started %v), idle %v", last, before, idle)
	}
	serve(h, httptest.NewRequest(http.MethodGet, "/skip", nil))
	if !idleDuring {
		t.Error("an uncounted request was counted")
	}
	if got, _ := f.Idle(); !got.Equal(last) {
		t.Error("an uncounted request moved the last end")
	}
	all := f.Count(nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { _, idleDuring = f.Idle() }))
	serve(all, httptest.NewRequest(http.MethodGet, "/skip", nil))
	if idleDuring {
		t.Error("Count(nil) did not count")
	}
}
