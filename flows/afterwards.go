package flows

import (
	"context"
	"sync"
	"time"
)

// Afterwards runs the work a page does after it has answered (the
// recovery page answers before it looks the account up): in the
// background, a moment after the answer left, so that neither this answer
// nor the next one on the same connection waits for it, and a person's
// timing tells nothing of what the work found.
//
// A nil *Afterwards runs the work at once, in the request (tests).
type Afterwards struct {
	jobs  chan afterJob
	delay time.Duration
	wg    sync.WaitGroup
}

type afterJob struct {
	at  time.Time // not before
	run func()
}

// afterJobTimeout bounds one job.
const afterJobTimeout = 30 * time.Second

// NewAfterwards returns a runner of queue jobs at most waiting, started by
// Run.
func NewAfterwards(queue int, delay time.Duration) *Afterwards {
	return &Afterwards{jobs: make(chan afterJob, queue), delay: delay}
}

// Do queues fn. When the queue is full, fn runs at once: work is never
// dropped.
func (a *Afterwards) Do(ctx context.Context, fn func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterJobTimeout)
	if a == nil {
		defer cancel()
		fn(ctx)
		return
	}
	job := afterJob{at: time.Now().Add(a.delay), run: func() { defer cancel(); fn(ctx) }}
	select {
	case a.jobs <- job:
	default:
		job.run()
	}
}

// Run works through the jobs with workers goroutines until ctx ends, then
// finishes the jobs queued and returns. End ctx once nothing queues any
// more (after the HTTP server has shut down).
func (a *Afterwards) Run(ctx context.Context, workers int) {
	for range max(workers, 1) {
		a.wg.Add(1)
		go a.work(ctx)
	}
	a.wg.Wait()
}

func (a *Afterwards) work(ctx context.Context) {
	defer a.wg.Done()
	for {
		select {
		case job := <-a.jobs:
			if wait := time.Until(job.at); wait > 0 {
				time.Sleep(wait)
			}
			job.run()
		case <-ctx.Done():
			for {
				select {
				case job := <-a.jobs:
					job.run()
				default:
					return
				}
			}
		}
	}
}
