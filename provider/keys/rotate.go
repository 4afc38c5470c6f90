package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// Rotate, in one transaction, for each algorithm: current → retired
// (ExpiresAt = now + retireFor: the old key stays published until every token
// it signed has expired), next → current, and a new next. An algorithm
// without a next key gets a new current one. Rotate raises the institution's
// version, so every replica reloads its keys.
//
// retireFor should be at least the longest lifetime of a token the key
// signed (ID tokens, JWT access tokens), plus the clock skew between
// replicas.
func Rotate[K storage.KeyStore](ctx context.Context, st Store[K], sealer *seal.Sealer, institutionID string, retireFor time.Duration, now time.Time) error {
	_, err := rotateWhen(ctx, st, sealer, institutionID, retireFor, now, nil)
	return err
}

// RotateIfOlder rotates like Rotate when a current key has signed for longer
// than maxAge (scheduled rotation) and reports whether it did. The age is
// checked inside the transaction, under the institution's lock: replicas
// that find the keys due at once rotate them once, so no key ever signs
// without having been published first.
func RotateIfOlder[K storage.KeyStore](ctx context.Context, st Store[K], sealer *seal.Sealer, institutionID string, maxAge, retireFor time.Duration, now time.Time) (bool, error) {
	due := func(list []storage.SigningKey) bool {
		for _, k := range list {
			if k.State != storage.KeyCurrent {
				continue
			}
			since := k.CreatedAt
			if k.ActivatedAt != nil {
				since = *k.ActivatedAt
			}
			if now.Sub(since) >= maxAge {
				return true
			}
		}
		return false
	}
	return rotateWhen(ctx, st, sealer, institutionID, retireFor, now, due)
}

// errNotDue rolls back a scheduled rotation that another replica already did.
var errNotDue = errors.New("keys: rotation not due")

// rotateWhen rotates every algorithm when due (nil: always) holds for the
// keys read under the institution's lock.
func rotateWhen[K storage.KeyStore](ctx context.Context, st Store[K], sealer *seal.Sealer, institutionID string, retireFor time.Duration, now time.Time, due func([]storage.SigningKey) bool) (bool, error) {
	need := map[string]int{}
	for _, alg := range algorithms() {
		need[alg] = 1
	}
	made, err := pregenerate(need)
	if err != nil {
		return false, err
	}
	w := &writer{keys: st.In(institutionID), sealer: sealer, inst: institutionID, spares: made}
	expires := now.Add(retireFor)
	err = st.InTx(ctx, func(ctx context.Context) error {
		if err := st.TouchInstitution(ctx, institutionID); err != nil {
			return err
		}
		list, err := w.keys.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		if due != nil && !due(list) {
			return errNotDue
		}
		held := holdings(list)
		for _, alg := range algorithms() {
			if err := w.rotate(ctx, alg, held[alg], expires); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errNotDue) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("keys: rotate: %w", err)
	}
	return true, nil
}

// rotate moves one algorithm's keys on by one step.
func (w *writer) rotate(ctx context.Context, alg string, h holding, expires time.Time) error {
	for _, kid := range h.current {
		if err := w.keys.TransitionSigningKey(ctx, kid, storage.KeyCurrent, storage.KeyRetired, &expires); err != nil {
			return fmt.Errorf("keys: retire key %s: %w", kid, err)
		}
	}
	if err := w.makeCurrent(ctx, alg, h); err != nil {
		return err
	}
	return w.create(ctx, alg, false)
}
