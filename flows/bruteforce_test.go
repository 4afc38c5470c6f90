package flows_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// outcome names an answer of the sign-in form, for comparing scripts.
func (e *webEnv) outcome(got response) string {
	for _, m := range []struct{ id, name string }{
		{"signin.failed", "failed"}, {"signin.wait_one", "wait 1s"}, {"signin.locked_one", "locked 1min"},
	} {
		if strings.Contains(got.body, e.message("en", m.id, nil)) {
			return fmt.Sprintf("%d %s", got.status, m.name)
		}
	}
	for _, n := range []int{2, 3, 4, 5, 7, 8, 16, 32, 60} {
		if strings.Contains(got.body, e.message("en", "signin.wait", map[string]string{"seconds": fmt.Sprint(n)})) {
			return fmt.Sprintf("%d wait %ds", got.status, n)
		}
	}
	for n := 2; n <= 15; n++ {
		if strings.Contains(got.body, e.message("en", "signin.locked", map[string]string{"minutes": fmt.Sprint(n)})) {
			return fmt.Sprintf("%d locked %dmin", got.status, n)
		}
	}
	if got.status == http.StatusSeeOther {
		return "303 signed in"
	}
	return fmt.Sprintf("%d ?", got.status)
}

// lockScript drives the progressive delay to the lock and past it, with
// wrong passwords, and returns every answer.
func (e *webEnv) lockScript(t *testing.T, email string) []string {
	t.Helper()
	b := e.browser(t)
	var answers []string
	try := func(pw string) { answers = append(answers, e.outcome(b.signIn("opera", email, pw, ""))) }
	for range 5 {
		try("wrong guess") // free
	}
	try(goodPassword) // at once: refused unchecked, even the right password
	e.clock.Advance(time.Second)
	try("wrong guess") // checked: 6 failures
	try("wrong guess") // too soon: 2 s now
	for failures := 6; failures < 20; failures++ {
		e.clock.Advance(min(time.Duration(1<<(failures-5))*time.Second, time.Minute))
		try("wrong guess") // the 20th locks
	}
	try("wrong guess") // locked: every attempt refused
	e.clock.Advance(14 * time.Minute)
	try(goodPassword) // still locked, one minute left
	e.clock.Advance(time.Minute)
	return answers
}

// Five failures pass freely; then each attempt waits, doubling to a minute;
// twenty lock for fifteen minutes; the lock lifts itself. An unknown email
// goes through exactly the same, with the same writes.
func TestProgressiveDelayAndLock(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		ann := e.customer(t, e.opera, "ann@example.org")
		known := e.lockScript(t, "ann@example.org")
		want := []string{"400 failed", "400 failed", "400 failed", "400 failed", "400 failed",
			"429 wait 1s", "400 failed", "429 wait 2s"}
		for range 13 {
			want = append(want, "400 failed")
		}
		want = append(want, "429 locked 15min", "429 locked 15min", "429 locked 1min")
		if strings.Join(known, ", ") != strings.Join(want, ", ") {
			t.Fatalf("answers\n got %v\nwant %v", known, want)
		}
		got, _ := e.store.In(e.opera.ID).GetAccount(e.ctx, ann.ID)
		if got.FailedSignIns != 20 || got.LockedUntil == nil {
			t.Errorf("account mirror: %d failures, locked until %v", got.FailedSignIns, got.LockedUntil)
		}
		if n := len(e.auditActions(t, e.opera, ann.ID, "sign_in_failed")); n != 20 {
			t.Errorf("%d sign_in_failed events", n)
		}
		if n := len(e.auditActions(t, e.opera, ann.ID, "lockout")); n != 1 {
			t.Errorf("%d lockout events", n)
		}
		if e.metrics.get("lockout") != 1 || e.metrics.get("sign_in:throttled") != 2 || e.metrics.get("sign_in:locked") != 2 {
			t.Errorf("metrics %v", e.metrics.counts)
		}
		// The lock lifted itself: the right password signs in.
		if ok := e.outcome(e.browser(t).signIn("opera", "ann@example.org", goodPassword, "")); ok != "303 signed in" {
			t.Errorf("after the lock: %s", ok)
		}

		before := len(e.auditActions(t, e.opera, "", ""))
		unknown := e.lockScript(t, "nobody@example.org")
		if strings.Join(unknown, ", ") != strings.Join(known, ", ") {
			t.Errorf("an unknown email is treated differently:\n%v\n%v", unknown, known)
		}
		// The same writes as a known email's (so that their cost tells
		// nothing), recorded under no account.
		var unknownEvents []string
		for _, ev := range e.auditActions(t, e.opera, "", "") {
			if ev.AccountID == "" {
				unknownEvents = append(unknownEvents, ev.Action)
			}
		}
		if len(unknownEvents) != 21 || len(e.auditActions(t, e.opera, "", "")) != before+21 {
			t.Errorf("an unknown email wrote %d audit events under no account (%v), want the 21 of a known one",
				len(unknownEvents), unknownEvents)
		}
		// After the lock a further failure locks again at once.
		b := e.browser(t)
		if got := e.outcome(b.signIn("opera", "nobody@example.org", "wrong guess", "")); got != "429 locked 15min" {
			t.Errorf("failure after the lock: %s", got)
		}
	})
}

