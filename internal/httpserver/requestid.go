package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// requestIDHeader is the header that carries the request id, in both
// directions.
const requestIDHeader = "X-Request-Id"

// requestIDMaxLen is the longest incoming request id that is reused.
const requestIDMaxLen = 64

// requestIDKey is the context key of the request id.
type requestIDKey struct{}

// RequestID returns the request id that Observe put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// incomingRequestID returns the request's X-Request-Id when it is 1-64
// characters of [A-Za-z0-9-_], else a new random id.
func incomingRequestID(r *http.Request) string {
	if id := r.Header.Get(requestIDHeader); validRequestID(id) {
		return id
	}
	return newRequestID()
}

// validRequestID reports whether id is 1-64 characters of [A-Za-z0-9-_].
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > requestIDMaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b[:])
}
