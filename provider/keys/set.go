package keys

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/usher-idp/usher/storage"
)

// Set is an institution's published keys, opened: the current key of each
// algorithm signs, every key verifies. A Set is immutable and safe for
// concurrent use; load a new one when the institution's version changes or
// at ReloadAt.
type Set struct {
	byKID    map[string]*entry
	current  map[string]*entry // by algorithm
	jwks     []jose.JSONWebKey // public keys, in publishing order
	reloadAt time.Time
	signers  sync.Map // alg + "\x00" + typ → *compactSigner of the current key (SignCompact)
}

// entry is one opened key.
type entry struct {
	private   *jose.JSONWebKey // kid, alg and use "sig" set
	public    any              // *rsa.PublicKey or *ecdsa.PublicKey
	state     storage.KeyState
	since     time.Time  // when it became current (current keys)
	expiresAt *time.Time // retired keys: when it stops being published
}

// Current returns the private current key of alg, with its KeyID, Algorithm
// and Use "sig" set. The caller gets its own copy of the JWK (not of the
// key it holds).
func (s *Set) Current(alg string) (*jose.JSONWebKey, error) {
	e, ok := s.current[alg]
	if !ok {
		return nil, fmt.Errorf("%w of algorithm %q", ErrNoKey, alg)
	}
	k := *e.private
	return &k, nil
}

// CurrentSince returns when the current key of alg became current (for
// scheduled rotation), or the zero time when there is none.
func (s *Set) CurrentSince(alg string) time.Time {
	if e, ok := s.current[alg]; ok {
		return e.since
	}
	return time.Time{}
}

// JWKS returns the public keys of the next, current and published retired
// keys, each with its kid, use "sig" and alg, never a private part. Current
// keys come first (RS256 before ES256), then next keys, then retired ones.
func (s *Set) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: slices.Clone(s.jwks)}
}

// ReloadAt returns when the earliest retired key stops being published: the
// Set must be reloaded by then, although the institution's version does not
// change when a key expires. The zero time means never.
func (s *Set) ReloadAt() time.Time { return s.reloadAt }

// newSet builds a Set from opened entries.
func newSet(entries []*entry) *Set {
	s := &Set{byKID: map[string]*entry{}, current: map[string]*entry{}}
	slices.SortStableFunc(entries, publishingOrder)
	for _, e := range entries {
		s.byKID[e.private.KeyID] = e
		alg := e.private.Algorithm
		if c, ok := s.current[alg]; e.state == storage.KeyCurrent && (!ok || e.since.After(c.since)) {
			s.current[alg] = e
		}
		s.jwks = append(s.jwks, e.private.Public())
		if e.expiresAt != nil && (s.reloadAt.IsZero() || e.expiresAt.Before(s.reloadAt)) {
			s.reloadAt = *e.expiresAt
		}
	}
	return s
}

// publishingOrder puts current keys first, then next, then retired; within a
// state RS256 first; then the newest first (the storage order, kept by the
// stable sort).
func publishingOrder(a, b *entry) int {
	return cmp.Or(
		cmp.Compare(rank(a.state), rank(b.state)),
		cmp.Compare(slices.Index(algorithms(), a.private.Algorithm), slices.Index(algorithms(), b.private.Algorithm)),
	)
}

// rank orders key states for publishing.
func rank(state storage.KeyState) int {
	switch state {
	case storage.KeyCurrent:
		return 0
	case storage.KeyNext:
		return 1
	}
	return 2
}