// Accounts.Unlock lifts the lock and forgets the failures at once.
func TestUnlockLiftsSignInLock(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Lockout.FreeFailures, s.Lockout.LockAfter = 3, 3 })
		ann := e.customer(t, e.opera, "Ann@Example.org")
		b := e.browser(t)
		for range 3 {
			b.signIn("opera", "ann@example.org", "wrong guess", "")
		}
		if got := e.outcome(b.signIn("opera", "ann@example.org", goodPassword, "")); got != "429 locked 15min" {
			t.Fatalf("not locked: %s", got)
		}
		must(t, e.accounts.Unlock(e.ctx, e.opera, ann.ID, flows.ActorCLI))
		if got := e.outcome(b.signIn("opera", "ANN@example.org", goodPassword, "")); got != "303 signed in" {
			t.Errorf("after unlock: %s", got)
		}
	})
}

// An address past AddressFailures is slowed down, never refused: 100
// failures with random emails from one address (everyone behind a proxy
// shares it), then the right password of a real account from that address
// signs in; a wrong password from it is answered as throttled, and each
// email's attempts from it wait from the first failure on.
func TestAddressLimitNeverRefusesRightPassword(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		if got := e.opera.Settings.Lockout.AddressFailures; got != 100 {
			t.Fatalf("default address limit %d, want 100", got)
		}
		// The same with a lower limit, so that the test hashes 20 wrong
		// passwords rather than 100.
		const limit = 20
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Lockout.AddressFailures = limit })
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		for i := range limit {
			if got := e.outcome(b.signIn("opera", fmt.Sprintf("guess%d@example.org", i), "wrong guess", "")); got != "400 failed" {
				t.Fatalf("failure %d: %s", i, got)
			}
		}
		if got := e.outcome(b.signIn("opera", "ann@example.org", goodPassword, "")); got != "303 signed in" {
			t.Errorf("the right password from an address past its limit: %s, want signed in", got)
		}
		// Wrong passwords from the address are throttled: no free
		// failures, each email waits from its first failure on.
		other := e.browser(t)
		for _, want := range []string{"429 wait 2s", "429 wait 2s"} {
			if got := e.outcome(other.signIn("opera", "nobody@example.org", "wrong guess", "")); got != want {
				t.Errorf("a wrong password from the address: %s, want %s", got, want)
			}
		}
		e.clock.Advance(2 * time.Second)
		if got := e.outcome(other.signIn("opera", "nobody@example.org", "wrong guess", "")); got != "429 wait 4s" {
			t.Errorf("the next wrong password after the wait: %s, want 429 wait 4s", got)
		}
		if got := e.outcome(other.signIn("opera", "ann@example.org", goodPassword, "")); got != "303 signed in" {
			t.Errorf("the right password again: %s", got)
		}
		if n := e.metrics.get("sign_in:failure"); n != limit+2 {
			t.Errorf("%d failures checked, want %d (the attempt made too soon is not checked)", n, limit+2)
		}
		// The address window ends: failures are free again.
		e.clock.Advance(15 * time.Minute)
		if got := e.outcome(other.signIn("opera", "someone@example.org", "wrong guess", "")); got != "400 failed" {
			t.Errorf("after the address window: %s", got)
		}
	})
}

// Attempts sent together after the free failures are let through one per
// delay, across concurrent requests.
func TestConcurrentAttemptsShareTheDelay(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Lockout.FreeFailures = 1 })
		b := e.browser(t)
		b.signIn("opera", "ann@example.org", "wrong guess", "")
		e.clock.Advance(time.Second)
		form := url.Values{"email": {"ann@example.org"}, "password": {"wrong guess"}}
		answers := make(chan string, 4)
		for range 4 {
			b := e.browser(t)
			go func() {
				got, err := b.try(http.MethodPost, "/institutions/opera/login", form, nil)
				if err != nil {
					answers <- err.Error()
					return
				}
				answers <- e.outcome(got)
			}()
		}
		checked := 0
		for range 4 {
			if a := <-answers; a == "400 failed" {
				checked++
			} else if !strings.HasPrefix(a, "429 wait") {
				t.Errorf("simultaneous attempt: %s", a)
			}
		}
		if checked != 1 {
			t.Errorf("%d of 4 simultaneous attempts were checked, want 1", checked)
		}
	})
}

