package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/usher-idp/usher/storage"
)

func concurrencyTests() []test {
	return []test{
		{"ConsumeActionTokenTwo", func(e *env) { testRaceConsume(e, 2) }},
		{"ConsumeActionTokenTen", func(e *env) { testRaceConsume(e, 10) }},
		{"DeactivateOAuth2", testRaceDeactivate},
		{"RedeemOAuth2", testRaceRedeem},
		{"UpdateAccountFromOneVersion", testRaceUpdateAccount},
		{"RecordSignInFailure", testRaceSignInFailures},
		{"HitThrottle", testRaceThrottle},
		{"AdvanceTOTPStep", testRaceTOTP},
		{"UseRecoveryCode", testRaceRecoveryCode},
		{"UseJTI", testRaceJTI},
		{"ClaimEmails", testRaceClaim},
		{"CreateAccountSameEmail", testRaceCreateAccount},
		{"CreateActionTokenLeavesOneLink", testRaceCreateActionToken},
		{"ReplaceRecoveryCodesLeavesOneSet", testRaceReplaceRecoveryCodes},
	}
}

// race runs fn in n goroutines released together by a barrier, and returns
// each one's result and error by index. It first warms the store up with n
// concurrent reads, so that a backend with a connection pool has the
// connections open: otherwise the first caller may be done before the last
// has connected, and nothing races.
func race[T any](e *env, n int, fn func(i int) (T, error)) ([]T, []error) {
	e.t.Helper()
	_, warm := together(n, func(int) ([]storage.Institution, error) { return e.store.ListInstitutions(e.ctx) })
	for _, err := range warm {
		must(e.t, "warm up", err)
	}
	return together(n, fn)
}

// together runs fn in n goroutines released together by a barrier.
func together[T any](n int, fn func(i int) (T, error)) ([]T, []error) {
	results, errs := make([]T, n), make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			results[i], errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return results, errs
}

// raceErr is race for functions that return only an error.
func raceErr(e *env, n int, fn func(i int) error) []error {
	e.t.Helper()
	_, errs := race(e, n, func(i int) (struct{}, error) { return struct{}{}, fn(i) })
	return errs
}

// oneWins checks that exactly one call succeeded and every other failed
// with target, and returns the index of the winner.
func (e *env) oneWins(what string, errs []error, target error) int {
	e.t.Helper()
	winner, wins := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			winner, wins = i, wins+1
		case !errors.Is(err, target):
			e.t.Errorf("%s, call %d: want nil or %q, got %v", what, i, target, err)
		}
	}
	if wins != 1 {
		e.t.Fatalf("%s: want exactly 1 of %d concurrent calls to succeed, %d did (errors: %v)", what, len(errs), wins, errs)
	}
	return winner
}

// oneToN checks that counts are exactly 1..n in some order.
func (e *env) oneToN(what string, counts []int, errs []error) {
	e.t.Helper()
	for i, err := range errs {
		must(e.t, fmt.Sprintf("%s, call %d", what, i), err)
	}
	want := make([]int, len(counts))
	for i := range want {
		want[i] = i + 1
	}
	got := slices.Sorted(slices.Values(counts))
	mustEqual(e.t, what+": counts returned, sorted", got, want)
}

func testRaceConsume(e *env, n int) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	e.actionToken(s, a.ID, storage.PurposeReset, "link", time.Hour)
	toks, errs := race(e, n, func(int) (*storage.ActionToken, error) {
		return s.ConsumeActionToken(e.ctx, storage.PurposeReset, hash("link"))
	})
	w := e.oneWins(fmt.Sprintf("%d concurrent consumes", n), errs, storage.ErrAlreadyUsed)
	if toks[w] == nil || toks[w].AccountID != a.ID || toks[w].UsedAt == nil {
		e.t.Fatalf("the winning consume: want the used token of %s, got %+v", a.ID, toks[w])
	}
}

func testRaceDeactivate(e *env) {
	s, _ := e.scope("opera")
	e.createOAuth2(s, e.oauth2Record(storage.KindCode, "code", "req", "sub", time.Hour))
	errs := raceErr(e, 10, func(int) error { return s.DeactivateOAuth2(e.ctx, storage.KindCode, "code") })
	e.oneWins("10 concurrent deactivations", errs, storage.ErrAlreadyUsed)
	if e.getOAuth2(s, storage.KindCode, "code").Active {
		e.t.Fatal("after the deactivations: want the code inactive")
	}
}

