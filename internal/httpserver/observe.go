package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// RequestObserver measures served requests; *metrics.Metrics is one.
type RequestObserver interface {
	// ObserveRequest records one served request: the route pattern
	// http.ServeMux matched ("unmatched" if none), its status and duration.
	ObserveRequest(route string, status int, d time.Duration)
}

// Observe logs one structured line per request and records it in m (which
// may be nil). It also gives the request an id (the incoming X-Request-Id
// when it is well-formed, else a random one), sent back as X-Request-Id and
// available to handlers through RequestID.
//
// The line never carries the query string, headers, body, cookies or form
// values: they can hold codes, tokens and passwords. The route is the
// pattern http.ServeMux matched ("unmatched" if none), read after the
// handler from the request handed to it. The address logged is ClientIP's,
// so ClientAddress must run before Observe.
func Observe(log *slog.Logger, m RequestObserver) func(http.Handler) http.Handler {
	if m == nil {
		m = noObserver{}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := incomingRequestID(r)
			w.Header().Set(requestIDHeader, id)
			ctx, marks := withMarks(context.WithValue(r.Context(), requestIDKey{}, id))
			r2 := r.WithContext(ctx)
			rw := &responseWriter{ResponseWriter: w}
			completed := false
			defer func() {
				recordRequest(log, m, r2, rw, time.Since(start), !completed, marks.unavailable.Load())
			}()
			next.ServeHTTP(rw, r2)
			completed = true
		})
	}
}

// recordRequest logs and measures one finished request. aborted means the
// handler panicked; without a status written, it counts as a 500.
// unavailable means a dependency did not answer (Unavailable): the request
// counts as a 503, and its line says so, at debug level.
func recordRequest(log *slog.Logger, m RequestObserver, r *http.Request, rw *responseWriter, d time.Duration, aborted, unavailable bool) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	status := rw.statusCode()
	if aborted && !rw.wroteHeader {
		status = http.StatusInternalServerError
	}
	counted := status
	if unavailable {
		counted = http.StatusServiceUnavailable
	}
	m.ObserveRequest(route, counted, d)
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rw.bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("remote", ClientIP(r)),
		slog.String("request_id", RequestID(r.Context())),
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	if unavailable {
		attrs = append(attrs, slog.Bool("unavailable", true))
	}
	level := slog.LevelInfo
	if unavailable {
		// While the database is down every request fails alike, thousands a
		// second: the outage log (internal/outage) says so once, with counts,
		// and the metrics count each; the line of each is for debugging.
		level = slog.LevelDebug
	}
	log.LogAttrs(r.Context(), level, "http request", attrs...)
}

// noObserver measures nothing.
type noObserver struct{}

func (noObserver) ObserveRequest(string, int, time.Duration) {}
