package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usher-idp/usher/flows/password"
)

// hashRate is this machine's argon2id rate with Usher's default parameters
// (what one sign-in verifies): one goroutine per core hashing for d. It is
// the physical limit of password sign-ins here, measured while the server
// is idle. It is measured before the scenario's warm-up and again after its
// measurement; the higher of the two is the limit (on a shared machine the
// other work varies).
type hashRate struct {
	PerSecond  float64 `json:"per_second"` // the higher of Before and After
	Before     float64 `json:"before_per_second"`
	After      float64 `json:"after_per_second"`
	Goroutines int     `json:"goroutines"`
	Hashes     int64   `json:"hashes"`
	Seconds    float64 `json:"seconds"`
	Params     string  `json:"params"`
}

func measureHashRate(ctx context.Context, d time.Duration) (hashRate, error) {
	n := runtime.NumCPU()
	h, err := password.NewHasher(password.Config{MaxConcurrent: n})
	if err != nil {
		return hashRate{}, err
	}
	p := password.DefaultParams()
	var count atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := h.Hash(ctx, benchPassword); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	rate := float64(count.Load()) / elapsed.Seconds()
	return hashRate{PerSecond: rate, Before: rate, Goroutines: n, Hashes: count.Load(), Seconds: elapsed.Seconds(),
		Params: paramString(p)}, firstErr
}

func paramString(p password.Params) string {
	return fmt.Sprintf("argon2id m=%d KiB, t=%d, p=%d", p.Memory, p.Time, p.Threads)
}
