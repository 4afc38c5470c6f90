package flows

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// verdict is what checking a sign-in attempt decided: the account when it
// may go on, else the message, field and status to answer with.
type verdict struct {
	account    *storage.Account
	status     int
	field      string
	message    string
	args       map[string]string
	retryAfter time.Duration
}

// authenticate checks an attempt: the brute-force guard first, then the
// password (the same work for an unknown email, an account without password
// and a wrong password), and only after the right password the account's
// status. Nothing it answers before the password is right depends on
// whether the account exists.
func (h *SignIn) authenticate(r *http.Request, a attempt) (verdict, error) {
	ctx, s := r.Context(), h.In(a.inst.ID)
	g := &guard{s: s, policy: a.inst.Settings.Lockout, now: h.Site.now(), keys: keysFor(h.Site.ThrottleKey, a.inst, a.kind, a.email),
		address: addressKey(a.address), device: h.deviceThrottleKey(r, a)}
	ref, err := g.check(ctx)
	if err != nil {
		return verdict{}, err
	}
	if ref != nil {
		return h.refused(ref), nil
	}
	acct, ok, rehash, err := h.verifyPassword(ctx, s, a)
	if errors.Is(err, password.ErrBusy) {
		return verdict{status: http.StatusServiceUnavailable, message: "password.busy", retryAfter: time.Second}, nil
	}
	if err != nil {
		return verdict{}, err
	}
	if !ok {
		return h.failed(r, s, g, a, acct)
	}
	if !g.exempt {
		if ref, err := g.lockedNow(ctx); err != nil || ref != nil { // a lock began while the password was checked
			if err != nil {
				return verdict{}, err
			}
			return h.refused(ref), nil
		}
	}
	cleared, err := g.succeed(ctx)
	if err != nil {
		return verdict{}, err
	}
	if cleared {
		if err := clearFailures(ctx, s, acct); err != nil {
			return verdict{}, err
		}
	}
	if v, refused := checkStatus(a, acct, h.Site.now()); refused {
		h.metrics().SignIn(OutcomeRefused)
		h.Site.log().InfoContext(ctx, "sign-in refused", "institution", a.inst.Slug, "account", acct.ID, "reason", v.message)
		return v, nil
	}
	if rehash {
		h.rehash(ctx, s, acct, a.password)
	}
	return verdict{account: acct}, nil
}

// verifyPassword finds the account and checks the password. An unknown
// email (the store finds none for one with a NUL byte or invalid UTF-8,
// without asking the database), or an account without password, costs a
// dummy verification, so that it takes as long as a wrong password.
func (h *SignIn) verifyPassword(ctx context.Context, s SignInStore, a attempt) (acct *storage.Account, ok, rehash bool, err error) {
	acct, err = s.GetAccountByEmail(ctx, a.kind, a.email)
	if errors.Is(err, storage.ErrNotFound) {
		acct, err = nil, nil
	}
	if err != nil {
		return nil, false, false, fmt.Errorf("sign in: %w", err)
	}
	if acct == nil || acct.PasswordHash == "" {
		return acct, false, false, h.dummyVerify(ctx, a.password)
	}
	ok, rehash, err = h.Hasher.Verify(ctx, a.password, acct.PasswordHash)
	switch {
	case errors.Is(err, password.ErrTooLong):
		return acct, false, false, nil // no stored password is that long
	case errors.Is(err, password.ErrMalformedHash):
		h.Site.log().ErrorContext(ctx, "stored password hash unreadable", "account", acct.ID, "err", err)
		return acct, false, false, h.dummyVerify(ctx, a.password)
	case err != nil:
		return acct, false, false, fmt.Errorf("sign in: %w", err)
	}
	return acct, ok, rehash, nil
}

// dummyVerify spends the time of a verification.
func (h *SignIn) dummyVerify(ctx context.Context, pw string) error {
	err := h.Hasher.VerifyDummy(ctx, pw)
	if errors.Is(err, password.ErrTooLong) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	return nil
}

// refused is the verdict of an attempt the guard refused before checking it.
func (h *SignIn) refused(ref *refusal) verdict {
	if ref.locked {
		h.metrics().SignIn(OutcomeLocked)
		return lockedVerdict(ref.wait)
	}
	h.metrics().SignIn(OutcomeThrottled)
	return waitVerdict(ref.wait)
}

// waitVerdict asks to wait before the next attempt.
func waitVerdict(wait time.Duration) verdict {
	seconds := max(1, int(math.Ceil(wait.Seconds())))
	v := verdict{status: http.StatusTooManyRequests, field: "password", message: "signin.wait",
		args: map[string]string{"seconds": strconv.Itoa(seconds)}, retryAfter: time.Duration(seconds) * time.Second}
	if seconds == 1 {
		v.message = "signin.wait_one"
	}
	return v
}

// lockedVerdict refuses every attempt for wait.
func lockedVerdict(wait time.Duration) verdict {
	minutes := max(1, int(math.Ceil(wait.Minutes())))
	v := verdict{status: http.StatusTooManyRequests, field: "password", message: "signin.locked",
		args: map[string]string{"minutes": strconv.Itoa(minutes)}, retryAfter: max(wait, time.Second)}
	if minutes == 1 {
		v.message = "signin.locked_one"
	}
	return v
}

