package main

import (
	"context"
	"time"

	"github.com/usher-idp/usher/storage"
)

// The janitor deletes in small batches with a pause between them, so that
// no statement holds locks long enough to stall the token endpoint. SQLite
// has one writer: a batch there blocks every write while it runs, so its
// batches are smaller.
const (
	janitorBatch       = 1000
	janitorBatchSQLite = 100
	janitorPause       = 20 * time.Millisecond
)

// janitorBatchOf returns the batch size for the store's database.
func janitorBatchOf(dialect string) int {
	if dialect == "sqlite" {
		return janitorBatchSQLite
	}
	return janitorBatch
}

type purged struct {
	what storage.Purge
	n    int
}

// purgeExpired removes every expired record, kind by kind, batch by batch.
func purgeExpired(ctx context.Context, j storage.Janitor, batch int, pause time.Duration) ([]purged, error) {
	var out []purged
	for _, what := range storage.Purges() {
		total := 0
		for {
			n, err := j.PurgeExpired(ctx, what, batch)
			total += n
			if err != nil {
				return append(out, purged{what, total}), err
			}
			if n < batch {
				break
			}
			select {
			case <-ctx.Done():
				return append(out, purged{what, total}), ctx.Err()
			case <-time.After(pause):
			}
		}
		out = append(out, purged{what, total})
	}
	return out, nil
}

// purgePending removes the accounts pending for longer than age (0 keeps
// them), batch by batch, each with its audit event.
func purgePending(ctx context.Context, j storage.Janitor, now time.Time, age time.Duration, batch int, pause time.Duration) (purged, error) {
	out := purged{what: "pending_accounts"}
	if age <= 0 {
		return out, nil
	}
	for {
		n, err := j.PurgePendingAccounts(ctx, now.Add(-age), batch)
		out.n += n
		if err != nil || n < batch {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// janitorPass removes expired records, then pending accounts never
// activated.
func janitorPass(ctx context.Context, a *app) ([]purged, error) {
	batch := janitorBatchOf(a.store.Dialect())
	removed, err := purgeExpired(ctx, a.store, batch, janitorPause)
	if err != nil {
		return removed, err
	}
	pending, err := purgePending(ctx, a.store, a.now(), a.cfg.Janitor.PendingAccounts.Duration(), batch, janitorPause)
	return append(removed, pending), err
}

// runJanitorEvery purges expired records every interval until ctx ends;
// interval 0 disables it. Every replica may run it: deletes are idempotent.
func runJanitorEvery(ctx context.Context, a *app, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		removed, err := janitorPass(ctx, a)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("janitor", "error", err)
		}
		for _, r := range removed {
			if r.n > 0 {
				a.log.Info("janitor removed expired records", "kind", string(r.what), "count", r.n)
			}
		}
	}
}
