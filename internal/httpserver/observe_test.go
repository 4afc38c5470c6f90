package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestObserveLogsNoSecrets(t *testing.T) {
	log, sink := testLogger()
	h := testStack(testMux(), log, &observed{}, true)
	r := httptest.NewRequest(http.MethodPost, "/oauth2/token?code=SECRET", strings.NewReader("password=SECRET"))
	r.Header.Set("Authorization", "Bearer SECRET")
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: "session", Value: "SECRET"})
	r.RemoteAddr = "192.0.2.7:51234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	rec := serve(h, r)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d", rec.Code)
	}
	out := sink.String()
	if strings.Contains(out, "SECRET") {
		t.Fatalf("secret in log: %s", out)
	}
	lines := sink.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d log lines", len(lines))
	}
	l := lines[0]
	want := map[string]any{"level": "INFO", "method": "POST", "route": "unmatched", "path": "/oauth2/token",
		"status": float64(404), "remote": "192.0.2.7", "request_id": rec.Header().Get("X-Request-Id")}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s = %v, want %v", k, l[k], v)
		}
	}
	if _, ok := l["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms = %v", l["duration_ms"])
	}
	if b, ok := l["bytes"].(float64); !ok || b != float64(rec.Body.Len()) {
		t.Errorf("bytes = %v, body %d", l["bytes"], rec.Body.Len())
	}
}

func TestObserveRoutePattern(t *testing.T) {
	log, sink := testLogger()
	m := &observed{}
	mux := testMux()
	// Both orders of Observe and LimitBody (which copies the request) must
	// see the pattern.
	for _, h := range []http.Handler{
		testStack(mux, log, m, false),
		Chain(mux, LimitBody(1<<10), Observe(log, m)),
	} {
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/institutions/acme/healthz?code=SECRET", nil))
		if rec.Code != http.StatusOK || rec.Body.String() != "ok acme" {
			t.Fatalf("%d %q", rec.Code, rec.Body.String())
		}
	}
	for _, l := range sink.lines(t) {
		if l["route"] != "GET /institutions/{slug}/healthz" || l["path"] != "/institutions/acme/healthz" ||
			l["status"] != float64(200) || l["bytes"] != float64(len("ok acme")) {
			t.Errorf("log line %v", l)
		}
	}
	if strings.Contains(sink.String(), "SECRET") {
		t.Errorf("query string in log")
	}
	if got := m.count("GET /institutions/{slug}/healthz", 200); got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
	if got := m.observations("GET /institutions/{slug}/healthz"); got != 2 {
		t.Errorf("durations = %d, want 2", got)
	}
}

func TestObserveMetricsUnmatchedAndPanic(t *testing.T) {
	log, _ := testLogger()
	m := &observed{}
	h := testStack(testMux(), log, m, false)
	serve(h, httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	serve(h, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if got := m.count("unmatched", 404); got != 1 {
		t.Errorf("unmatched = %d, want 1", got)
	}
	if got := m.count("GET /boom", 500); got != 1 {
		t.Errorf("boom = %d, want 1", got)
	}
}

func TestObserveUnrecoveredPanic(t *testing.T) {
	log, sink := testLogger()
	h := Observe(log, &observed{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	if v := recoverPanic(h, httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil)); v != http.ErrAbortHandler {
		t.Fatalf("panic value %v", v)
	}
	lines := sink.lines(t)
	if len(lines) != 1 || lines[0]["status"] != float64(500) || lines[0]["aborted"] != true {
		t.Errorf("log %v", lines)
	}
}

func TestObserveInformationalStatus(t *testing.T) {
	log, sink := testLogger()
	h := Observe(log, nil)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</static/app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints) // informational: not the status
		w.WriteHeader(http.StatusCreated)
	}))
	srv := httptest.NewServer(h)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	srv.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(sink.String(), `"status":201`) {
		t.Errorf("status %d, log %s", resp.StatusCode, sink.String())
	}
}

// A request that failed because the database did not answer is counted
// as a 503 whatever its status (a redirect with temporarily_unavailable),
// and its line is at debug level: during an outage the outage log speaks
// for them all, so that the log does not grow with the request rate.
func TestObserveUnavailableIsDebug(t *testing.T) {
	log, sink := testLogger()
	m := &observed{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		Unavailable(w, r)
		http.Redirect(w, r, "https://rp.example/cb?error=temporarily_unavailable", http.StatusSeeOther)
	})
	rec := serve(testStack(mux, log, m, true), httptest.NewRequest(http.MethodGet, "/authorize", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if m.requests["GET /authorize 503"] != 1 {
		t.Errorf("counted %v, want one 503", m.requests)
	}
	lines := sink.lines(t)
	if len(lines) != 1 || lines[0]["level"] != "DEBUG" || lines[0]["unavailable"] != true {
		t.Errorf("log lines %v, want one at DEBUG marked unavailable", lines)
	}
}