// Of concurrent redemptions of one refresh token one wins: its records are
// stored, the others' are not, and the access token issued with it is gone.
func testRaceRedeem(e *env) {
	s, _ := e.scope("opera")
	e.createOAuth2(s, e.oauth2Record(storage.KindAccess, "access", "req", "sub", time.Hour))
	r := e.oauth2Record(storage.KindRefresh, "refresh", "req", "sub", time.Hour)
	r.AccessSignature = "access"
	e.createOAuth2(s, r)
	const n = 10
	errs := raceErr(e, n, func(i int) error {
		rs := []*storage.OAuth2Record{e.oauth2Record(storage.KindAccess, fmt.Sprint("new-", i), "req", "sub", time.Hour)}
		return s.RedeemOAuth2(e.ctx, storage.KindRefresh, "refresh", "access", rs)
	})
	w := e.oneWins(fmt.Sprintf("%d concurrent redemptions", n), errs, storage.ErrAlreadyUsed)
	if e.getOAuth2(s, storage.KindRefresh, "refresh").Active {
		e.t.Fatal("after the redemptions: want the refresh token inactive")
	}
	if _, err := s.GetOAuth2(e.ctx, storage.KindAccess, "access"); !errors.Is(err, storage.ErrNotFound) {
		e.t.Fatalf("after the redemptions: want the access token gone, got %v", err)
	}
	for i := range n {
		_, err := s.GetOAuth2(e.ctx, storage.KindAccess, fmt.Sprint("new-", i))
		if stored := err == nil; stored != (i == w) {
			e.t.Errorf("redemption %d (winner %d): its record stored: %v (%v)", i, w, stored, err)
		}
	}
}

func testRaceUpdateAccount(e *env) {
	s, _ := e.scope("opera")
	read := *e.account(s, storage.Customer, "ann@x.org")
	errs := raceErr(e, 5, func(i int) error {
		a := read
		a.GivenName = fmt.Sprint("writer ", i)
		return s.UpdateAccount(e.ctx, &a)
	})
	w := e.oneWins("5 concurrent updates from one version", errs, storage.ErrConflict)
	got := e.getAccount(s, read.ID)
	if got.GivenName != fmt.Sprint("writer ", w) || got.Version != 2 {
		e.t.Fatalf("after the updates: want the winner's name %q at version 2, got %q at %d", fmt.Sprint("writer ", w), got.GivenName, got.Version)
	}
}

func testRaceSignInFailures(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	counts, errs := race(e, 20, func(int) (int, error) { return s.RecordSignInFailure(e.ctx, a.ID) })
	e.oneToN("20 concurrent failures", counts, errs)
	if got := e.getAccount(s, a.ID); got.FailedSignIns != 20 {
		e.t.Fatalf("after 20 concurrent failures: want 20 counted, got %d", got.FailedSignIns)
	}
}

func testRaceThrottle(e *env) {
	s, _ := e.scope("opera")
	counts, errs := race(e, 20, func(int) (int, error) { return s.HitThrottle(e.ctx, "ip:192.0.2.1", time.Hour) })
	e.oneToN("20 concurrent hits", counts, errs)
	e.throttleCount(s, "ip:192.0.2.1", 20)
}

func testRaceTOTP(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Operator, "op@x.org")
	errs := raceErr(e, 10, func(int) error { return s.AdvanceTOTPStep(e.ctx, a.ID, 777) })
	e.oneWins("10 concurrent uses of one TOTP step", errs, storage.ErrAlreadyUsed)
}

func testRaceRecoveryCode(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Operator, "op@x.org")
	must(e.t, "store codes", s.ReplaceRecoveryCodes(e.ctx, a.ID, [][]byte{hash("c1"), hash("c2")}))
	errs := raceErr(e, 10, func(int) error { return s.UseRecoveryCode(e.ctx, a.ID, hash("c1")) })
	e.oneWins("10 concurrent uses of one recovery code", errs, storage.ErrAlreadyUsed)
	n, err := s.CountRecoveryCodes(e.ctx, a.ID)
	mustCount(e.t, "codes left", n, err, 1)
}

func testRaceJTI(e *env) {
	s, _ := e.scope("opera")
	errs := raceErr(e, 10, func(int) error { return s.UseJTI(e.ctx, "jti", e.clock.Now().Add(time.Hour)) })
	e.oneWins("10 concurrent uses of one JWT ID", errs, storage.ErrAlreadyUsed)
}

