package httpserver

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// blocking is a handler whose requests wait until release is closed;
// entered receives once per request that started.
func blocking() (h http.Handler, entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 100), make(chan struct{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.Write([]byte("ok"))
	}), entered, release
}

// Beyond the limit, a connection is answered 503 with Retry-After and
// closed before its request is read; the first refusal is logged, not
// every one; once a place is free, connections are served again.
func TestLimitConnections(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testLog{}
	ln := LimitConnections(inner, 2, slog.New(slog.NewJSONHandler(logs, nil)))
	h, entered, release := blocking()
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + inner.Addr().String() + "/"

	var wg sync.WaitGroup
	for range 2 { // two connections, each with a request in flight
		wg.Go(func() {
			resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
		<-entered
	}
	for range 5 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("beyond the limit: %v", err)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("beyond the limit: %d, Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		c.Close()
	}
	close(release)
	wg.Wait()
	// The places are free again once the server has closed the two
	// connections (just after their answers).
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("after the connections closed: %d, want 200", resp.StatusCode)
		}
	}
	text := logs.String()
	if n := strings.Count(text, `"msg":"connection limit unavailable"`); n != 1 {
		t.Errorf("5 refusals logged the start %d times, want once:\n%s", n, text)
	}
	if n := strings.Count(text, "\n"); n > 3 {
		t.Errorf("5 refusals wrote %d log lines, want a few:\n%s", n, text)
	}
}

// A client address with max requests in flight gets 503 with Retry-After
// for one more; other addresses are served meanwhile, and the address
// again once its requests end.
func TestLimitPerClient(t *testing.T) {
	h, entered, release := blocking()
	limited := LimitPerClient(2)(h)
	from := func(addr string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = addr
		return r
	}
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { serve(limited, from("192.0.2.7:"+string(rune('1'+i))+"000")) })
		<-entered
	}
	w := serve(limited, from("192.0.2.7:4000"))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("third request in flight: %d, Retry-After %q, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	wg.Go(func() { serve(limited, from("198.51.100.1:1000")) })
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("another address was not served")
	}
	close(release)
	wg.Wait()
	if w := serve(limited, from("192.0.2.7:5000")); w.Code != http.StatusOK {
		t.Errorf("after its requests ended: %d, want 200", w.Code)
	}
}
