package httpserver

import (
	"net/http"
	"sync/atomic"
	"time"
)

// InFlight counts the requests being served and remembers when the last one
// ended, so that the process can tell when it is idle. The zero value is
// ready to use; it is safe for concurrent use.
type InFlight struct {
	n       atomic.Int64
	lastEnd atomic.Int64 // Unix nanoseconds
}

// Count is the middleware that counts the requests for which counts returns
// true (every request when counts is nil).
func (f *InFlight) Count(counts func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if counts != nil && !counts(r) {
				next.ServeHTTP(w, r)
				return
			}
			f.n.Add(1)
			defer func() {
				f.lastEnd.Store(time.Now().UnixNano())
				f.n.Add(-1)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// Idle reports when the last counted request ended (zero: none yet) and
// whether none runs now.
func (f *InFlight) Idle() (lastEnd time.Time, idle bool) {
	if n := f.lastEnd.Load(); n != 0 {
		lastEnd = time.Unix(0, n)
	}
	return lastEnd, f.n.Load() == 0
}
