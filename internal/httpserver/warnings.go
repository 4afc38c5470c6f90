package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
)

// Warnings are what the traffic has shown to be wrong in the
// configuration: each is logged at warn once, when it is first seen, and
// listed by Readyz from then on (the server still serves: a warning is not
// a failure). A nil *Warnings raises and lists nothing.
type Warnings struct {
	log  *slog.Logger
	mu   sync.Mutex
	seen []string
}

// NewWarnings returns Warnings that log to log.
func NewWarnings(log *slog.Logger) *Warnings {
	return &Warnings{log: log}
}

// Raise records the warning name; the first time, it logs msg at warn
// with args and the warning's name.
func (w *Warnings) Raise(ctx context.Context, name, msg string, args ...any) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if slices.Contains(w.seen, name) {
		return
	}
	w.seen = append(w.seen, name)
	w.log.WarnContext(ctx, msg, append([]any{"warning", name}, args...)...)
}

// List returns the names of the warnings raised, in the order they were
// first raised.
func (w *Warnings) List() []string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

// WarningUntrustedForwarding is raised by UntrustedForwarding.
const WarningUntrustedForwarding = "x_forwarded_for_untrusted"

// UntrustedForwarding raises WarningUntrustedForwarding when a request
// arrives with X-Forwarded-For although no proxy is trusted (ClientAddress
// is this when trusted_proxies is empty): Usher is
// then most likely behind a proxy whose address every client shares, for
// the sign-in limits per address and the logs.
// Once raised, it costs a request one atomic load: behind such a proxy,
// every request carries the header.
func UntrustedForwarding(w *Warnings) func(http.Handler) http.Handler {
	var raised atomic.Bool
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if !raised.Load() && len(r.Header.Values("X-Forwarded-For")) > 0 {
				raised.Store(true)
				w.Raise(r.Context(), WarningUntrustedForwarding,
					"X-Forwarded-For arrived but trusted_proxies is empty: every client behind the proxy shares its address "+
						"for the sign-in limits and the logs; set trusted_proxies to the proxy's addresses",
					"peer", ClientIP(r))
			}
			next.ServeHTTP(rw, r)
		})
	}
}
