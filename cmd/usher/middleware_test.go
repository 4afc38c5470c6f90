package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// mwTestLog is a goroutine-safe JSON log sink.
type mwTestLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (l *mwTestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *mwTestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the decoded JSON log lines.
func (l *mwTestLog) lines(t *testing.T) []map[string]any {
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

// mwTestLogger returns a JSON logger at debug level writing to a new sink.
func mwTestLogger() (*slog.Logger, *mwTestLog) {
	sink := &mwTestLog{}
	return slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug})), sink
}

// mwTestStack is the usual middleware stack around h.
func mwTestStack(h http.Handler, log *slog.Logger, m *Metrics, httpsPublic bool) http.Handler {
	return mwChain(h, mwObserve(log, m), mwSecurityHeaders(httpsPublic), mwRecover(log), mwLimitBody(1<<10))
}

// mwTestMux is a ServeMux with an ok route, a panicking route and an echo of
// the request id.
func mwTestMux() *http.ServeMux {
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
		_, _ = io.WriteString(w, mwRequestID(r.Context()))
	})
	return mux
}

// mwTestServe runs one request through h.
func mwTestServe(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// mwTestWantSecurityHeaders checks the security headers of a response.
func mwTestWantSecurityHeaders(t *testing.T, h http.Header, hsts bool) {
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

func TestMwChainOrder(t *testing.T) {
	var order []string
	mark := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	h := mwChain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { order = append(order, "handler") }),
		mark("a"), mark("b"), mark("c"))
	mwTestServe(h, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := strings.Join(order, ","); got != "a,b,c,handler" {
		t.Errorf("order = %s", got)
	}
	if mwChain(h) == nil {
		t.Errorf("empty chain")
	}
}

func TestMwSecurityHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		log, _ := mwTestLogger()
		h := mwTestStack(mwTestMux(), log, nil, https)
		for path, status := range map[string]int{"/institutions/acme/healthz": 200, "/nowhere": 404, "/boom": 500} {
			rec := mwTestServe(h, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != status {
				t.Errorf("%s: status %d, want %d", path, rec.Code, status)
			}
			mwTestWantSecurityHeaders(t, rec.Header(), https)
		}
	}
}

func TestMwRecover(t *testing.T) {
	log, sink := mwTestLogger()
	h := mwTestStack(mwTestMux(), log, nil, false)
	rec := mwTestServe(h, httptest.NewRequest(http.MethodGet, "/boom?x=1", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	if body := rec.Body.String(); body != "internal error\n" {
		t.Errorf("body %q", body)
	}
	for _, k := range []string{"Content-Length", "Location"} {
		if v := rec.Header().Get(k); v != "" {
			t.Errorf("%s left over from the handler: %q", k, v)
		}
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	var panicLine, reqLine map[string]any
	for _, l := range sink.lines(t) {
		switch l["msg"] {
		case "panic serving request":
			panicLine = l
		case "http request":
			reqLine = l
		}
	}
	if panicLine == nil || panicLine["level"] != "ERROR" || panicLine["panic"] != "kaboom SECRET-PANIC-VALUE" ||
		!strings.Contains(panicLine["stack"].(string), "goroutine") || panicLine["path"] != "/boom" {
		t.Errorf("panic log line: %v", panicLine)
	}
	if reqLine == nil || reqLine["status"] != float64(500) || reqLine["route"] != "GET /boom" {
		t.Errorf("request log line: %v", reqLine)
	}
	if panicLine["request_id"] == "" || panicLine["request_id"] != reqLine["request_id"] {
		t.Errorf("request ids: %v, %v", panicLine["request_id"], reqLine["request_id"])
	}
}

// mwTestRecoverPanic runs h and returns what it panicked with.
func mwTestRecoverPanic(h http.Handler, w http.ResponseWriter, r *http.Request) (v any) {
	defer func() { v = recover() }()
	h.ServeHTTP(w, r)
	return nil
}

func TestMwRecoverAbort(t *testing.T) {
	log, sink := mwTestLogger()
	h := mwRecover(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	rec := httptest.NewRecorder()
	if v := mwTestRecoverPanic(h, rec, httptest.NewRequest(http.MethodGet, "/", nil)); v != http.ErrAbortHandler {
		t.Errorf("panic value %v, want http.ErrAbortHandler", v)
	}
	if sink.String() != "" || rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("abort was handled: log %q, code %d", sink.String(), rec.Code)
	}
}

func TestMwRecoverAfterPartialWrite(t *testing.T) {
	log, sink := mwTestLogger()
	h := mwRecover(log)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("late")
	}))
	rec := httptest.NewRecorder()
	if v := mwTestRecoverPanic(h, rec, httptest.NewRequest(http.MethodGet, "/", nil)); v != http.ErrAbortHandler {
		t.Errorf("panic value %v, want http.ErrAbortHandler", v)
	}
	if !strings.Contains(sink.String(), `"panic":"late"`) {
		t.Errorf("panic not logged: %s", sink.String())
	}
	if rec.Body.String() != "partial" {
		t.Errorf("body %q", rec.Body.String())
	}
}

