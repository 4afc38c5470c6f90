package flows

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/usher-idp/usher/storage"
)

// Brute-force protection of the sign-in form. It is kept in the storage
// throttles, so every replica sees the same counts, and it is keyed by the
// account kind and the SHA-256 of the lower-cased email, whether or not an
// account has that email: an unknown email is throttled and locked exactly
// like a known one, so the protection reveals nothing.
//
// The policy is the institution's Settings.Lockout:
//   - Every attempt is reserved before its password is checked: the
//     reservations key counts attempts atomically, on every replica, so of
//     a burst of concurrent attempts only the first FreeFailures are checked
//     freely. After them each attempt must wait min(2^(failures-FreeFailures)
//     s, 60 s) after the last failure, and one attempt per delay is let
//     through (the attempt key); an attempt made too soon is refused without
//     its password being checked and without counting as a failure.
//   - At LockAfter failures the lock key is hit with a window of
//     LockDuration: while it lasts every attempt is refused, and a right
//     password checked while the lock began is refused too. The lock is
//     recorded (the account's mirror, the audit event, the metric) once, by
//     the failure that started it. The lock lifts itself; the failures stay
//     counted for failureWindow, so after the lock a further failure locks
//     again at once, while the right password (or Accounts.Unlock) clears
//     everything.
//   - A source address (an IPv4 address, an IPv6 /56) with AddressFailures
//     failures in its window of LockDuration is slowed down, never refused:
//     its attempts get no free failures (each email's attempts from it wait
//     from the first failure on), and a wrong password from it is answered
//     as too many attempts; but a right password for an email that is not
//     itself locked signs in. Everyone behind one proxy or NAT shares an
//     address: an address limit that refused would let anyone lock a whole
//     institution out.
//   - An attempt that presents a valid device cookie for its email
//     (devicecookie.go) is exempt from the email's lock and delays; it is
//     throttled on the cookie's own key instead, DeviceAttempts attempts
//     until a right password, after which the cookie is ignored. An
//     attacker cannot keep the owner of an email locked out of the browsers
//     the owner signed in with.
//
// A zero LockAfter or AddressFailures switches that limit off.

// failureWindow is how long an email's failures are remembered after the
// first of them, unless a success or an unlock clears them.
const failureWindow = 12 * time.Hour

// maxDelay caps the wait between attempts after the free failures.
const maxDelay = 60 * time.Second

// signInKeys are the throttle keys of one (kind, email).
type signInKeys struct {
	failures string // failed sign-ins, window failureWindow
	reserved string // attempts reserved before their check, window failureWindow
	lock     string // hit when locked, window LockDuration
	attempt  string // one attempt per delay, window the delay
}

// emailID is the throttle identity of an email of a kind at an
// institution: an HMAC under a key of the master secret (key), so that a
// copy of the throttles cannot be matched against a list of addresses.
// Case and surrounding spaces do not matter.
func emailID(key []byte, inst *storage.Institution, kind storage.AccountKind, email string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(inst.ID + "\x00" + string(kind) + "\x00" + strings.ToLower(strings.TrimSpace(email))))
	return string(kind) + ":" + hex.EncodeToString(m.Sum(nil))
}

// keysFor returns the throttle keys of an email of a kind.
func keysFor(key []byte, inst *storage.Institution, kind storage.AccountKind, email string) signInKeys {
	id := emailID(key, inst, kind, email)
	return signInKeys{failures: "signin:failures:" + id, reserved: "signin:reserved:" + id, lock: "signin:lock:" + id,
		attempt: "signin:attempt:" + id}
}

// addressKey is the throttle key of a source address: the address itself
// for IPv4, its /56 network for IPv6 (a subscriber's allocation is often a
// /56 or a /48: counting /64s would give a /48 holder 65,536 keys; a /56
// gives it 256).
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "signin:address:" + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(56)
		return "signin:address:" + p.String()
	}
	return "signin:address:" + a.String()
}

