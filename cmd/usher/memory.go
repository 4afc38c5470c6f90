package main

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/usher-idp/usher/flows/password"
)

// memoryQuiet is how long password hashing must have stopped before the
// memory it used is handed back.
const memoryQuiet = 5 * time.Second

// releaseMemoryWhenIdle hands the memory of password hashing back to the
// operating system once hashing has stopped for quiet: every argon2id hash
// allocates 19 MiB afresh, and Go keeps freed memory for reuse, so a burst of
// sign-ins would otherwise leave the process large while it idles. It does
// so once per burst, never while a hash runs. (A memory limit would bound the
// peak too, but measured at half the sign-in throughput: the runtime then
// returns and refaults those 19 MiB on every hash.)
func releaseMemoryWhenIdle(ctx context.Context, h *password.Hasher, quiet time.Duration) {
	t := time.NewTicker(quiet)
	defer t.Stop()
	var released time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		last := h.LastUsed()
		if last.IsZero() || !last.After(released) {
			continue
		}
		if d, idle := h.Idle(); idle && d >= quiet {
			debug.FreeOSMemory()
			released = last
		}
	}
}
