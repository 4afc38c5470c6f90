package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRawClient(t *testing.T) {
	big := strings.Repeat("x", 50_000)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id) // RFC 6749 §2.3.1: form-encoded first
		secret, _ = url.QueryUnescape(secret)
		if !ok || id != "a b" || secret != "s:t" {
			http.Error(w, "bad auth "+id+" "+secret, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"tok.en-_1","token_type":"bearer", "refresh_token": "r1"}`)
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, big[:10])
		w.(http.Flusher).Flush() // chunked
		fmt.Fprint(w, big[10:])
	})
	mux.HandleFunc("GET /close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, "bye")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := newRawClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	auth := header{"Authorization", basicAuth("a b", "s:t")}
	for i := range 3 { // the same connection, reused
		a, err := c.do("POST", "/token", []byte("grant_type=client_credentials"), formHeader, auth)
		if err != nil || a.status != 200 {
			t.Fatalf("round %d: %v %d %s", i, err, a.status, a.body)
		}
		if tok, ok := jsonString(a.body, "access_token"); !ok || tok != "tok.en-_1" {
			t.Errorf("access_token = %q, %v", tok, ok)
		}
		if tok, ok := jsonString(a.body, "refresh_token"); !ok || tok != "r1" {
			t.Errorf("refresh_token = %q, %v", tok, ok)
		}
		if _, ok := jsonString(a.body, "id_token"); ok {
			t.Error("found an id_token that is not there")
		}
		a, err = c.do("GET", "/big", nil)
		if err != nil || a.status != 200 || string(a.body) != big {
			t.Fatalf("chunked answer: %v %d, %d bytes", err, a.status, len(a.body))
		}
		a, err = c.do("GET", "/close", nil)
		if err != nil || string(a.body) != "bye" || c.conn != nil {
			t.Fatalf("Connection: close: %v %q, conn kept: %v", err, a.body, c.conn != nil)
		}
	}
	a, err := c.do("POST", "/token", []byte("grant_type=password"), formHeader, auth)
	if err != nil || a.status != 400 {
		t.Errorf("bad request: %v %d", err, a.status)
	}
}

// A connection the server closed while idle is replaced without an error.
func TestRawClientStaleConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	srv.Config.IdleTimeout = 50 * time.Millisecond
	srv.Start()
	defer srv.Close()
	c, _ := newRawClient(srv.URL)
	defer c.close()
	for i := range 2 {
		if a, err := c.do("GET", "/", nil); err != nil || string(a.body) != "ok" {
			t.Fatalf("request %d: %v %q", i, err, a.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestFindPID(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pid, err := findPID("http://" + ln.Addr().String())
	if err != nil {
		t.Skipf("cannot read /proc here: %v", err)
	}
	if pid != os.Getpid() {
		t.Errorf("pid = %d, want %d", pid, os.Getpid())
	}
	if rss, _, err := memory(pid); err != nil || rss <= 0 {
		t.Errorf("memory: %d, %v", rss, err)
	}
}

func TestPercentiles(t *testing.T) {
	var s []sample
	for i := 1; i <= 100; i++ {
		s = append(s, sample{start: time.Duration(i), took: time.Duration(i) * time.Millisecond})
	}
	l := percentiles(s, nil)
	if l.Count != 100 || l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 {
		t.Errorf("percentiles = %+v", l)
	}
	odd := percentiles(s, func(x sample) bool { return x.took%(2*time.Millisecond) != 0 })
	if odd.Count != 50 || odd.Max != 99 {
		t.Errorf("filtered = %+v", odd)
	}
}