// resetSignInKeys forgets the failures and the lock of an email.
func resetSignInKeys(ctx context.Context, s throttleResetter, key []byte, inst *storage.Institution, kind storage.AccountKind, email string) error {
	k := keysFor(key, inst, kind, email)
	for _, key := range []string{k.failures, k.reserved, k.lock, k.attempt} {
		if err := s.ResetThrottle(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// throttleResetter forgets throttle keys.
type throttleResetter interface {
	ResetThrottle(ctx context.Context, key string) error
}

// guard applies the policy to one sign-in attempt.
type guard struct {
	s       storage.ThrottleStore
	policy  storage.LockoutPolicy
	now     time.Time
	keys    signInKeys
	address string // the address key
	device  string // the throttle key of the attempt's device cookie, or ""
	// What check saw and did, so that a success resets what holds
	// something.
	failures    int  // failures counted before this attempt
	reserved    bool // this attempt was reserved
	attempted   bool // this attempt took a delay's turn
	exempt      bool // a device cookie exempted this attempt from the email's guard
	overAddress bool // the address is past AddressFailures: no free failures
}

// refusal is why an attempt is refused before its password is checked.
type refusal struct {
	locked bool          // locked (the key or the address); else too soon
	wait   time.Duration // until the next attempt may be made
}

// check refuses an attempt that the policy does not allow now.
func (g *guard) check(ctx context.Context) (*refusal, error) {
	if g.device != "" {
		// Reserved before the check, like every attempt: of a burst with
		// one cookie, only DeviceAttempts are exempt.
		n, err := g.s.HitThrottle(ctx, g.device, failureWindow)
		if err != nil {
			return nil, fmt.Errorf("sign-in guard: %w", err)
		}
		if g.exempt = n <= DeviceAttempts; g.exempt {
			return nil, nil
		}
	}
	lock, err := g.s.GetThrottle(ctx, g.keys.lock)
	if err != nil {
		return nil, fmt.Errorf("sign-in guard: %w", err)
	}
	if lock.Count > 0 {
		return &refusal{locked: true, wait: lock.WindowEnd.Sub(g.now)}, nil
	}
	if g.policy.AddressFailures > 0 {
		addr, err := g.s.GetThrottle(ctx, g.address)
		if err != nil {
			return nil, fmt.Errorf("sign-in guard: %w", err)
		}
		g.overAddress = addr.Count >= g.policy.AddressFailures
	}
	return g.checkDelay(ctx)
}

// free is the number of failures of an email answered without delay: none
// from an address past its limit.
func (g *guard) free() int {
	if g.overAddress {
		return 0
	}
	return g.policy.FreeFailures
}

// checkDelay reserves the attempt, then lets it through within the free
// quota, else refuses it when it comes too soon after the last failure and
// lets one attempt per delay through.
func (g *guard) checkDelay(ctx context.Context) (*refusal, error) {
	reserved, err := g.s.HitThrottle(ctx, g.keys.reserved, failureWindow)
	if err != nil {
		return nil, fmt.Errorf("sign-in guard: %w", err)
	}
	g.reserved = true
	f, err := g.s.GetThrottle(ctx, g.keys.failures)
	if err != nil {
		return nil, fmt.Errorf("sign-in guard: %w", err)
	}
	g.failures = f.Count
	if reserved <= g.free() && f.Count < g.free() {
		return nil, nil
	}
	delay := g.delay(f.Count)
	if next := f.LastHit.Add(delay); g.now.Before(next) {
		return &refusal{wait: next.Sub(g.now)}, nil
	}
	n, err := g.s.HitThrottle(ctx, g.keys.attempt, delay)
	if err != nil {
		return nil, fmt.Errorf("sign-in guard: %w", err)
	}
	g.attempted = true
	if n > 1 { // another attempt took this delay's turn
		return &refusal{wait: delay}, nil
	}
	return nil, nil
}

// delay is the wait after the last of failures failures.
func (g *guard) delay(failures int) time.Duration {
	exp := max(failures-g.free(), 0) // attempts past the free ones still in flight: the first delay
	if exp >= 6 {                    // 2^6 s is past the cap
		return maxDelay
	}
	return min(time.Duration(1<<exp)*time.Second, maxDelay)
}

// lockOutcome is what a failure did to the lock.
type lockOutcome int

const (
	notLocked     lockOutcome = iota
	lockStarted               // this failure locked the email: it records the lock
	alreadyLocked             // the lock was started by a concurrent failure
)

// fail counts a failed attempt and reports the failures counted so far and
// what it did to the lock: of concurrent failures past LockAfter, exactly
// one starts the lock (the first hit of the lock key in its window).
func (g *guard) fail(ctx context.Context) (failures int, lock lockOutcome, err error) {
	failures, err = g.s.HitThrottle(ctx, g.keys.failures, failureWindow)
	if err != nil {
		return 0, notLocked, fmt.Errorf("sign-in guard: %w", err)
	}
	if g.policy.AddressFailures > 0 {
		if _, err := g.s.HitThrottle(ctx, g.address, g.policy.LockDuration.Std()); err != nil {
			return 0, notLocked, fmt.Errorf("sign-in guard: %w", err)
		}
	}
	if g.policy.LockAfter <= 0 || failures < g.policy.LockAfter {
		return failures, notLocked, nil
	}
	n, err := g.s.HitThrottle(ctx, g.keys.lock, g.policy.LockDuration.Std())
	if err != nil {
		return 0, notLocked, fmt.Errorf("sign-in guard: %w", err)
	}
	if n == 1 {
		return failures, lockStarted, nil
	}
	return failures, alreadyLocked, nil
}

// lockedNow reports whether the email is locked: checked again after a
// right password, so that nothing signs in once a lock holds.
func (g *guard) lockedNow(ctx context.Context) (*refusal, error) {
	lock, err := g.s.GetThrottle(ctx, g.keys.lock)
	if err != nil {
		return nil, fmt.Errorf("sign-in guard: %w", err)
	}
	if lock.Count > 0 {
		return &refusal{locked: true, wait: lock.WindowEnd.Sub(g.now)}, nil
	}
	return nil, nil
}

// succeed forgets the email's failures after the right password. The
// address count stays: one known password must not clear an address that
// guesses others. After an attempt a device cookie exempted, it forgets
// the cookie's attempts, and the email's failures only when the email is
// not locked: its owner signing in from a known browser does not free the
// attacker who locked it. It reports whether it forgot the email's
// failures.
func (g *guard) succeed(ctx context.Context) (bool, error) {
	if g.exempt {
		if err := g.s.ResetThrottle(ctx, g.device); err != nil {
			return false, fmt.Errorf("sign-in guard: %w", err)
		}
		lock, err := g.lockedNow(ctx)
		if err != nil || lock != nil {
			return false, err
		}
		g.failures, g.reserved, g.attempted = 1, true, true // the email's keys were not read: reset them all
	}
	var keys []string
	if g.failures > 0 {
		keys = append(keys, g.keys.failures)
	}
	if g.reserved {
		keys = append(keys, g.keys.reserved)
	}
	if g.attempted {
		keys = append(keys, g.keys.attempt)
	}
	// The lock key needs no reset: check refused the attempt if it held
	// anything.
	for _, key := range keys {
		if err := g.s.ResetThrottle(ctx, key); err != nil {
			return false, fmt.Errorf("sign-in guard: %w", err)
		}
	}
	return true, nil
}