// A successful sign-in clears the failures before it: the next mistakes are
// free again.
func TestSuccessClearsFailures(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		try := func(pw string) string { return e.outcome(b.signIn("opera", "ann@example.org", pw, "")) }
		for range 4 {
			if got := try("wrong guess"); got != "200 failed" && !strings.HasSuffix(got, " failed") {
				t.Fatalf("a free failure answered %q", got)
			}
		}
		if got := try(goodPassword); got != "303 signed in" {
			t.Fatalf("the right password after 4 failures: %q", got)
		}
		var answers []string
		for range 5 {
			answers = append(answers, try("wrong guess"))
		}
		for i, got := range answers {
			if !strings.HasSuffix(got, " failed") {
				t.Errorf("failure %d after a success answered %q, want a free failure (answers %v)", i+1, got, answers)
			}
		}
	})
}

// burst sends n sign-ins at once with password pw and returns their
// statuses.
func (e *webEnv) burst(t *testing.T, n int, email, pw string) []int {
	t.Helper()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := e.browser(t).try(http.MethodPost, "/institutions/opera/login",
				url.Values{"email": {email}, "password": {pw}}, nil)
			if err != nil {
				t.Error(err)
			}
			statuses[i] = got.status
		}()
	}
	wg.Wait()
	return statuses
}

// A burst of concurrent wrong passwords gets no more checks than the free
// quota and one per delay: every attempt is reserved before its password is
// checked (25 at once, free quota 5: 6 checked, the rest told to wait).
func TestBruteForceBurstIsReservedBeforeChecking(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		statuses := e.burst(t, 25, "ann@example.org", "wrong password")
		checked := e.metrics.get("sign_in:failure")
		if checked > e.opera.Settings.Lockout.FreeFailures+1 {
			t.Errorf("%d of 25 concurrent wrong passwords were checked, want at most %d (statuses %v)",
				checked, e.opera.Settings.Lockout.FreeFailures+1, statuses)
		}
		if refused := e.metrics.get("sign_in:throttled"); checked+refused != 25 {
			t.Errorf("%d checked and %d refused of 25", checked, refused)
		}
	})
}

// Bursts until the lock: it is recorded once (the account's mirror, one
// audit event, one metric), and then not even the right password signs in.
func TestBruteForceLockRecordedOnce(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Lockout.LockAfter = 8 })
		ann := e.customer(t, e.opera, "ann@example.org")
		for range 12 {
			e.burst(t, 8, "ann@example.org", "wrong password")
			e.clock.Advance(61 * time.Second)
		}
		if n := e.metrics.get("lockout"); n != 1 {
			t.Errorf("the lock was counted %d times", n)
		}
		if n := strings.Count(e.logs.String(), `"level":"WARN","msg":"theft signal","signal":"lockout"`); n != 1 {
			t.Errorf("the lock was logged as a theft signal %d times, want once:\n%s", n, e.logs.String())
		}
		events, err := e.store.In(e.opera.ID).ListAudit(e.ctx, storage.AuditFilter{AccountID: ann.ID, Action: "lockout"})
		if err != nil || len(events) != 1 {
			t.Errorf("%d lockout audit events, want 1: %v", len(events), err)
		}
		if a, _ := e.store.In(e.opera.ID).GetAccount(e.ctx, ann.ID); a.LockedUntil == nil {
			t.Error("the account does not show the lock")
		}
		for _, status := range e.burst(t, 3, "ann@example.org", goodPassword) {
			if status != http.StatusTooManyRequests {
				t.Errorf("the right password during the lock: %d", status)
			}
		}
	})
}

// A failed sign-in costs the database the same statements whether or not
// the email has an account (the statement count is public in /metrics).
func TestFailedSignInSameStatementsForUnknownEmails(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		cost := func(email string) uint64 {
			before := e.store.Statements()
			if got := e.browser(t).signIn("opera", email, "wrong password", ""); got.status != http.StatusBadRequest {
				t.Fatalf("%s: %d", email, got.status)
			}
			return e.store.Statements() - before
		}
		for i := range 3 {
			known, unknown := cost("ann@example.org"), cost(fmt.Sprintf("nobody%d@example.org", i))
			if known != unknown {
				t.Errorf("failure %d: %d statements for a known email, %d for an unknown one", i+1, known, unknown)
			}
		}
	})
}
