package storage

import (
	"context"
	"time"
)

// Throttle is a key's current window.
type Throttle struct {
	Count       int       `db:"count"`
	WindowStart time.Time `db:"window_start"`
	WindowEnd   time.Time `db:"window_end"`
	LastHit     time.Time `db:"last_hit_at"`
}

// ThrottleStore counts events per key in fixed windows, shared by every
// replica: failed sign-ins per source address, emails per account.
type ThrottleStore interface {
	// HitThrottle counts one event for key and returns the count in the
	// current window. A window starts at the first hit and lasts window;
	// the first hit after it ends starts a new one. Concurrent hits are all
	// counted.
	HitThrottle(ctx context.Context, key string, window time.Duration) (int, error)
	// GetThrottle returns the key's current window; a key without one (never
	// hit, reset, or its window ended) has Count 0 and zero times.
	GetThrottle(ctx context.Context, key string) (Throttle, error)
	// ResetThrottle forgets the key.
	ResetThrottle(ctx context.Context, key string) error
}
