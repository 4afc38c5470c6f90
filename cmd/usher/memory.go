package main

import (
	"context"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/usher-idp/usher/internal/httpserver"
)

// memoryQuiet is how long the server must have served nothing before the
// memory it used is handed back.
const memoryQuiet = 5 * time.Second

// gcPercent is the collector's target while the server serves tokens, when
// GOGC is not set. Usher's live heap is small (about 10 MiB), so at Go's
// default of 100 the collector runs every few milliseconds under token
// traffic; at 400 it costs less CPU per request (introspection: 0.148 to
// 0.121 ms of server CPU), for a heap of about 50 MiB under load.
const gcPercent = 400

// gcTuning sets the collector's target: gcPercent, but Go's default while
// passwords are hashed. Every argon2id hash allocates 19 MiB afresh, and at
// 400 the heap would grow to five times the hashes in flight (measured: 260
// MiB during sign-ins, against 147 MiB at 100). An operator's GOGC wins.
type gcTuning struct {
	on atomic.Bool
}

// start applies gcPercent unless env sets GOGC.
func (g *gcTuning) start(env []string) {
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOGC=") {
			return
		}
	}
	g.on.Store(true)
	debug.SetGCPercent(gcPercent)
}

// hashing is the password hasher's Busy hook.
func (g *gcTuning) hashing(busy bool) {
	if !g.on.Load() {
		return
	}
	if busy {
		debug.SetGCPercent(100)
	} else {
		debug.SetGCPercent(gcPercent)
	}
}

// isActivity tells which requests count as the server being in use: all
// but the probes of load balancers and monitoring, which come every few
// seconds and allocate next to nothing. Counted, they would keep a server
// without users from ever looking idle.
func isActivity(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return false
	}
	return true
}

// releaseMemoryWhenIdle hands the memory the server used back to the
// operating system once it has served nothing for quiet, once per burst of
// requests. Go keeps freed memory for reuse, and with gcPercent the heap
// under load is several times the live data: without this, a server that
// served a burst would idle at its peak.
func releaseMemoryWhenIdle(ctx context.Context, a *httpserver.InFlight, quiet time.Duration) {
	t := time.NewTicker(quiet)
	defer t.Stop()
	var released time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		last, idle := a.Idle()
		if idle && !last.IsZero() && last.After(released) && time.Since(last) >= quiet {
			debug.FreeOSMemory()
			released = last
		}
	}
}
