package keys

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// Ensure gives the institution a current and a next key for each algorithm
// it lacks (promoting a next key that has no current one). Replicas calling
// it at once create one set: it runs in a transaction that first takes the
// institution's row lock (TouchInstitution, which also raises the version so
// every replica reloads), then re-reads the keys. It reports whether it
// created (or promoted) any key.
//
// When the institution already has every key, Ensure reads and returns
// without a transaction and without raising the version, so calling it each
// time a provider is built costs one query. (A replica that loses the race
// to create the keys still raises the version once, harmlessly: rolling
// back instead would doom a caller's enclosing transaction.)
func Ensure[K storage.KeyStore](ctx context.Context, st Store[K], sealer *seal.Sealer, institutionID string) (created bool, err error) {
	scoped := st.In(institutionID)
	list, err := scoped.ListSigningKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("keys: ensure: %w", err)
	}
	need, held := map[string]int{}, holdings(list)
	for _, alg := range algorithms() {
		if n := held[alg].missing(); n > 0 {
			need[alg] = n
		}
	}
	if len(need) == 0 {
		return false, nil
	}
	made, err := pregenerate(need)
	if err != nil {
		return false, err
	}
	w := &writer{keys: scoped, sealer: sealer, inst: institutionID, spares: made}
	changed := false
	err = st.InTx(ctx, func(ctx context.Context) (err error) {
		changed, err = w.ensureLocked(ctx, st)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("keys: ensure: %w", err)
	}
	return changed, nil
}

// ensureLocked locks the institution, re-reads its keys and completes them;
// it reports whether it changed any.
func (w *writer) ensureLocked(ctx context.Context, st toucher) (bool, error) {
	if err := st.TouchInstitution(ctx, w.inst); err != nil {
		return false, err
	}
	list, err := w.keys.ListSigningKeys(ctx)
	if err != nil {
		return false, err
	}
	changed, held := false, holdings(list)
	for _, alg := range algorithms() {
		h := held[alg]
		if h.missing() == 0 {
			continue
		}
		changed = true
		if err := w.complete(ctx, alg, h); err != nil {
			return false, err
		}
	}
	return changed, nil
}

// complete gives one algorithm a current key (the next one promoted, or a
// new one) and a next key.
func (w *writer) complete(ctx context.Context, alg string, h holding) error {
	if len(h.current) == 0 {
		if err := w.makeCurrent(ctx, alg, h); err != nil {
			return err
		}
	}
	if len(h.current) == 0 || h.next == nil {
		return w.create(ctx, alg, false)
	}
	return nil
}
