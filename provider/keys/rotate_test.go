package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
)

// beforeRotation is what a test remembers of the keys before a rotation.
type beforeRotation struct {
	current, next, token map[string]string // by algorithm; token: signed by current
}

// remember notes each algorithm's current and next kid and signs a token.
func remember(e *env) beforeRotation {
	set := e.load()
	b := beforeRotation{current: map[string]string{}, next: map[string]string{}, token: map[string]string{}}
	for _, alg := range []string{keys.RS256, keys.ES256} {
		b.current[alg], b.next[alg] = current(e.t, set, alg), nextKid(e, alg)
		b.token[alg] = sign(e.t, set, b.current[alg], idClaims(time.Hour))
	}
	return b
}

func TestRotate(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		b, version := remember(e), e.version()
		e.clock.Advance(time.Hour)
		now, retireFor := e.clock.Now(), 2*time.Hour
		must(t, "rotate", keys.Rotate(e.ctx, e.store, e.sealer, e.inst, retireFor, now))
		if v := e.version(); v != version+1 {
			t.Errorf("version %d after Rotate, want %d", v, version+1)
		}
		if got := count(e.records()); got["RS256/retired"] != 1 || got["ES256/retired"] != 1 || len(e.records()) != 6 {
			t.Fatalf("keys after Rotate: %v", got)
		}
		wantCounts(t, "published, unretired keys", count(without(e.records(), storage.KeyRetired)))
		checkRotated(e, b, now, now.Add(retireFor))
		e.clock.Advance(retireFor + time.Second)
		checkExpired(e, b)
	})
}

// checkRotated checks each algorithm's keys moved on by one step, and that
// the tokens signed before still verify.
func checkRotated(e *env, b beforeRotation, now, expires time.Time) {
	t := e.t
	byID := map[string]storage.SigningKey{}
	for _, k := range e.records() {
		byID[k.ID] = k
	}
	after := e.load()
	for _, alg := range []string{keys.RS256, keys.ES256} {
		old := byID[b.current[alg]]
		if old.State != storage.KeyRetired || old.ExpiresAt == nil || !old.ExpiresAt.Equal(expires) {
			t.Errorf("%s: old current is %s expiring %v, want retired expiring %v", alg, old.State, old.ExpiresAt, expires)
		}
		if got := current(t, after, alg); got != b.next[alg] || byID[got].State != storage.KeyCurrent {
			t.Errorf("%s: current is %s, want the old next %s", alg, got, b.next[alg])
		}
		if n := nextKid(e, alg); n == b.next[alg] || n == b.current[alg] {
			t.Errorf("%s: no new next key", alg)
		}
		if !after.CurrentSince(alg).Equal(now) {
			t.Errorf("%s: current since %v, want %v", alg, after.CurrentSince(alg), now)
		}
		if _, err := after.Signer().Decode(e.ctx, b.token[alg]); err != nil {
			t.Errorf("%s: a token signed before the rotation does not decode after it: %v", alg, err)
		}
		if err := verifyWithJWKS(after.JWKS(), b.token[alg]); err != nil {
			t.Errorf("%s: a token signed before the rotation does not verify with the JWKS: %v", alg, err)
		}
	}
	if !after.ReloadAt().Equal(expires) {
		t.Errorf("ReloadAt %v, want %v", after.ReloadAt(), expires)
	}
}

// checkExpired checks the retired keys are gone once expired, with the
// tokens they signed.
func checkExpired(e *env, b beforeRotation) {
	t := e.t
	expired := e.load()
	jwks := expired.JWKS()
	if len(jwks.Keys) != 4 || !expired.ReloadAt().IsZero() {
		t.Errorf("after expiry: %d published keys, reload at %v; want 4, never", len(jwks.Keys), expired.ReloadAt())
	}
	for _, alg := range []string{keys.RS256, keys.ES256} {
		if len(jwks.Key(b.current[alg])) != 0 {
			t.Errorf("%s: the expired key is still published", alg)
		}
		if _, err := expired.Signer().Validate(e.ctx, b.token[alg]); err == nil {
			t.Errorf("%s: a token of an expired key still validates", alg)
		}
		if _, err := expired.ParseHint(b.token[alg]); err == nil {
			t.Errorf("%s: a hint signed by an expired key is accepted", alg)
		}
	}
}

func TestRotateRefusesUnknownInstitution(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		err := keys.Rotate(context.Background(), e.store, e.sealer, "no-such-institution", time.Hour, e.clock.Now())
		if err == nil {
			t.Fatal("Rotate of an unknown institution: no error")
		}
		if n := len(e.records()); n != 4 {
			t.Errorf("%d keys after a failed Rotate, want 4", n)
		}
	})
}
