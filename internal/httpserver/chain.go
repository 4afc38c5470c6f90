package httpserver

import "net/http"

// Chain applies middlewares so the first listed is the outermost. The usual
// order is
//
//	Chain(mux, Observe(log, m), SecurityHeaders(csp, https), Recover(log), LimitBody(n))
//
// so that a recovered panic is logged and measured as a 500 and still
// carries the security headers.
func Chain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
