// Package httpserver is the HTTP plumbing every route of Usher shares:
// security headers, the client's address behind trusted proxies, the
// request body limit, panic recovery, the access log with request ids and
// request measurement, the requests in flight, and the health checks.
//
// cmd/usher wires the middlewares around the routes with Chain, in this
// order (the first listed is the outermost):
//
//	httpserver.Chain(mux,
//		inFlight.Count(isActivity),
//		httpserver.ClientAddress(trusted, warnings),
//		httpserver.Observe(log, metrics),
//		httpserver.SecurityHeaders(templates.ContentSecurityPolicy, https),
//		httpserver.Recover(log),
//		httpserver.LimitBody(maxBodyBytes),
//	)
//
// Without trusted proxies, UntrustedForwarding takes ClientAddress's place:
// it raises a warning (logged once, listed by Readyz) when X-Forwarded-For
// arrives anyway.
//
// ClientAddress comes before everything that reads r.RemoteAddr: from
// there on, r.RemoteAddr is the client's address (see ClientIP), and a
// recovered panic is logged and measured as a 500 that still carries the
// security headers.
package httpserver