// failed counts a wrong password (or unknown email) and answers with the
// one message both get; the failure that locks answers with the lock, and
// a failure from an address past its limit with the wait before the
// email's next attempt. An attempt a device cookie exempted is told only
// that it failed: the lock is for the other browsers.
//
// Every write of a failure is one transaction, for a known account as for
// an unknown email: both pay for one commit, so the time does not tell them
// apart.
func (h *SignIn) failed(r *http.Request, s SignInStore, g *guard, a attempt, acct *storage.Account) (verdict, error) {
	var lock lockOutcome
	var failures int
	err := h.Tx.InTx(r.Context(), func(ctx context.Context) error {
		n, l, err := g.fail(ctx)
		if failures, lock = n, l; err != nil {
			return err
		}
		return h.recordFailure(ctx, r, s, a, acct, failures, lock == lockStarted)
	})
	if err != nil {
		return verdict{}, err
	}
	h.metrics().SignIn(OutcomeFailure)
	if lock == lockStarted {
		h.metrics().Lockout()
		h.Site.log().WarnContext(r.Context(), "theft signal", "signal", "lockout", "institution", a.inst.Slug,
			"address", a.address, "client_id", a.rt.clientID())
	}
	locked := lock != notLocked
	h.Site.log().InfoContext(r.Context(), "sign-in failed", "institution", a.inst.Slug, "address", a.address, "locked", locked,
		"device", g.exempt, "address_limited", g.overAddress)
	switch {
	case g.exempt:
	case locked:
		return lockedVerdict(a.inst.Settings.Lockout.LockDuration.Std()), nil
	case g.overAddress:
		return waitVerdict(g.delay(failures)), nil
	}
	return verdict{status: http.StatusBadRequest, field: "password", message: "signin.failed"}, nil
}

// recordFailure mirrors a failure on the account (the counters `usher
// account list` shows) and writes its audit events. An unknown email (acct
// nil) gets the same statements, which change no account and are recorded
// under no account: the failure of an unknown email costs the database what
// a known one does, so neither its time nor a count of statements tells
// them apart.
func (h *SignIn) recordFailure(ctx context.Context, r *http.Request, s SignInStore, a attempt, acct *storage.Account, failures int, locked bool) error {
	id := ""
	if acct != nil {
		id = acct.ID
	}
	if _, err := s.RecordSignInFailure(ctx, id); err != nil && (acct != nil || !errors.Is(err, storage.ErrNotFound)) {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	details := storage.Details{"failures": strconv.Itoa(failures), "client_id": a.rt.clientID()}
	if err := audit(ctx, s, r, id, "sign_in_failed", details); err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	if !locked {
		return nil
	}
	until := h.Site.now().Add(a.inst.Settings.Lockout.LockDuration.Std())
	if err := s.LockAccount(ctx, id, &until); err != nil && (acct != nil || !errors.Is(err, storage.ErrNotFound)) {
		return fmt.Errorf("lock account: %w", err)
	}
	return audit(ctx, s, r, id, "lockout", storage.Details{"until": until.Format(time.RFC3339)})
}

// clearFailures resets the account's mirror of failures after the right
// password, when there is something to reset.
func clearFailures(ctx context.Context, s SignInStore, acct *storage.Account) error {
	if acct.FailedSignIns == 0 && acct.LockedUntil == nil {
		return nil
	}
	if err := s.ResetSignInFailures(ctx, acct.ID); err != nil {
		return fmt.Errorf("reset sign-in failures: %w", err)
	}
	return nil
}

// checkStatus refuses an account that gave the right password but may not
// sign in: disabled, or its temporary password expired. (One not activated
// yet goes on to the page that sends its activation email again.)
func checkStatus(a attempt, acct *storage.Account, now time.Time) (verdict, bool) {
	inst := map[string]string{"institution": templates.FrameFor(a.inst, "").Brand.Name}
	v := verdict{status: http.StatusForbidden, args: inst}
	switch {
	case acct.Status == storage.Disabled:
		v.message = "signin.disabled"
	case acct.PasswordExpiresAt != nil && !now.Before(*acct.PasswordExpiresAt):
		v.message = "signin.password_expired"
	default:
		return verdict{}, false
	}
	return v, true
}

// rehash replaces a hash of an older scheme or cost by a current one. It
// is done on the side: a failure is logged, the sign-in goes on.
func (h *SignIn) rehash(ctx context.Context, s SignInStore, acct *storage.Account, pw string) {
	hash, err := h.Hasher.Hash(ctx, pw)
	if err == nil {
		old := acct.PasswordHash
		acct.PasswordHash = hash
		if err = s.UpdateAccount(ctx, acct); err != nil {
			acct.PasswordHash = old
		}
	}
	if err != nil {
		h.Site.log().WarnContext(ctx, "rehash password", "account", acct.ID, "err", err)
	}
}

// countFailure counts a wrong second-factor code, or a wrong current
// password on the account page, against the account like a wrong password (the lock of its email, the account's
// counters and audit trail), and reports whether it locked the account.
func (h *SignIn) countFailure(r *http.Request, inst *storage.Institution, acct *storage.Account, rt returnTo) (bool, error) {
	a := attempt{inst: inst, rt: rt, kind: acct.Kind, email: acct.Email, address: clientIP(r)}
	g := &guard{s: h.In(inst.ID), policy: inst.Settings.Lockout, now: h.Site.now(), keys: keysFor(h.Site.ThrottleKey, inst, acct.Kind, acct.Email),
		address: addressKey(a.address)}
	v, err := h.failed(r, h.In(inst.ID), g, a, acct)
	return v.status == http.StatusTooManyRequests, err
}
