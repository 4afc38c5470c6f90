package keys

import (
	"context"
	"fmt"

	"github.com/go-jose/go-jose/v3"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// holding is what an institution holds of one algorithm.
type holding struct {
	current []string            // kids of current keys (one, unless something went wrong)
	next    *storage.SigningKey // the newest next key
}

// missing is how many new keys the algorithm needs to have a current and a
// next one (a next key without a current one is promoted).
func (h holding) missing() int {
	n := 0
	if len(h.current) == 0 {
		n++
	}
	if h.next == nil {
		n++
	}
	return n
}

// holdings sorts listed keys (newest first) by algorithm.
func holdings(list []storage.SigningKey) map[string]holding {
	held := map[string]holding{}
	for i := range list {
		k := &list[i]
		h := held[k.Algorithm]
		switch {
		case k.State == storage.KeyCurrent:
			h.current = append(h.current, k.ID)
		case k.State == storage.KeyNext && h.next == nil:
			h.next = k
		}
		held[k.Algorithm] = h
	}
	return held
}

// spares are keys generated before a transaction, so that the slow part
// (RSA key generation) does not run while the institution is locked.
type spares map[string][]*jose.JSONWebKey

// pregenerate makes need[alg] keys of each algorithm.
func pregenerate(need map[string]int) (spares, error) {
	made := spares{}
	for alg, n := range need {
		for range n {
			jwk, err := generate(alg)
			if err != nil {
				return nil, err
			}
			made[alg] = append(made[alg], jwk)
		}
	}
	return made, nil
}

// take returns a spare key of alg, or generates one when none is left.
func (p spares) take(alg string) (*jose.JSONWebKey, error) {
	if l := p[alg]; len(l) > 0 {
		p[alg] = l[1:]
		return l[0], nil
	}
	return generate(alg)
}

// writer adds keys to one institution's records.
type writer struct {
	keys   storage.KeyStore
	sealer *seal.Sealer
	inst   string
	spares spares
}

// create stores a new key of alg as next, or as current when current is set.
func (w *writer) create(ctx context.Context, alg string, current bool) error {
	jwk, err := w.spares.take(alg)
	if err != nil {
		return err
	}
	rec, err := newRecord(w.sealer, w.inst, jwk)
	if err != nil {
		return err
	}
	if err := w.keys.CreateSigningKey(ctx, rec); err != nil {
		return fmt.Errorf("keys: store %s key: %w", alg, err)
	}
	if current {
		return w.promote(ctx, rec.ID)
	}
	return nil
}

// makeCurrent gives alg a current key: its next key promoted, or a new one.
func (w *writer) makeCurrent(ctx context.Context, alg string, h holding) error {
	if h.next != nil {
		return w.promote(ctx, h.next.ID)
	}
	return w.create(ctx, alg, true)
}

// promote makes a next key current.
func (w *writer) promote(ctx context.Context, kid string) error {
	if err := w.keys.TransitionSigningKey(ctx, kid, storage.KeyNext, storage.KeyCurrent, nil); err != nil {
		return fmt.Errorf("keys: promote key %s: %w", kid, err)
	}
	return nil
}
