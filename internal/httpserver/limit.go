package httpserver

import "net/http"

// LimitBody caps request bodies at n bytes with http.MaxBytesReader: a
// handler reading past the limit gets a *http.MaxBytesError, and the server
// closes the connection afterwards.
//
// Like http.MaxBytesHandler it hands a shallow copy of the request to next
// (the server's request is not modified), and afterwards copies the Pattern
// that an inner http.ServeMux set on the copy back to r, so that an outer
// Observe still sees the route.
func LimitBody(n int64) func(http.Handler) http.Handler { return LimitBodyPer(n, nil) }

// LimitBodyPer is LimitBody with a limit of its own for some requests:
// per (when not nil) returns it, or 0 for n. It lets the few routes that
// take a larger body (an uploaded image), and bound it themselves, have it
// while every other request keeps the tight limit.
func LimitBodyPer(n int64, per func(*http.Request) int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2 := new(http.Request)
			*r2 = *r
			if r.Body != nil {
				limit := n
				if per != nil {
					if own := per(r); own > 0 {
						limit = own
					}
				}
				r2.Body = http.MaxBytesReader(innermost(w), r.Body, limit)
			}
			defer func() { // deferred: a panicking handler still has a route
				if r.Pattern == "" {
					r.Pattern = r2.Pattern
				}
			}()
			next.ServeHTTP(w, r2)
		})
	}
}

// innermost unwraps w down to the server's own ResponseWriter, which
// http.MaxBytesReader needs to tell the server to close the connection.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for range 32 { // bounded, in case of a cycle
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
	return w
}
