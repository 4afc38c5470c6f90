package password

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// MaxBytes is the length, in bytes, of the longest password that is hashed
// or verified. Longer ones are refused before any work, as a guard against
// denial of service.
const MaxBytes = 1024

// defaultMaxWait is how long an excess request waits for a hashing slot when
// Config.MaxWait is zero.
const defaultMaxWait = 2 * time.Second

// Config configures a Hasher.
type Config struct {
	Params        Params        // zero value means DefaultParams()
	MaxConcurrent int           // hashes running at once; 0 means runtime.GOMAXPROCS(0)
	MaxWait       time.Duration // how long an excess request waits for a slot; 0 means 2s
	// Busy, when set, is called with true when an operation starts while none
	// runs, and with false when the last running one ends; calls are
	// serialised, so the last one tells the current state. Every operation
	// allocates Params.Memory afresh (the argon2 package offers no reuse): a
	// process can tune its memory management while it hashes.
	Busy func(busy bool)
	// Sleep pads a failed verification of a hash that is not current (a
	// legacy scheme, weaker argon2id parameters) to the time of a current
	// one; nil: a timer that ends early with ctx. Tests count its calls.
	Sleep func(ctx context.Context, d time.Duration)
}

// A Hasher hashes passwords with argon2id and verifies them against hashes of
// every supported scheme. At most Config.MaxConcurrent hashing operations run
// at once, each holding up to Params.Memory KiB; the others wait for a slot
// for at most Config.MaxWait, then fail with ErrBusy.
//
// A Hasher is safe for concurrent use. It logs nothing.
type Hasher struct {
	params  Params
	slots   chan struct{} // a token per running operation
	maxWait time.Duration
	busy    func(bool)
	mu      sync.Mutex // serialises running and the calls of busy
	running int
	sleep   func(ctx context.Context, d time.Duration)
	// current is how long a computation with params takes (nanoseconds,
	// a moving average of the latest ones; 0 before the first).
	current atomic.Int64
}

// NewHasher returns a Hasher configured by cfg. It refuses argon2id
// parameters below the OWASP minimum or above the bounds Verify accepts.
func NewHasher(cfg Config) (*Hasher, error) {
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams()
	}
	if err := cfg.Params.validate(); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxConcurrent < 0:
		return nil, fmt.Errorf("password: negative MaxConcurrent %d", cfg.MaxConcurrent)
	case cfg.MaxConcurrent == 0:
		cfg.MaxConcurrent = runtime.GOMAXPROCS(0)
	}
	switch {
	case cfg.MaxWait < 0:
		return nil, fmt.Errorf("password: negative MaxWait %v", cfg.MaxWait)
	case cfg.MaxWait == 0:
		cfg.MaxWait = defaultMaxWait
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &Hasher{
		params:  cfg.Params,
		slots:   make(chan struct{}, cfg.MaxConcurrent),
		maxWait: cfg.MaxWait,
		busy:    cfg.Busy,
		sleep:   cfg.Sleep,
	}, nil
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Hash returns the argon2id PHC string of password, with a fresh random salt.
// It returns ErrTooLong for a password longer than MaxBytes, ErrBusy when no
// hashing slot frees up within MaxWait, and ctx.Err() when ctx ends while it
// waits for one.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxBytes {
		return "", ErrTooLong
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	start := time.Now()
	hash := newArgon2idHash(h.params, salt, password)
	h.measured(time.Since(start))
	return hash.String(), nil
}

// Verify checks password against an encoded hash of any supported scheme:
// argon2id, bcrypt, passlib's PBKDF2 and Django's PBKDF2. ok is false for a
// wrong password; rehash is true when ok and the hash is not argon2id with
// h's current parameters (a legacy scheme, or other argon2id parameters):
// the caller then stores Hash(password) on this sign-in.
//
// A wrong password for a hash that is not current takes at least the time
// of a current verification (pad): timing does not tell which accounts
// still have an old hash.
//
// An encoded hash that cannot be parsed, or whose cost parameters are out of
// bounds, yields an error wrapping ErrMalformedHash. Verify returns the other
// errors of Hash in the same cases.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if len(password) > MaxBytes {
		return false, false, ErrTooLong
	}
	stored, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	start, current := time.Now(), h.isCurrent(stored)
	ok, err = stored.matches(password)
	took := time.Since(start)
	if current {
		h.measured(took)
	}
	if err != nil {
		return false, false, err
	}
	if !ok {
		if !current {
			h.pad(ctx, password, took)
		}
		return false, false, nil
	}
	return true, !current, nil
}

// pad makes a failed verification of a hash that is not current, which
// took took, last as long as one of a current hash, so that the time of a
// wrong password does not tell that the account has an old hash (such
// accounts exist until they sign in). Before any current computation was
// measured it runs one (and measures it); after, it sleeps the difference,
// holding the slot as the computation would. A legacy verification slower
// than a current one is left as it is.
func (h *Hasher) pad(ctx context.Context, password string, took time.Duration) {
	want := time.Duration(h.current.Load())
	if want == 0 {
		_ = h.runDummy(password) // argon2id's matches never fails
		return
	}
	if took < want {
		h.sleep(ctx, want-took)
	}
}

// measured counts the time of a computation with h's parameters in the
// moving average of current (a weight of 1/8 to the newest).
func (h *Hasher) measured(d time.Duration) {
	old := h.current.Load()
	if old == 0 {
		h.current.Store(int64(d))
		return
	}
	h.current.Store(old + (int64(d)-old)/8)
}

// dummy is an argon2id hash with h's parameters that no password matches
// in practice (an all-zero key and salt).
func (h *Hasher) dummy() *argon2idHash {
	return &argon2idHash{params: h.params, salt: make([]byte, h.params.SaltLen), key: make([]byte, h.params.KeyLen)}
}

// VerifyDummy spends the same time as a Verify of an argon2id hash with h's
// parameters and returns nothing useful. It is used for unknown emails, so
// that a wrong email and a wrong password take the same time. Like Verify, it
// refuses a password longer than MaxBytes at once.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	if len(password) > MaxBytes {
		return ErrTooLong
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	return h.runDummy(password)
}

// runDummy verifies password against the dummy hash of h's parameters, in
// the slot the caller holds, and counts its time in current.
func (h *Hasher) runDummy(password string) error {
	start := time.Now()
	_, err := h.dummy().matches(password)
	h.measured(time.Since(start))
	return err
}

// isCurrent reports whether s is an argon2id hash with h's parameters.
func (h *Hasher) isCurrent(s storedHash) bool {
	a, ok := s.(*argon2idHash)
	return ok && a.params == h.params
}

// acquire takes a hashing slot, waiting at most h.maxWait for one. It
// returns ErrBusy when the wait runs out and ctx.Err() when ctx ends first.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		h.track(+1)
		return nil
	default:
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		h.track(+1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return ErrBusy
	}
}

// release returns a slot taken by acquire.
func (h *Hasher) release() {
	h.track(-1)
	<-h.slots
}

// track counts running operations and tells Busy when hashing starts or
// stops.
func (h *Hasher) track(delta int) {
	if h.busy == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running += delta
	switch {
	case delta > 0 && h.running == 1:
		h.busy(true)
	case delta < 0 && h.running == 0:
		h.busy(false)
	}
}
