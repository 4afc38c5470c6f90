package httpserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// readyTimeout bounds the readiness check of Readyz.
const readyTimeout = 2 * time.Second

// ReadinessChecker is what Readyz needs: for Usher, the database is
// reachable and every migration is applied.
type ReadinessChecker interface {
	Ready(ctx context.Context) error
}

// Healthz is GET /healthz: always 200 "ok\n" while the process serves, with
// Cache-Control: no-store and Content-Type text/plain.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeHealth(w, http.StatusOK, "ok\n")
	})
}

// Readyz is GET /readyz: 200 "ready\n" when c.Ready succeeds within 2 s,
// else 503 "not ready\n"; the cause is logged at warn, never sent to the
// client. When ready, each warning raised (warnings, which may be nil)
// follows on a line of its own, "warning: NAME\n", with the status still
// 200. It sends Cache-Control: no-store and Content-Type text/plain.
func Readyz(c ReadinessChecker, log *slog.Logger, warnings *Warnings) http.Handler {
	return readyz(c, log, warnings, readyTimeout)
}

// readyz is Readyz with the readiness timeout as a parameter.
func readyz(c ReadinessChecker, log *slog.Logger, warnings *Warnings, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkReady(r.Context(), c, timeout); err != nil {
			log.LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.String("err", err.Error()))
			writeHealth(w, http.StatusServiceUnavailable, "not ready\n")
			return
		}
		body := "ready\n"
		for _, name := range warnings.List() {
			body += "warning: " + name + "\n"
		}
		writeHealth(w, http.StatusOK, body)
	})
}

// checkReady runs c.Ready with a deadline of timeout. It returns at the
// deadline even when Ready ignores its context (a hung driver call); Ready
// then finishes in the background.
func checkReady(ctx context.Context, c ReadinessChecker, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1) // buffered: a late Ready never blocks
	go func() { done <- c.Ready(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("readiness check: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("readiness check: no answer within %s: %w", timeout, ctx.Err())
	}
}

// writeHealth writes a short uncacheable plain-text response.
func writeHealth(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // nothing to do when the client has gone
}
