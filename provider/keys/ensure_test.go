package keys_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
)

var oneSet = map[string]int{"RS256/current": 1, "RS256/next": 1, "ES256/current": 1, "ES256/next": 1}

func wantCounts(t *testing.T, what string, got map[string]int) {
	t.Helper()
	if len(got) != len(oneSet) {
		t.Fatalf("%s: keys %v, want %v", what, got, oneSet)
	}
	for k, n := range oneSet {
		if got[k] != n {
			t.Fatalf("%s: keys %v, want %v", what, got, oneSet)
		}
	}
}

func TestEnsureCreatesOneSet(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		list := e.records()
		if len(list) != 4 {
			t.Fatalf("%d keys after Ensure, want 4", len(list))
		}
		wantCounts(t, "after Ensure", count(list))
		for _, k := range list {
			if k.State == storage.KeyCurrent && (k.ActivatedAt == nil || !k.ActivatedAt.Equal(t0)) {
				t.Errorf("current key %s activated at %v, want %v", k.ID, k.ActivatedAt, t0)
			}
		}
		if v := e.version(); v != 2 {
			t.Errorf("version %d after Ensure, want 2", v)
		}
		created, err := keys.Ensure(e.ctx, e.store, e.sealer, e.inst)
		must(t, "ensure again", err)
		if created || len(e.records()) != 4 {
			t.Errorf("Ensure again: created %v, %d keys; want false, 4", created, len(e.records()))
		}
		if v := e.version(); v != 2 {
			t.Errorf("version %d after a second Ensure, want still 2 (replicas would reload for nothing)", v)
		}
	})
}

// TestEnsureConcurrent starts 2, then 5 goroutines calling Ensure at once on
// a fresh institution, several times over: key generation before the lock
// staggers them, so one round may not race.
func TestEnsureConcurrent(t *testing.T) {
	each(t, func(e *env) {
		for round, n := range []int{2, 5, 2, 5, 2, 5, 2, 5} {
			e.inst = e.institution(fmt.Sprintf("race-%d", round))
			start := make(chan struct{})
			results := make([]bool, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = keys.Ensure(e.ctx, e.store, e.sealer, e.inst)
				}()
			}
			close(start)
			wg.Wait()
			winners := 0
			for i := range n {
				must(t, "concurrent ensure", errs[i])
				if results[i] {
					winners++
				}
			}
			list := e.records()
			if len(list) != 4 || winners != 1 {
				t.Fatalf("%d concurrent Ensure: %d keys, %d reported creating; want 4 and 1", n, len(list), winners)
			}
			wantCounts(t, "after concurrent Ensure", count(list))
		}
	})
}

func TestEnsurePromotesNext(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		oldRS, nextRS := current(t, set, keys.RS256), nextKid(e, keys.RS256)
		must(t, "retire", e.store.In(e.inst).TransitionSigningKey(e.ctx, oldRS, storage.KeyCurrent, storage.KeyRetired, nil))
		created, err := keys.Ensure(e.ctx, e.store, e.sealer, e.inst)
		must(t, "ensure", err)
		if !created {
			t.Fatal("Ensure without a current RS256 key changed nothing")
		}
		if got := current(t, e.load(), keys.RS256); got != nextRS {
			t.Errorf("current RS256 key %s, want the former next %s promoted", got, nextRS)
		}
		wantCounts(t, "after Ensure", count(without(e.records(), storage.KeyRetired)))
	})
}

// nextKid returns the kid of the stored next key of alg.
func nextKid(e *env, alg string) string {
	e.t.Helper()
	for _, k := range e.records() {
		if k.Algorithm == alg && k.State == storage.KeyNext {
			return k.ID
		}
	}
	e.t.Fatalf("no next %s key", alg)
	return ""
}

// without drops the keys in state.
func without(list []storage.SigningKey, state storage.KeyState) []storage.SigningKey {
	var out []storage.SigningKey
	for _, k := range list {
		if k.State != state {
			out = append(out, k)
		}
	}
	return out
}
