package storagetest

import (
	"errors"
	"time"

	"github.com/usher-idp/usher/storage"
)

func accountSecurityTests() []test {
	return []test{
		{"SignInFailuresCountAndReset", testSignInFailures},
		{"LockAndUnlock", testLockAccount},
		{"CountersMissingAccount", testCountersNotFound},
		{"AdvanceTOTPStep", testAdvanceTOTPStep},
		{"RecoveryCodes", testRecoveryCodes},
		{"ReplaceRecoveryCodes", testReplaceRecoveryCodes},
		{"RecoveryCodesPerAccount", testRecoveryCodesPerAccount},
	}
}

func testSignInFailures(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	for want := 1; want <= 3; want++ {
		e.clock.Advance(time.Second)
		n, err := s.RecordSignInFailure(e.ctx, a.ID)
		mustCount(e.t, "record failure", n, err, want)
	}
	got := e.getAccount(s, a.ID)
	if got.FailedSignIns != 3 || got.LastFailedSignIn == nil || !got.LastFailedSignIn.Equal(e.now()) {
		e.t.Fatalf("after 3 failures: want count 3 and last failure at %s, got %d at %v", fmtTime(e.now()), got.FailedSignIns, got.LastFailedSignIn)
	}
	must(e.t, "lock", s.LockAccount(e.ctx, a.ID, ptr(e.clock.Now().Add(time.Hour))))
	must(e.t, "reset failures", s.ResetSignInFailures(e.ctx, a.ID))
	got = e.getAccount(s, a.ID)
	if got.FailedSignIns != 0 || got.LastFailedSignIn != nil || got.LockedUntil != nil {
		e.t.Fatalf("after reset: want no failures and no lock, got %d, last %v, locked until %v", got.FailedSignIns, got.LastFailedSignIn, got.LockedUntil)
	}
	n, err := s.RecordSignInFailure(e.ctx, a.ID)
	mustCount(e.t, "first failure after reset", n, err, 1)
}

func testLockAccount(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	until := odd(e.clock.Now().Add(15 * time.Minute))
	must(e.t, "lock", s.LockAccount(e.ctx, a.ID, &until))
	got := e.getAccount(s, a.ID)
	if got.LockedUntil == nil || !got.LockedUntil.Equal(norm(until)) {
		e.t.Fatalf("after lock: want locked until %s, got %v", fmtTime(norm(until)), got.LockedUntil)
	}
	mustNormalised(e.t, "locked account", got)
	must(e.t, "unlock", s.LockAccount(e.ctx, a.ID, nil))
	if got := e.getAccount(s, a.ID); got.LockedUntil != nil {
		e.t.Fatalf("after unlock: want no lock, got %v", got.LockedUntil)
	}
}

func testCountersNotFound(e *env) {
	s, _ := e.scope("opera")
	_, err := s.RecordSignInFailure(e.ctx, "missing")
	checkErr(e.t, "record failure", err, storage.ErrNotFound)
	checkErr(e.t, "reset failures", s.ResetSignInFailures(e.ctx, "missing"), storage.ErrNotFound)
	checkErr(e.t, "lock", s.LockAccount(e.ctx, "missing", ptr(e.clock.Now())), storage.ErrNotFound)
	checkErr(e.t, "advance TOTP step", s.AdvanceTOTPStep(e.ctx, "missing", 1), storage.ErrNotFound)
	checkErr(e.t, "replace recovery codes", s.ReplaceRecoveryCodes(e.ctx, "missing", [][]byte{hash("c")}), storage.ErrNotFound)
	checkErr(e.t, "use recovery code", s.UseRecoveryCode(e.ctx, "missing", hash("c")), storage.ErrNotFound)
	n, err := s.CountRecoveryCodes(e.ctx, "missing")
	if (err == nil && n != 0) || (err != nil && !errors.Is(err, storage.ErrNotFound)) {
		e.t.Errorf("count recovery codes of a missing account: want 0 or ErrNotFound, got %d, %v", n, err)
	}
}

