package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// writerWait bounds the wait for SQLite's write lock, like the busy timeout
// of the connection string.
const writerWait = 10 * time.Second

// writerLock hands SQLite's single write lock from one writer of the process
// to the next. SQLite's own busy handler polls, sleeping up to 100 ms between
// tries, so under load writers slept while the lock was free and the server
// left a core idle; queued here, the next writer starts the moment the
// previous one commits. Other processes (usher janitor, a second server) still
// meet the busy handler. PostgreSQL needs none of this: nil.
type writerLock chan struct{}

func newWriterLock(d dialect) writerLock {
	if d != sqlite {
		return nil
	}
	return make(writerLock, 1)
}

// lock waits for the write lock; the returned function releases it.
func (w writerLock) lock(ctx context.Context) (func(), error) {
	if w == nil {
		return func() {}, nil
	}
	select {
	case w <- struct{}{}:
		return w.unlock, nil
	default:
	}
	timer := time.NewTimer(writerWait)
	defer timer.Stop()
	select {
	case w <- struct{}{}:
		return w.unlock, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the database writer: %w", ctx.Err())
	case <-timer.C:
		return nil, fmt.Errorf("database busy: no write lock after %s", writerWait)
	}
}

func (w writerLock) unlock() { <-w }

// lockStatement takes the write lock for a statement that writes outside a
// transaction (a transaction holds it from BEGIN to its end).
func (s *Store) lockStatement(ctx context.Context, query string) (func(), error) {
	if s.writer == nil || s.txFrom(ctx) != nil || !writes(query) {
		return func() {}, nil
	}
	return s.writer.lock(ctx)
}

// writes reports whether a statement may write: anything but a SELECT.
func writes(query string) bool {
	return !strings.HasPrefix(strings.TrimSpace(query), "SELECT")
}
