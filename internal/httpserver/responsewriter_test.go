package httpserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestResponseWriterKeepsFlusherAndController(t *testing.T) {
	log, sink := testLogger()
	var deadlineErr, flushErr error
	var isFlusher bool
	h := testStack(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
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

func TestResponseWriterRecords(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &responseWriter{ResponseWriter: rec}
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

	w2 := &responseWriter{ResponseWriter: httptest.NewRecorder()}
	w2.WriteHeader(http.StatusTeapot)
	w2.WriteHeader(http.StatusOK) // superfluous: the first one counts
	if w2.statusCode() != http.StatusTeapot {
		t.Errorf("status %d", w2.statusCode())
	}
}
