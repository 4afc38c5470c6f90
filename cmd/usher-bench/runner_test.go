package main

import (
	"context"
	"testing"
	"time"
)

// sleeper is a scenario whose every operation takes d.
type sleeper struct{ d time.Duration }

func (sleeper) prepare(context.Context, *env, int) error { return nil }
func (s sleeper) op(context.Context, *env, int) error {
	time.Sleep(s.d)
	return nil
}

// An open loop starts operations at their due times, not faster, and a
// server that cannot keep up is charged for the waiting: with one worker,
// operations of 20 ms due every 10 ms fall further and further behind,
// and their latency, counted from when they were due, grows with it. A
// closed loop over the same server only ever sees 20 ms.
func TestRunPhaseOpenLoop(t *testing.T) {
	ctx := context.Background()
	fast := runPhase(ctx, nil, sleeper{0}, 2, time.Now(), 500*time.Millisecond, nil, 100)
	if got := len(fast.ok); got < 40 || got > 51 {
		t.Errorf("rate 100/s for 0.5 s: %d operations, want about 50 (never more than 51)", got)
	}
	slow := runPhase(ctx, nil, sleeper{20 * time.Millisecond}, 1, time.Now(), 500*time.Millisecond, nil, 100)
	open := percentiles(slow.ok, nil)
	if open.Max < 150 {
		t.Errorf("open loop behind its rate: max latency %.1f ms, want the growing wait (≥ 150 ms)", open.Max)
	}
	closed := percentiles(runPhase(ctx, nil, sleeper{20 * time.Millisecond}, 1, time.Now(), 300*time.Millisecond, nil, 0).ok, nil)
	if closed.P99 > 120 {
		t.Errorf("closed loop: p99 %.1f ms, want about 20 ms", closed.P99)
	}
}
