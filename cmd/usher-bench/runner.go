package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// sample is one measured operation: when it started (since the phase
// began) and how long it took.
type sample struct {
	start, took time.Duration
}

// phase is what the workers did in one phase.
type phase struct {
	elapsed time.Duration
	ok      []sample
	failed  int
	errors  map[string]int // message → count
	order   []string       // messages in the order first seen
}

// runPhase runs n workers doing op until the deadline: each checks the
// deadline before starting an operation, and the phase ends when every
// worker has finished its last one (so a statement count read afterwards
// belongs to exactly these operations). until, when not nil, ends the
// phase instead of the deadline once it is closed and d has passed.
//
// With a rate (operations per second; 0: as fast as the workers go, a
// closed loop), the operations are due at fixed times, start + k/rate, as
// wrk2 does: a worker takes the next due time, waits for it, and an
// operation's latency counts from when it was due, so a server that falls
// behind is charged for the operations that waited (no coordinated
// omission). n bounds the operations in flight.
func runPhase(ctx context.Context, e *env, s scenario, n int, start time.Time, d time.Duration, until <-chan struct{},
	rate float64) phase {
	deadline := start.Add(d)
	done := make(chan struct{})
	go func() {
		if until != nil {
			select {
			case <-until:
			case <-ctx.Done():
			}
		}
		select {
		case <-time.After(time.Until(deadline)):
		case <-ctx.Done():
		}
		close(done)
	}()
	workers := make([]phase, n)
	var next atomic.Int64 // the next due operation, with a rate
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := &workers[i]
			w.ok = make([]sample, 0, 4096)
			for {
				select {
				case <-done:
					return
				default:
				}
				var t0 time.Time // when the operation is due: now, or its slot
				if rate > 0 {
					t0 = start.Add(time.Duration(float64(next.Add(1)-1) * float64(time.Second) / rate))
					if !waitUntil(t0, done) {
						return
					}
				} else {
					t0 = time.Now()
				}
				err := s.op(ctx, e, i)
				took := time.Since(t0)
				if err == nil {
					w.ok = append(w.ok, sample{start: t0.Sub(start), took: took})
					continue
				}
				if ctx.Err() != nil {
					return
				}
				w.failed++
				if w.errors == nil {
					w.errors = map[string]int{}
				}
				msg := err.Error()
				if w.errors[msg] == 0 {
					w.order = append(w.order, msg)
				}
				w.errors[msg]++
				time.Sleep(time.Millisecond) // a failing server must not be spun on
			}
		})
	}
	wg.Wait()
	p := phase{elapsed: time.Since(start), errors: map[string]int{}}
	for _, w := range workers {
		p.ok = append(p.ok, w.ok...)
		p.failed += w.failed
		for _, m := range w.order {
			if p.errors[m] == 0 {
				p.order = append(p.order, m)
			}
			p.errors[m] += w.errors[m]
		}
	}
	return p
}

// waitUntil waits for t, and reports false when done closes first.
func waitUntil(t time.Time, done <-chan struct{}) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return true
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-done:
		return false
	}
}

// latency is a set of percentiles, in milliseconds.
type latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func percentiles(samples []sample, keep func(sample) bool) latency {
	var d []time.Duration
	var sum time.Duration
	for _, s := range samples {
		if keep == nil || keep(s) {
			d = append(d, s.took)
			sum += s.took
		}
	}
	if len(d) == 0 {
		return latency{}
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := int(q*float64(len(d))+0.5) - 1
		i = max(0, min(i, len(d)-1))
		return ms(d[i])
	}
	return latency{Count: len(d), Mean: ms(sum / time.Duration(len(d))), P50: at(0.50), P90: at(0.90), P99: at(0.99),
		Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// errorSummary is the first few distinct error messages with their counts.
type errorSummary struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

func summarizeErrors(p phase, limit int) []errorSummary {
	var out []errorSummary
	for _, m := range p.order {
		out = append(out, errorSummary{m, p.errors[m]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// during is a command run during a measurement.
type during struct {
	Command  string  `json:"command"`
	StartS   float64 `json:"start_s"` // since the measurement began
	EndS     float64 `json:"end_s"`
	ExitCode int     `json:"exit_code"`
	Error    string  `json:"error,omitempty"`
	start    time.Duration
	end      time.Duration
	finished chan struct{}
}

// startDuring starts the command after delay, copying its output to w.
func startDuring(ctx context.Context, command string, delay time.Duration, began time.Time, w io.Writer) *during {
	d := &during{Command: command, finished: make(chan struct{})}
	go func() {
		defer close(d.finished)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			d.Error = ctx.Err().Error()
			return
		}
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		cmd.Stdout, cmd.Stderr, cmd.Env = w, w, os.Environ()
		d.start = time.Since(began)
		err := cmd.Run()
		d.end = time.Since(began)
		d.StartS, d.EndS = d.start.Seconds(), d.end.Seconds()
		d.ExitCode = cmd.ProcessState.ExitCode()
		if err != nil {
			d.Error = err.Error()
		}
	}()
	return d
}

// prefixWriter prefixes each write with a label (the command's output).
type prefixWriter struct {
	w     io.Writer
	label string
	mu    sync.Mutex
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fmt.Fprintf(p.w, "%s%s", p.label, b)
	return len(b), err
}
