package keys_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

func TestPrivateKeysSealedAtRest(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		for _, k := range e.records() {
			for _, clear := range []string{"-----BEGIN", `"d"`, `"p"`, "PRIVATE"} {
				if bytes.Contains(k.PrivateKey, []byte(clear)) || bytes.Contains(k.PublicKey, []byte(clear)) {
					t.Errorf("key %s stored with %s in the clear", k.ID, clear)
				}
			}
			if k.State != storage.KeyCurrent {
				continue
			}
			jwk, err := set.Current(k.Algorithm)
			must(t, "current", err)
			der, err := x509.MarshalPKCS8PrivateKey(jwk.Key)
			must(t, "marshal", err)
			if bytes.Contains(k.PrivateKey, der[len(der)-32:]) {
				t.Errorf("key %s: stored bytes contain the private key", k.ID)
			}
		}
	})
}

func TestLoadRefusesOtherMaster(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		other := newSealer(t, bytes.Repeat([]byte("x"), 32))
		_, err := keys.Load(e.ctx, e.store.In(e.inst), other, e.inst)
		if !errors.Is(err, keys.ErrBadKey) || !errors.Is(err, seal.ErrOpen) {
			t.Errorf("Load with another master secret: %v, want ErrBadKey and seal.ErrOpen", err)
		}
		otherPurpose, err := seal.New(master, "totp")
		must(t, "sealer", err)
		if _, err := keys.Load(e.ctx, e.store.In(e.inst), otherPurpose, e.inst); !errors.Is(err, seal.ErrOpen) {
			t.Errorf("Load with a sealer of another purpose: %v, want seal.ErrOpen", err)
		}
	})
}

// alteredStore lists the real keys, changed by alter.
type alteredStore struct {
	storage.KeyStore
	alter func(list []storage.SigningKey)
}

func (s alteredStore) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	list, err := s.KeyStore.ListSigningKeys(ctx)
	if err == nil {
		s.alter(list)
	}
	return list, err
}

func TestLoadRefusesMovedOrAlteredKeys(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		tests := []struct {
			name  string
			inst  string
			alter func(list []storage.SigningKey)
		}{
			{"another institution's records", e.institution("museum"), func([]storage.SigningKey) {}},
			{"sealed key moved to another record", e.inst, func(l []storage.SigningKey) {
				l[0].PrivateKey, l[1].PrivateKey = l[1].PrivateKey, l[0].PrivateKey
			}},
			{"kid renamed", e.inst, func(l []storage.SigningKey) { l[0].ID = l[1].ID }},
			{"public key swapped", e.inst, func(l []storage.SigningKey) {
				for i := range l { // two keys of one algorithm
					if l[i].Algorithm == l[0].Algorithm && i > 0 {
						l[0].PublicKey = l[i].PublicKey
						return
					}
				}
				t.Fatal("no two keys of one algorithm")
			}},
			{"algorithm changed", e.inst, func(l []storage.SigningKey) {
				l[0].Algorithm = map[string]string{keys.RS256: keys.ES256, keys.ES256: keys.RS256}[l[0].Algorithm]
			}},
			{"sealed key truncated", e.inst, func(l []storage.SigningKey) { l[0].PrivateKey = l[0].PrivateKey[:40] }},
		}
		for _, tt := range tests {
			_, err := keys.Load(e.ctx, alteredStore{e.store.In(e.inst), tt.alter}, e.sealer, tt.inst)
			if !errors.Is(err, keys.ErrBadKey) {
				t.Errorf("%s: Load = %v, want ErrBadKey", tt.name, err)
			}
		}
	})
}