func TestMwObserveLogsNoSecrets(t *testing.T) {
	log, sink := mwTestLogger()
	m := newMetrics()
	h := mwTestStack(mwTestMux(), log, m, true)
	r := httptest.NewRequest(http.MethodPost, "/oauth2/token?code=SECRET", strings.NewReader("password=SECRET"))
	r.Header.Set("Authorization", "Bearer SECRET")
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: "session", Value: "SECRET"})
	r.RemoteAddr = "192.0.2.7:51234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	rec := mwTestServe(h, r)
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

func TestMwObserveRoutePattern(t *testing.T) {
	log, sink := mwTestLogger()
	m := newMetrics()
	mux := mwTestMux()
	// Both orders of mwObserve and mwLimitBody (which copies the request) must
	// see the pattern.
	for _, h := range []http.Handler{
		mwTestStack(mux, log, m, false),
		mwChain(mux, mwLimitBody(1<<10), mwObserve(log, m)),
	} {
		rec := mwTestServe(h, httptest.NewRequest(http.MethodGet, "/institutions/acme/healthz?code=SECRET", nil))
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
	e := metricTestParse(t, metricTestScrape(t, m))
	metricTestEqual(t, "requests", e.value(t, "usher_http_requests_total",
		"route", "GET /institutions/{slug}/healthz", "code", "200"), 2)
	metricTestEqual(t, "durations", e.value(t, "usher_http_request_duration_seconds_count",
		"route", "GET /institutions/{slug}/healthz"), 2)
}

func TestMwObserveMetricsUnmatchedAndPanic(t *testing.T) {
	log, _ := mwTestLogger()
	m := newMetrics()
	h := mwTestStack(mwTestMux(), log, m, false)
	mwTestServe(h, httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	mwTestServe(h, httptest.NewRequest(http.MethodGet, "/boom", nil))
	e := metricTestParse(t, metricTestScrape(t, m))
	metricTestEqual(t, "unmatched", e.value(t, "usher_http_requests_total", "route", "unmatched", "code", "404"), 1)
	metricTestEqual(t, "boom", e.value(t, "usher_http_requests_total", "route", "GET /boom", "code", "500"), 1)
}

func TestMwObserveUnrecoveredPanic(t *testing.T) {
	log, sink := mwTestLogger()
	m := newMetrics()
	h := mwObserve(log, m)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	if v := mwTestRecoverPanic(h, httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil)); v != http.ErrAbortHandler {
		t.Fatalf("panic value %v", v)
	}
	lines := sink.lines(t)
	if len(lines) != 1 || lines[0]["status"] != float64(500) || lines[0]["aborted"] != true {
		t.Errorf("log %v", lines)
	}
}

func TestMwRequestID(t *testing.T) {
	log, _ := mwTestLogger()
	h := mwTestStack(mwTestMux(), log, nil, false)
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
		rec := mwTestServe(h, r)
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
	if id := mwRequestID(httptest.NewRequest(http.MethodGet, "/", nil).Context()); id != "" {
		t.Errorf("id without middleware: %q", id)
	}
}

func TestMwLimitBody(t *testing.T) {
	var readErr error
	var read int
	h := mwLimitBody(1 << 10)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		read, readErr = len(b), err
	}))
	mwTestServe(h, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, 2<<10))))
	var mbe *http.MaxBytesError
	if !errors.As(readErr, &mbe) || mbe.Limit != 1<<10 {
		t.Errorf("error %T %v, want *http.MaxBytesError with limit 1024", readErr, readErr)
	}
	if read > 1<<10 {
		t.Errorf("read %d bytes past the limit", read)
	}
	mwTestServe(h, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, 1<<10))))
	if readErr != nil || read != 1<<10 {
		t.Errorf("at the limit: %d bytes, %v", read, readErr)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Body = nil
	mwTestServe(mwLimitBody(1)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), r)
}

