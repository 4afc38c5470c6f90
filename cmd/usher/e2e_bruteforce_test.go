package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// A burst of wrong passwords for one email, sent at once and half to each
// of two replicas, gets no more password checks than the free quota allows
// (every attempt is reserved in the shared database before its check);
// the lock is recorded once; and once it holds neither replica lets the
// right password in, while the account's row shows the lock. (Issue 13:
// before, 60 such attempts were all checked and the lock recorded 24-41
// times.)
func TestE2EBruteForceBurstOnTwoReplicas(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		s1 := startUsher(t, db)
		s2 := startReplica(t, db, s1)
		ann := s1.account(s1.inst, storage.Customer, "ann@example.org")
		ctx := context.Background()
		inst, err := s1.a.store.GetInstitution(ctx, s1.inst.ID)
		if err != nil {
			t.Fatal(err)
		}
		const free = 5
		inst.Settings.Lockout.FreeFailures, inst.Settings.Lockout.LockAfter = free, free
		if err := s1.a.store.UpdateInstitution(ctx, inst); err != nil {
			t.Fatal(err)
		}

		const n = 60
		began := time.Now()
		statuses := parallel(n, func(i int) int {
			s := s1
			if i%2 == 1 {
				s = s2
			}
			return postSignIn(t, s, "ann@example.org", "wrong password "+strconv.Itoa(i))
		})
		// After the free quota, one attempt per delay is checked; the first
		// delays are a second long, so a burst the loaded machine spreads
		// over more than a second may see one more check per second.
		allowed := free + 1 + int(time.Since(began)/time.Second)
		events := func(action string) int {
			list, err := s1.a.store.In(inst.ID).ListAudit(ctx, storage.AuditFilter{AccountID: ann.ID, Action: action, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		if checked := events("sign_in_failed"); checked > allowed {
			t.Errorf("%d of %d concurrent wrong passwords on two replicas were checked, want at most %d (statuses %v)",
				checked, n, allowed, statuses)
		}
		if locks := events("lockout"); locks != 1 {
			t.Errorf("the lock was recorded %d times, want once", locks)
		}
		if a, err := s1.a.store.In(inst.ID).GetAccount(ctx, ann.ID); err != nil || a.LockedUntil == nil {
			t.Errorf("the account's row does not show the lock: %v", err)
		}
		for i, s := range []*usherServer{s1, s2} {
			if status := postSignIn(t, s, "ann@example.org", testPassword); status != http.StatusTooManyRequests {
				t.Errorf("the right password at replica %d while locked: %d, want 429", i+1, status)
			}
		}
	})
}

// postSignIn posts the sign-in form of u's institution, as a browser
// without cookies would, and returns the status (redirects not followed).
func postSignIn(t *testing.T, u *usherServer, email, password string) int {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(u.endpoint("/login"), "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
	if err != nil {
		t.Error(err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
