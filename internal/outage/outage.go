// Package outage logs the failures of a dependency (the database, the SMTP
// server) without flooding the log: one line when an outage starts, saying
// what failed; while it lasts, at most one summary line per kind of failure
// every Every, with the count since the last one; one line when it ends,
// with how long it lasted and how many calls failed.
package outage

import (
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultEvery is how often, at most, a summary is logged per kind.
const DefaultEvery = 10 * time.Second

// Log follows the outages of one dependency. It is safe for concurrent
// use; OK costs one atomic load while the dependency is up.
type Log struct {
	log   *slog.Logger
	what  string // "database", "smtp"
	every time.Duration
	now   func() time.Time

	down atomic.Bool
	mu   sync.Mutex
	cur  *current // nil while up
}

// current is the outage under way.
type current struct {
	since, summarized time.Time
	total             int
	pending           map[string]int // failures per kind since the last summary line
}

// New returns the Log of dependency what, logging to log. every ≤ 0 means
// DefaultEvery; now nil means time.Now.
func New(log *slog.Logger, what string, every time.Duration, now func() time.Time) *Log {
	if every <= 0 {
		every = DefaultEvery
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{log: log, what: what, every: every, now: now}
}

// Failed records one failed call: kind says what failed in a few words
// ("connection refused"), err is the cause.
func (l *Log) Failed(kind string, err error) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		l.cur = &current{since: now, summarized: now, total: 1, pending: map[string]int{}}
		l.down.Store(true)
		l.log.Error(l.what+" unavailable", "dependency", l.what, "kind", kind, "error", errText(err))
		return
	}
	l.cur.total++
	l.cur.pending[kind]++
	if now.Sub(l.cur.summarized) >= l.every {
		l.summarize(now)
	}
}

// summarize logs one line per kind with failures since the last summary.
func (l *Log) summarize(now time.Time) {
	kinds := make([]string, 0, len(l.cur.pending))
	for k := range l.cur.pending {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		l.log.Warn(l.what+" still unavailable", "dependency", l.what, "kind", k, "failures", l.cur.pending[k],
			"since", l.cur.since.UTC().Format(time.RFC3339), "for_seconds", int(now.Sub(l.cur.since).Seconds()))
	}
	clear(l.cur.pending)
	l.cur.summarized = now
}

// OK records a successful call: it ends the outage under way, if any.
func (l *Log) OK() {
	if l == nil || !l.down.Load() {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return
	}
	l.log.Info(l.what+" available again", "dependency", l.what, "failures", l.cur.total,
		"down_ms", now.Sub(l.cur.since).Milliseconds())
	l.cur = nil
	l.down.Store(false)
}

// Down reports whether an outage is under way.
func (l *Log) Down() bool { return l != nil && l.down.Load() }

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
