// Package storagetest is the storage conformance suite: one set of tests that
// every storage.Store backend runs, so that the contract written in the doc
// comments of package storage holds the same way on every database.
//
// A backend calls Run from a test, with a function that opens a fresh,
// migrated, empty store on the clock it is given:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T, now func() time.Time) storage.Store {
//			return openFreshStore(t, now)
//		})
//	}
//
// Every test gets its own store and its own fake Clock, so tests never see
// each other's records and time moves only when a test advances it.
package storagetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
)

// Clock is a fake clock for the suite (the process edge): safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads t until advanced.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// start is where every test's clock begins: microseconds set, so that
// normalisation is visible, and in the future, so that no record made by the
// suite looks old to a real clock.
var start = time.Date(2031, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// Opener returns a fresh, migrated, empty store whose clock is now.
type Opener func(t *testing.T, now func() time.Time) storage.Store

// env is what one conformance test works with: its own store and clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	store storage.Store
	clock *Clock
}

// test is one conformance test.
type test struct {
	name string
	run  func(e *env)
}

// group is the tests of one aggregate.
type group struct {
	name  string
	tests []test
}

// Run runs every conformance test as subtests. open returns a fresh,
// migrated, EMPTY store whose clock is now; it is called once per test.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) storage.Store) {
	t.Helper()
	groups := []group{
		{"Institution", institutionTests()},
		{"Account", accountTests()},
		{"AccountSecurity", accountSecurityTests()},
		{"AccountExternalRef", externalRefTests()},
		{"Client", clientTests()},
		{"ActionToken", actionTokenTests()},
		{"Session", sessionTests()},
		{"OAuth2", oauth2Tests()},
		{"Key", keyTests()},
		{"Outbox", outboxTests()},
		{"Audit", auditTests()},
		{"Throttle", throttleTests()},
		{"Consent", consentTests()},
		{"Text", textTests()},
		{"Template", templateTests()},
		{"Asset", assetTests()},
		{"Janitor", janitorTests()},
		{"PendingAccounts", pendingTests()},
		{"Tx", txTests()},
		{"Isolation", isolationTests()},
		{"Concurrency", concurrencyTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(newEnv(t, open))
				})
			}
		})
	}
}

func newEnv(t *testing.T, open Opener) *env {
	t.Helper()
	clock := NewClock(start)
	s := open(t, clock.Now)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	return &env{t: t, ctx: t.Context(), store: s, clock: clock}
}

// now is the clock's time as a backend stores it: UTC, microseconds.
func (e *env) now() time.Time { return norm(e.clock.Now()) }

// norm is a time as every backend stores it: UTC with microsecond precision.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// normPtr is norm for optional times.
func normPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := norm(*t)
	return &n
}

// ptr returns a pointer to t.
func ptr(t time.Time) *time.Time { return &t }
