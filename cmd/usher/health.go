package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// healthReadyTimeout bounds the readiness check of /readyz.
const healthReadyTimeout = 2 * time.Second

// healthChecker is what /readyz needs: the database is reachable and every
// migration is applied.
type healthChecker interface {
	Ready(ctx context.Context) error
}

// healthHandlers returns the handlers of GET /healthz (always 200 "ok\n"
// while the process serves) and GET /readyz (200 "ready\n" when c.Ready
// succeeds within 2 s, else 503 "not ready\n"; the cause is logged at warn,
// never sent to the client). Both send Cache-Control: no-store and
// Content-Type text/plain.
func healthHandlers(c healthChecker, log *slog.Logger) (healthz, readyz http.Handler) {
	return healthHandlersTimeout(c, log, healthReadyTimeout)
}

// healthHandlersTimeout is healthHandlers with the readiness timeout as a
// parameter.
func healthHandlersTimeout(c healthChecker, log *slog.Logger, timeout time.Duration) (healthz, readyz http.Handler) {
	healthz = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		healthWrite(w, http.StatusOK, "ok\n")
	})
	readyz = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := healthCheck(r.Context(), c, timeout); err != nil {
			log.LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.String("err", err.Error()))
			healthWrite(w, http.StatusServiceUnavailable, "not ready\n")
			return
		}
		healthWrite(w, http.StatusOK, "ready\n")
	})
	return healthz, readyz
}

// healthCheck runs c.Ready with a deadline of timeout. It returns at the
// deadline even when Ready ignores its context (a hung driver call); Ready
// then finishes in the background.
func healthCheck(ctx context.Context, c healthChecker, timeout time.Duration) error {
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

// healthWrite writes a short uncacheable plain-text response.
func healthWrite(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // nothing to do when the client has gone
}
