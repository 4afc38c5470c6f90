package httpserver

import (
	"net/http"
	"sync"
)

// LimitPerClient answers 503 with Retry-After to a request when its client
// address (ClientIP: ClientAddress must run before) already has max
// requests in flight (max ≤ 0: no limit). One client cannot hold the
// server's goroutines and memory; the others are served meanwhile.
func LimitPerClient(max int) func(http.Handler) http.Handler {
	if max <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	l := &perClient{max: max, n: map[string]int{}}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := ClientIP(r)
			if !l.enter(ip) {
				Unavailable(w, r)
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, "too many requests in flight from your address", http.StatusServiceUnavailable)
				return
			}
			defer l.leave(ip)
			next.ServeHTTP(w, r)
		})
	}
}

// perClient counts the requests in flight per client address.
type perClient struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

// enter reserves a place for one more request of ip, if there is one.
func (l *perClient) enter(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[ip] >= l.max {
		return false
	}
	l.n[ip]++
	return true
}

// leave gives the place back; an address with nothing in flight is
// forgotten, so the map holds only the addresses being served.
func (l *perClient) leave(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[ip] <= 1 {
		delete(l.n, ip)
		return
	}
	l.n[ip]--
}
