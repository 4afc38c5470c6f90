package httpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/templates"
)

// testLog is a goroutine-safe JSON log sink.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the decoded JSON log lines.
func (l *testLog) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// testLogger returns a JSON logger at debug level writing to a new sink.
func testLogger() (*slog.Logger, *testLog) {
	sink := &testLog{}
	return slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug})), sink
}

// testStack is the usual middleware stack around h.
func testStack(h http.Handler, log *slog.Logger, m RequestObserver, httpsPublic bool) http.Handler {
	return Chain(h, Observe(log, m), SecurityHeaders(templates.ContentSecurityPolicy, httpsPublic), Recover(log), LimitBody(1<<10))
}

// testMux is a ServeMux with an ok route, a panicking route and an echo of
// the request id.
func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /institutions/{slug}/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok "+r.PathValue("slug"))
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1234")
		w.Header().Set("Location", "https://elsewhere.example/")
		panic("kaboom SECRET-PANIC-VALUE")
	})
	mux.HandleFunc("GET /id", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, RequestID(r.Context()))
	})
	return mux
}

// serve runs one request through h.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// recoverPanic runs h and returns what it panicked with.
func recoverPanic(h http.Handler, w http.ResponseWriter, r *http.Request) (v any) {
	defer func() { v = recover() }()
	h.ServeHTTP(w, r)
	return nil
}

// observed is what Observe measured: requests by route and status code, and
// observations by route.
type observed struct {
	mu       sync.Mutex
	requests map[string]int // "route code"
	routes   map[string]int
}

// ObserveRequest implements RequestObserver.
func (o *observed) ObserveRequest(route string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.requests == nil {
		o.requests, o.routes = map[string]int{}, map[string]int{}
	}
	o.requests[route+" "+strconv.Itoa(status)]++
	o.routes[route]++
}

// count returns the requests of route with status.
func (o *observed) count(route string, status int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests[route+" "+strconv.Itoa(status)]
}

// observations returns the observations of route.
func (o *observed) observations(route string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.routes[route]
}
