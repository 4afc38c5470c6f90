package httpserver

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestLimitBody(t *testing.T) {
	var readErr error
	var read int
	h := LimitBody(1 << 10)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		read, readErr = len(b), err
	}))
	serve(h, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, 2<<10))))
	var mbe *http.MaxBytesError
	if !errors.As(readErr, &mbe) || mbe.Limit != 1<<10 {
		t.Errorf("error %T %v, want *http.MaxBytesError with limit 1024", readErr, readErr)
	}
	if read > 1<<10 {
		t.Errorf("read %d bytes past the limit", read)
	}
	serve(h, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, 1<<10))))
	if readErr != nil || read != 1<<10 {
		t.Errorf("at the limit: %d bytes, %v", read, readErr)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Body = nil
	serve(LimitBody(1)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), r)
}

// A request that per names gets its own limit, larger than the others';
// the others keep n.
func TestLimitBodyPer(t *testing.T) {
	var readErr error
	var read int
	h := LimitBodyPer(1<<10, func(r *http.Request) int64 {
		if r.URL.Path == "/upload" {
			return 4 << 10
		}
		return 0
	})(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		read, readErr = len(b), err
	}))
	for _, c := range []struct {
		path    string
		size    int
		refused bool
	}{{"/upload", 4 << 10, false}, {"/upload", 4<<10 + 1, true}, {"/other", 1<<10 + 1, true}, {"/other", 1 << 10, false}} {
		serve(h, httptest.NewRequest(http.MethodPut, c.path, bytes.NewReader(make([]byte, c.size))))
		var mbe *http.MaxBytesError
		if refused := errors.As(readErr, &mbe); refused != c.refused || (!refused && read != c.size) {
			t.Errorf("%s with %d bytes: read %d, error %v; want refused %v", c.path, c.size, read, readErr, c.refused)
		}
	}
}

func TestLimitBodyRealServer(t *testing.T) {
	log, _ := testLogger()
	h := testStack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
