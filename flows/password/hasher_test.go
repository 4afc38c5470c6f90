package password

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestHasher returns a Hasher configured by cfg or fails the test.
func newTestHasher(t testing.TB, cfg Config) *Hasher {
	t.Helper()
	h, err := NewHasher(cfg)
	if err != nil {
		t.Fatalf("NewHasher(%+v): %v", cfg, err)
	}
	return h
}

func TestNewHasherDefaults(t *testing.T) {
	h := newTestHasher(t, Config{})
	if h.params != DefaultParams() {
		t.Errorf("params = %+v, want DefaultParams()", h.params)
	}
	if got, want := cap(h.slots), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("slots = %d, want GOMAXPROCS %d", got, want)
	}
	if h.maxWait != 2*time.Second {
		t.Errorf("maxWait = %v, want 2s", h.maxWait)
	}
}

func TestNewHasherRefusesNegativeLimits(t *testing.T) {
	for _, cfg := range []Config{{MaxConcurrent: -1}, {MaxWait: -time.Second}} {
		if _, err := NewHasher(cfg); err == nil {
			t.Errorf("NewHasher(%+v) succeeded; want an error", cfg)
		}
	}
}

func TestHashVerify(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	for _, password := range []string{"correct horse battery staple", "pässwörd ☃ 密码", "", strings.Repeat("x", MaxBytes)} {
		encoded, err := h.Hash(ctx, password)
		if err != nil {
			t.Fatalf("Hash(%.20q): %v", password, err)
		}
		ok, rehash, err := h.Verify(ctx, password, encoded)
		if err != nil || !ok || rehash {
			t.Errorf("Verify(%.20q, own hash) = %v, %v, %v; want true, false, nil", password, ok, rehash, err)
		}
		wrong := password + "x"
		if len(wrong) > MaxBytes {
			wrong = "y" + password[1:]
		}
		ok, rehash, err = h.Verify(ctx, wrong, encoded)
		if err != nil || ok || rehash {
			t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}
}

func TestVerifyRehashWhenParamsChange(t *testing.T) {
	ctx := context.Background()
	weak := newTestHasher(t, Config{})
	stronger := DefaultParams()
	stronger.Time = 3
	strong := newTestHasher(t, Config{Params: stronger})

	encoded, err := weak.Hash(ctx, "s3cret-Password")
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := strong.Verify(ctx, "s3cret-Password", encoded)
	if err != nil || !ok || !rehash {
		t.Errorf("stronger hasher: Verify(weaker hash) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	ok, rehash, err = strong.Verify(ctx, "wrong", encoded)
	if err != nil || ok || rehash {
		t.Errorf("stronger hasher: Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}

	fresh, err := strong.Hash(ctx, "s3cret-Password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fresh, "$m=19456,t=3,p=1$") {
		t.Errorf("Hash = %q, want the stronger parameters", fresh)
	}
	ok, rehash, err = strong.Verify(ctx, "s3cret-Password", fresh)
	if err != nil || !ok || rehash {
		t.Errorf("stronger hasher: Verify(own hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestTooLong(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	long := strings.Repeat("a", MaxBytes+1)
	encoded, err := h.Hash(ctx, "short")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Hash(ctx, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(1025 bytes) error = %v, want ErrTooLong", err)
	}
	if ok, _, err := h.Verify(ctx, long, encoded); ok || !errors.Is(err, ErrTooLong) {
		t.Errorf("Verify(1025 bytes) = %v, %v; want false, ErrTooLong", ok, err)
	}
	if err := h.VerifyDummy(ctx, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("VerifyDummy(1025 bytes) error = %v, want ErrTooLong", err)
	}
}

// TestBusy holds the only slot with a slow hash and checks that every
// operation started meanwhile gives up with ErrBusy after MaxWait.
func TestBusy(t *testing.T) {
	slow := DefaultParams()
	slow.Time = 30 // about fifteen times the default: hundreds of milliseconds
	h := newTestHasher(t, Config{Params: slow, MaxConcurrent: 1, MaxWait: time.Millisecond})
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}

	first := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "first")
		first <- err
	}()
	waitForSlotsTaken(t, h, 1)

	start := time.Now()
	if _, err := h.Hash(ctx, "second"); !errors.Is(err, ErrBusy) {
		t.Errorf("concurrent Hash error = %v, want ErrBusy", err)
	}
	if ok, _, err := h.Verify(ctx, "first", encoded); ok || !errors.Is(err, ErrBusy) {
		t.Errorf("concurrent Verify = %v, %v; want false, ErrBusy", ok, err)
	}
	if ok, _, err := h.Verify(ctx, "allmine", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"); ok || !errors.Is(err, ErrBusy) {
		t.Errorf("concurrent Verify(bcrypt) = %v, %v; want false, ErrBusy", ok, err)
	}
	if err := h.VerifyDummy(ctx, "second"); !errors.Is(err, ErrBusy) {
		t.Errorf("concurrent VerifyDummy error = %v, want ErrBusy", err)
	}
	if len(h.slots) != 1 {
		t.Fatal("the first hash finished before the concurrent calls: the test proved nothing")
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("ErrBusy took %v with MaxWait 1ms", elapsed)
	}
	if err := <-first; err != nil {
		t.Errorf("first Hash: %v", err)
	}
	if len(h.slots) != 0 {
		t.Errorf("%d slots still taken after every operation returned", len(h.slots))
	}
}

// TestWaitForSlot runs more hashes than slots with a generous MaxWait: all
// succeed, never more than MaxConcurrent at once.
func TestWaitForSlot(t *testing.T) {
	const workers, slots = 4, 2
	h := newTestHasher(t, Config{MaxConcurrent: slots, MaxWait: time.Minute})
	ctx := context.Background()

	var peak int
	var mu sync.Mutex
	done := make(chan struct{})
	go func() { // samples the number of slots taken until the hashes end
		for {
			select {
			case <-done:
				return
			default:
			}
			mu.Lock()
			peak = max(peak, len(h.slots))
			mu.Unlock()
			runtime.Gosched()
		}
	}()

	errs := make(chan error, workers)
	for i := range workers {
		go func() {
			encoded, err := h.Hash(ctx, "password "+string(rune('a'+i)))
			if err == nil && !strings.HasPrefix(encoded, "$argon2id$") {
				err = errors.New("not an argon2id hash: " + encoded)
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Errorf("Hash: %v", err)
		}
	}
	close(done)
	mu.Lock()
	defer mu.Unlock()
	if peak > slots {
		t.Errorf("%d hashes ran at once, want at most %d", peak, slots)
	}
}

func TestContextCanceledWhileWaiting(t *testing.T) {
	h := newTestHasher(t, Config{MaxConcurrent: 1, MaxWait: time.Minute})
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.release()

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if _, err := h.Hash(ctx, "password"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash while waiting, context canceled: error = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Hash returned %v after the cancellation", elapsed)
	}

	ctx, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if err := h.VerifyDummy(ctx, "password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("VerifyDummy while waiting, deadline passed: error = %v, want context.DeadlineExceeded", err)
	}
}

func TestContextCanceledBefore(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "password"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash(canceled context) error = %v, want context.Canceled", err)
	}
	if len(h.slots) != 0 {
		t.Errorf("%d slots taken after a canceled Hash", len(h.slots))
	}
}

// TestVerifyDummyTiming compares medians: an unknown email must cost about
// what a wrong password costs.
func TestVerifyDummyTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "the real password")
	if err != nil {
		t.Fatal(err)
	}
	verify := func() error { _, _, err := h.Verify(ctx, "a wrong password", encoded); return err }
	dummy := func() error { return h.VerifyDummy(ctx, "a wrong password") }

	// Alternate the two, so that drift (heap growth, other load) hits both.
	const runs = 9
	var vs, ds []time.Duration
	for i := range runs + 1 {
		v, d := measure(t, verify), measure(t, dummy)
		if i > 0 { // the first round warms up the allocator
			vs, ds = append(vs, v), append(ds, d)
		}
	}
	slices.Sort(vs)
	slices.Sort(ds)
	v, d := vs[runs/2], ds[runs/2]
	if ratio := float64(d) / float64(v); ratio < 0.5 || ratio > 2 {
		t.Errorf("VerifyDummy median %v, Verify median %v: ratio %.2f outside [0.5, 2]", d, v, ratio)
	}
	t.Logf("median Verify %v, VerifyDummy %v", v, d)
}

// measure returns how long f takes, failing t if f fails.
func measure(t *testing.T, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	if err := f(); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// waitForSlotsTaken waits until n slots of h are taken.
func waitForSlotsTaken(t *testing.T, h *Hasher, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.slots) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d slots taken after 10s, want %d", len(h.slots), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkHash(b *testing.B) {
	h := newTestHasher(b, Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := newTestHasher(b, Config{})
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", encoded); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// Busy is told when hashing starts and when the last operation ends.
func TestHasherBusy(t *testing.T) {
	var mu sync.Mutex
	var calls []bool
	h, err := NewHasher(Config{MaxConcurrent: 2, Busy: func(busy bool) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, busy)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	h.release()
	if !slices.Equal(calls, []bool{true}) {
		t.Fatalf("one of two operations ended: calls %v, want [true]", calls)
	}
	h.release()
	if _, err := h.Hash(ctx, "a password of some length"); err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, true, false}; !slices.Equal(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
}