func testAdvanceTOTPStep(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Operator, "op@x.org")
	steps := []struct {
		step int64
		want error
	}{
		{100, nil},
		{100, storage.ErrAlreadyUsed}, // the same code replayed
		{99, storage.ErrAlreadyUsed},  // an earlier code
		{101, nil},
		{105, nil},
		{104, storage.ErrAlreadyUsed},
	}
	for _, st := range steps {
		err := s.AdvanceTOTPStep(e.ctx, a.ID, st.step)
		if st.want == nil {
			must(e.t, "advance to a later step", err)
		} else {
			mustErr(e.t, "advance to a step not later", err, st.want)
		}
	}
	if got := e.getAccount(s, a.ID); got.TOTPLastStep != 105 {
		e.t.Fatalf("want last step 105, got %d", got.TOTPLastStep)
	}
}

func testRecoveryCodes(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Operator, "op@x.org")
	n, err := s.CountRecoveryCodes(e.ctx, a.ID)
	mustCount(e.t, "count before any", n, err, 0)
	must(e.t, "replace", s.ReplaceRecoveryCodes(e.ctx, a.ID, [][]byte{hash("c1"), hash("c2"), hash("c3")}))
	n, err = s.CountRecoveryCodes(e.ctx, a.ID)
	mustCount(e.t, "count after storing 3", n, err, 3)
	must(e.t, "use c2", s.UseRecoveryCode(e.ctx, a.ID, hash("c2")))
	n, err = s.CountRecoveryCodes(e.ctx, a.ID)
	mustCount(e.t, "count after using one", n, err, 2)
	checkErr(e.t, "use c2 again", s.UseRecoveryCode(e.ctx, a.ID, hash("c2")), storage.ErrAlreadyUsed)
	checkErr(e.t, "use an unknown code", s.UseRecoveryCode(e.ctx, a.ID, hash("nope")), storage.ErrNotFound)
	must(e.t, "use c1", s.UseRecoveryCode(e.ctx, a.ID, hash("c1")))
	must(e.t, "use c3", s.UseRecoveryCode(e.ctx, a.ID, hash("c3")))
	n, err = s.CountRecoveryCodes(e.ctx, a.ID)
	mustCount(e.t, "count after using all", n, err, 0)
}

func testReplaceRecoveryCodes(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Operator, "op@x.org")
	must(e.t, "store old codes", s.ReplaceRecoveryCodes(e.ctx, a.ID, [][]byte{hash("old1"), hash("old2")}))
	must(e.t, "use old1", s.UseRecoveryCode(e.ctx, a.ID, hash("old1")))
	must(e.t, "replace", s.ReplaceRecoveryCodes(e.ctx, a.ID, [][]byte{hash("new1"), hash("new2"), hash("old1")}))
	n, err := s.CountRecoveryCodes(e.ctx, a.ID)
	mustCount(e.t, "count after replace (a reissued hash is unused again)", n, err, 3)
	checkErr(e.t, "use a discarded code", s.UseRecoveryCode(e.ctx, a.ID, hash("old2")), storage.ErrNotFound)
	must(e.t, "use a reissued code", s.UseRecoveryCode(e.ctx, a.ID, hash("old1")))
	must(e.t, "use a new code", s.UseRecoveryCode(e.ctx, a.ID, hash("new1")))
	must(e.t, "remove all", s.ReplaceRecoveryCodes(e.ctx, a.ID, nil))
	n, err = s.CountRecoveryCodes(e.ctx, a.ID)
	mustCount(e.t, "count after removing all", n, err, 0)
	checkErr(e.t, "use a removed code", s.UseRecoveryCode(e.ctx, a.ID, hash("new2")), storage.ErrNotFound)
}

func testRecoveryCodesPerAccount(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Operator, "a@x.org")
	b := e.account(s, storage.Operator, "b@x.org")
	must(e.t, "codes of a", s.ReplaceRecoveryCodes(e.ctx, a.ID, [][]byte{hash("shared"), hash("a-only")}))
	must(e.t, "codes of b", s.ReplaceRecoveryCodes(e.ctx, b.ID, [][]byte{hash("shared")}))
	checkErr(e.t, "b uses a's code", s.UseRecoveryCode(e.ctx, b.ID, hash("a-only")), storage.ErrNotFound)
	must(e.t, "a uses the shared hash", s.UseRecoveryCode(e.ctx, a.ID, hash("shared")))
	must(e.t, "b uses the shared hash", s.UseRecoveryCode(e.ctx, b.ID, hash("shared")))
	must(e.t, "replace b's codes", s.ReplaceRecoveryCodes(e.ctx, b.ID, nil))
	n, err := s.CountRecoveryCodes(e.ctx, a.ID)
	mustCount(e.t, "a's codes after b's were replaced", n, err, 1)
}