func TestMwLimitBodyRealServer(t *testing.T) {
	log, _ := mwTestLogger()
	h := mwTestStack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "too large", http.StatusRequestEntityTooLarge)
				return
			}
		}
		_, _ = io.WriteString(w, "fine")
	}), log, nil, false)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for size, want := range map[int]int{100: 200, 2 << 10: 413} {
		resp, err := http.Post(srv.URL, "application/octet-stream", bytes.NewReader(make([]byte, size)))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%d bytes: status %d, want %d", size, resp.StatusCode, want)
		}
	}
}

func TestMwResponseWriterKeepsFlusherAndController(t *testing.T) {
	log, sink := mwTestLogger()
	var deadlineErr, flushErr error
	var isFlusher bool
	h := mwTestStack(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, isFlusher = w.(http.Flusher)
		rc := http.NewResponseController(w)
		deadlineErr = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		_, _ = io.WriteString(w, "chunk")
		flushErr = rc.Flush()
	}), log, nil, false)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "chunk" || !isFlusher || deadlineErr != nil || flushErr != nil {
		t.Errorf("body %q, flusher %v, deadline %v, flush %v", body, isFlusher, deadlineErr, flushErr)
	}
	srv.Close() // waits for the handler, hence for its log line
	if !strings.Contains(sink.String(), `"bytes":5`) {
		t.Errorf("log %s", sink.String())
	}
}

func TestMwResponseWriterRecords(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &mwResponseWriter{ResponseWriter: rec}
	if w.statusCode() != http.StatusOK {
		t.Errorf("default status %d", w.statusCode())
	}
	w.Flush()
	if !rec.Flushed || w.statusCode() != http.StatusOK || !w.wroteHeader {
		t.Errorf("flush: flushed %v, status %d", rec.Flushed, w.statusCode())
	}
	n, err := w.ReadFrom(strings.NewReader("hello"))
	if err != nil || n != 5 || w.bytes != 5 || rec.Body.String() != "hello" {
		t.Errorf("ReadFrom: %d %v, bytes %d, body %q", n, err, w.bytes, rec.Body.String())
	}
	_, _ = w.Write([]byte("!!"))
	if w.bytes != 7 || w.Unwrap() != rec {
		t.Errorf("bytes %d", w.bytes)
	}

	w2 := &mwResponseWriter{ResponseWriter: httptest.NewRecorder()}
	w2.WriteHeader(http.StatusTeapot)
	w2.WriteHeader(http.StatusOK) // superfluous: the first one counts
	if w2.statusCode() != http.StatusTeapot {
		t.Errorf("status %d", w2.statusCode())
	}
}

func TestMwClientIP(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.1:443": "192.0.2.1", "[2001:db8::1]:8080": "2001:db8::1", "@": "@", "": ""} {
		if got := mwClientIP(in); got != want {
			t.Errorf("mwClientIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMwObserveInformationalStatus(t *testing.T) {
	log, sink := mwTestLogger()
	h := mwObserve(log, nil)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
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

func TestMwClientAddress(t *testing.T) {
	trusted, err := configTrustedProxies("10.0.0.0/8, 192.0.2.7, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client, no header", "203.0.113.5:4000", nil, "203.0.113.5:4000"},
		{"direct client forging the header", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5:4000"},
		{"through the load balancer", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1:0"},
		{"the client prepends a lie", "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1:0"},
		{"two trusted hops", "10.1.2.3:5000", []string{"198.51.100.1, 192.0.2.7"}, "198.51.100.1:0"},
		{"header split over two lines", "10.1.2.3:5000", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1:0"},
		{"IPv6 client", "[fd00::1]:443", []string{"2001:db8::5"}, "[2001:db8::5]:0"},
		{"garbled header", "10.1.2.3:5000", []string{"not-an-ip"}, "10.1.2.3:5000"},
		{"only proxies", "10.1.2.3:5000", []string{"10.4.4.4"}, "10.1.2.3:5000"},
	}
	for _, tt := range tests {
		var seen string
		h := mwClientAddress(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if seen != tt.want {
			t.Errorf("%s: client %q, want %q", tt.name, seen, tt.want)
		}
	}
	if _, err := configTrustedProxies("10.0.0.0/8, example.org"); err == nil {
		t.Error("a host name was accepted as a trusted proxy")
	}
}