func testRaceClaim(e *env) {
	a, b := e.twoScopes()
	scopeOf := map[string]storage.Scoped{}
	var want []string
	for i := range 50 {
		id := e.enqueue(pick(i, a, b), fmt.Sprint("mail ", i)).ID
		want, scopeOf[id] = append(want, id), pick(i, a, b)
	}
	slices.Sort(want)
	claimed, errs := race(e, 2, func(int) ([]string, error) { return e.claimUntilEmpty() })
	for i, err := range errs {
		must(e.t, fmt.Sprint("worker ", i), err)
	}
	got := slices.Sorted(slices.Values(slices.Concat(claimed...)))
	mustEqual(e.t, fmt.Sprintf("emails claimed by two workers (%d and %d)", len(claimed[0]), len(claimed[1])), got, want)
	for _, id := range want {
		if m := e.getEmail(scopeOf[id], id); m.Attempts != 1 {
			e.t.Errorf("email %s: want 1 attempt (claimed once), got %d", id, m.Attempts)
		}
	}
}

// claimUntilEmpty is an outbox worker: it claims batches of 10 until none
// is left, and returns the IDs it claimed.
func (e *env) claimUntilEmpty() ([]string, error) {
	var ids []string
	for range 100 { // a bound, in case claims never run dry
		list, err := e.store.ClaimEmails(e.ctx, 10, time.Hour)
		if err != nil || len(list) == 0 {
			return ids, err
		}
		for _, m := range list {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}

func testRaceCreateAccount(e *env) {
	s, _ := e.scope("opera")
	emails := []string{"Ann@x.org", "ann@X.ORG"}
	errs := raceErr(e, 2, func(i int) error {
		return s.CreateAccount(e.ctx, &storage.Account{Kind: storage.Customer, Email: emails[i], Status: storage.Pending})
	})
	e.oneWins("2 concurrent creates of one email in two cases", errs, storage.ErrDuplicate)
	list, err := s.ListAccounts(e.ctx, storage.AccountFilter{})
	mustCount(e.t, "accounts after the race", len(list), err, 1)
}

// raceRounds is how often the races that need a tight interleaving to go
// wrong are repeated, each time on fresh records: one round can miss the
// interleaving on a busy machine, several rarely all do.
const raceRounds = 3

// testRaceCreateActionToken: "only the newest link works" also when a user
// asks twice at once (a double click): of links created concurrently for one
// account and purpose, exactly one is left usable.
func testRaceCreateActionToken(e *env) {
	s, _ := e.scope("opera")
	for round := range raceRounds {
		a := e.account(s, storage.Customer, fmt.Sprintf("ann%d@x.org", round))
		secret := func(i int) []byte { return hash(fmt.Sprintf("round %d link %d", round, i)) }
		errs := raceErr(e, 10, func(i int) error {
			return s.CreateActionToken(e.ctx, &storage.ActionToken{AccountID: a.ID, Purpose: storage.PurposeReset,
				SecretHash: secret(i), ExpiresAt: e.clock.Now().Add(time.Hour)})
		})
		usable := 0
		for i, err := range errs {
			must(e.t, fmt.Sprint("create link ", i), err)
			_, err := s.GetActionToken(e.ctx, storage.PurposeReset, secret(i))
			if err == nil {
				usable++
			} else if !errors.Is(err, storage.ErrAlreadyUsed) {
				e.t.Errorf("get link %d: want nil or ErrAlreadyUsed, got %v", i, err)
			}
		}
		if usable != 1 {
			e.t.Fatalf("round %d, 10 links created at once for one account: want exactly 1 usable, %d are", round, usable)
		}
	}
}

// testRaceReplaceRecoveryCodes: concurrent enrolments (a double submit) each
// replace the codes; afterwards the account has one set of 10, not several.
func testRaceReplaceRecoveryCodes(e *env) {
	s, _ := e.scope("opera")
	for round := range raceRounds {
		a := e.account(s, storage.Operator, fmt.Sprintf("op%d@x.org", round))
		must(e.t, "store first codes", s.ReplaceRecoveryCodes(e.ctx, a.ID, [][]byte{hash("old")}))
		errs := raceErr(e, 4, func(i int) error {
			var set [][]byte
			for j := range 10 {
				set = append(set, hash(fmt.Sprintf("set %d code %d", i, j)))
			}
			return s.ReplaceRecoveryCodes(e.ctx, a.ID, set)
		})
		for i, err := range errs {
			must(e.t, fmt.Sprint("replace ", i), err)
		}
		n, err := s.CountRecoveryCodes(e.ctx, a.ID)
		mustCount(e.t, fmt.Sprintf("round %d, codes after 4 concurrent replacements of 10", round), n, err, 10)
	}
}
