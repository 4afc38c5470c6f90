package keys_test

import (
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/provider/keys"
)

func TestRotateIfOlder(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		version := e.version()
		e.clock.Advance(time.Hour)
		rotated, err := keys.RotateIfOlder(e.ctx, e.store, e.sealer, e.inst, 2*time.Hour, time.Hour, e.clock.Now())
		must(t, "rotate if older (not due)", err)
		if rotated || e.version() != version || len(e.records()) != 4 {
			t.Fatalf("keys an hour old, max age 2h: rotated %v, version %d (was %d), %d keys", rotated, e.version(), version, len(e.records()))
		}
		e.clock.Advance(time.Hour)
		rotated, err = keys.RotateIfOlder(e.ctx, e.store, e.sealer, e.inst, 2*time.Hour, time.Hour, e.clock.Now())
		must(t, "rotate if older (due)", err)
		if !rotated || len(e.records()) != 6 {
			t.Fatalf("keys two hours old: rotated %v, %d keys", rotated, len(e.records()))
		}
	})
}

// Replicas that find the keys due at the same moment rotate them once: a
// second rotation would make current a key published a moment ago.
func TestRotateIfOlderConcurrent(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		e.clock.Advance(3 * time.Hour)
		now := e.clock.Now()
		const replicas = 4
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]bool, replicas)
		errs := make([]error, replicas)
		for i := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = keys.RotateIfOlder(e.ctx, e.store, e.sealer, e.inst, 2*time.Hour, time.Hour, now)
			}()
		}
		close(start)
		wg.Wait()
		n := 0
		for i := range replicas {
			must(t, "rotate if older", errs[i])
			if results[i] {
				n++
			}
		}
		if n != 1 || len(e.records()) != 6 {
			t.Fatalf("%d replicas rotated, %d keys; want 1 rotation, 6 keys", n, len(e.records()))
		}
	})
}
