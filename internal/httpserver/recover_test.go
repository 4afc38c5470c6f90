package httpserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecover(t *testing.T) {
	log, sink := testLogger()
	h := testStack(testMux(), log, nil, false)
	rec := serve(h, httptest.NewRequest(http.MethodGet, "/boom?x=1", nil))
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

func TestRecoverAbort(t *testing.T) {
	log, sink := testLogger()
	h := Recover(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	rec := httptest.NewRecorder()
	if v := recoverPanic(h, rec, httptest.NewRequest(http.MethodGet, "/", nil)); v != http.ErrAbortHandler {
		t.Errorf("panic value %v, want http.ErrAbortHandler", v)
	}
	if sink.String() != "" || rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("abort was handled: log %q, code %d", sink.String(), rec.Code)
	}
}

func TestRecoverAfterPartialWrite(t *testing.T) {
	log, sink := testLogger()
	h := Recover(log)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("late")
	}))
	rec := httptest.NewRecorder()
	if v := recoverPanic(h, rec, httptest.NewRequest(http.MethodGet, "/", nil)); v != http.ErrAbortHandler {
		t.Errorf("panic value %v, want http.ErrAbortHandler", v)
	}
	if !strings.Contains(sink.String(), `"panic":"late"`) {
		t.Errorf("panic not logged: %s", sink.String())
	}
	if rec.Body.String() != "partial" {
		t.Errorf("body %q", rec.Body.String())
	}
}
