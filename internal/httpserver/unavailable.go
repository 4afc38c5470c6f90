package httpserver

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
)

// RetryAfter is how many seconds a client is told to wait (Retry-After)
// when a dependency of Usher (the database) did not answer.
const RetryAfter = 5

// requestMarks is what a handler tells Observe about its request.
type requestMarks struct {
	unavailable atomic.Bool
}

type requestMarksKey struct{}

// Unavailable prepares the answer to a request that failed because a
// dependency did not answer: it sets Retry-After on w, and marks the
// request for Observe, which counts it as a 503 whatever its status (an
// authorization request redirected back with temporarily_unavailable is a
// 303 that failed). The handler then writes its 503, or its redirect.
func Unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
	if m, ok := r.Context().Value(requestMarksKey{}).(*requestMarks); ok {
		m.unavailable.Store(true)
	}
}

// withMarks gives ctx the marks of one request.
func withMarks(ctx context.Context) (context.Context, *requestMarks) {
	m := &requestMarks{}
	return context.WithValue(ctx, requestMarksKey{}, m), m
}
