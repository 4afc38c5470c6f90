package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

// HitThrottle implements storage.ThrottleStore with one upsert: a window
// that is over restarts at 1, a current one counts up.
func (s *scoped) HitThrottle(ctx context.Context, key string, window time.Duration) (int, error) {
	now := s.clock()
	var n int
	err := s.get(ctx, &n, `INSERT INTO throttles (institution_id, key, count, window_start, window_end, last_hit_at)
		VALUES (?, ?, 1, ?, ?, ?)
		ON CONFLICT (institution_id, key) DO UPDATE SET
			count = CASE WHEN throttles.window_end > ? THEN throttles.count + 1 ELSE 1 END,
			window_start = CASE WHEN throttles.window_end > ? THEN throttles.window_start ELSE excluded.window_start END,
			window_end = CASE WHEN throttles.window_end > ? THEN throttles.window_end ELSE excluded.window_end END,
			last_hit_at = excluded.last_hit_at
		RETURNING count`, s.inst, key, now, now.Add(window), now, now, now, now)
	if err != nil {
		return 0, fmt.Errorf("hit throttle: %w", err)
	}
	return n, nil
}

// GetThrottle implements storage.ThrottleStore.
func (s *scoped) GetThrottle(ctx context.Context, key string) (storage.Throttle, error) {
	var t storage.Throttle
	err := s.get(ctx, &t, `SELECT count, window_start, window_end, last_hit_at FROM throttles
		WHERE institution_id = ? AND key = ? AND window_end > ?`, s.inst, key, s.clock())
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Throttle{}, nil
	}
	if err != nil {
		return storage.Throttle{}, fmt.Errorf("get throttle: %w", err)
	}
	return t, nil
}

// ResetThrottle implements storage.ThrottleStore.
func (s *scoped) ResetThrottle(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM throttles WHERE institution_id = ? AND key = ?`, s.inst, key); err != nil {
		return fmt.Errorf("reset throttle: %w", err)
	}
	return nil
}
