package storage

import (
	"context"
	"time"
)

// ThrottleStore counts events per key in fixed windows, shared by every
// replica: failed sign-ins per source address, emails per account.
type ThrottleStore interface {
	// HitThrottle counts one event for key and returns the count in the
	// current window. A window starts at the first hit and lasts window;
	// the first hit after it ends starts a new one. Concurrent hits are all
	// counted.
	HitThrottle(ctx context.Context, key string, window time.Duration) (int, error)
	// ThrottleCount returns the count in the key's current window (0 when
	// none, or when it has ended).
	ThrottleCount(ctx context.Context, key string) (int, error)
	// ResetThrottle forgets the key.
	ResetThrottle(ctx context.Context, key string) error
}
