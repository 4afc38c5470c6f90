package keys

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// Load reads and opens the institution's published keys (ListSigningKeys:
// all but expired retired keys). Every key is opened and checked against its
// record, so a key that does not open with the master secret, or whose
// public part was altered, fails the whole load (ErrBadKey) rather than
// being published.
func Load(ctx context.Context, ks storage.KeyStore, sealer *seal.Sealer, institutionID string) (*Set, error) {
	list, err := ks.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: load: %w", err)
	}
	entries := make([]*entry, 0, len(list))
	for i := range list {
		k := &list[i]
		e, err := open(sealer, institutionID, k)
		if err != nil {
			return nil, fmt.Errorf("keys: load: %w", err)
		}
		entries = append(entries, e)
	}
	return newSet(entries), nil
}

// open turns a stored key of the institution into an entry.
func open(sealer *seal.Sealer, institutionID string, k *storage.SigningKey) (*entry, error) {
	jwk, err := openRecord(sealer, institutionID, k)
	if err != nil {
		return nil, err
	}
	e := &entry{private: jwk, public: jwk.Public().Key, state: k.State, expiresAt: k.ExpiresAt}
	if k.ActivatedAt != nil {
		e.since = *k.ActivatedAt
	}
	return e, nil
}
