package password

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingSleeper records the pads a Hasher asks for, without sleeping.
type recordingSleeper struct {
	mu    sync.Mutex
	pads  []time.Duration
	sleep bool // sleep for real too
}

func (r *recordingSleeper) Sleep(ctx context.Context, d time.Duration) {
	r.mu.Lock()
	r.pads = append(r.pads, d)
	r.mu.Unlock()
	if r.sleep {
		sleep(ctx, d)
	}
}

func (r *recordingSleeper) take() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pads
	r.pads = nil
	return p
}

// A wrong password for a legacy hash (or one of weaker argon2id
// parameters) is padded to the time of a current verification; a right
// one, and a wrong one for a current hash, are not.
func TestLegacyFailureIsPadded(t *testing.T) {
	rec := &recordingSleeper{}
	h := newTestHasher(t, Config{Sleep: rec.Sleep})
	ctx := context.Background()
	current, err := h.Hash(ctx, "the real password")
	if err != nil {
		t.Fatal(err)
	}
	weak := newArgon2idHash(Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, make([]byte, 16), "the real password").String()
	legacy := legacySHA256("the real password")
	want := time.Duration(h.current.Load())
	if want <= 0 {
		t.Fatal("hashing measured nothing")
	}
	for _, tc := range []struct {
		name, password, encoded string
		padded                  bool
	}{
		{"legacy, wrong", "a wrong password", legacy, true},
		{"weak argon2id, wrong", "a wrong password", weak, true},
		{"legacy, right", "the real password", legacy, false},
		{"current, wrong", "a wrong password", current, false},
	} {
		if _, _, err := h.Verify(ctx, tc.password, tc.encoded); err != nil {
			t.Fatal(err)
		}
		pads := rec.take()
		if !tc.padded {
			if len(pads) != 0 {
				t.Errorf("%s: padded %v", tc.name, pads)
			}
			continue
		}
		// The legacy check takes microseconds: the pad is nearly all of a
		// current verification's time.
		if want := time.Duration(h.current.Load()); len(pads) != 1 || pads[0] > want || pads[0] < want/2 {
			t.Errorf("%s: pads %v, want one of nearly %v", tc.name, pads, want)
		}
	}
}

// Before any current computation was measured, a legacy failure runs one.
func TestLegacyFailurePaddedBeforeMeasuring(t *testing.T) {
	rec := &recordingSleeper{}
	h := newTestHasher(t, Config{Sleep: rec.Sleep})
	legacy := legacySHA256("the real password")
	if _, _, err := h.Verify(context.Background(), "a wrong password", legacy); err != nil {
		t.Fatal(err)
	}
	if h.current.Load() == 0 || len(rec.take()) != 0 {
		t.Errorf("no current computation ran in place of the pad (measured %v)", time.Duration(h.current.Load()))
	}
}

// Measured, with generous bounds: a wrong password for a legacy hash takes
// at least 0.8 times as long as one for a current hash.
func TestLegacyFailureTiming(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	current, err := h.Hash(ctx, "the real password")
	if err != nil {
		t.Fatal(err)
	}
	legacy := legacySHA256("the real password")
	var cs, ls []time.Duration
	for range 7 {
		cs = append(cs, measure(t, func() error { _, _, err := h.Verify(ctx, "a wrong password", current); return err }))
		ls = append(ls, measure(t, func() error { _, _, err := h.Verify(ctx, "a wrong password", legacy); return err }))
	}
	slices.Sort(cs)
	slices.Sort(ls)
	if c, l := cs[0], ls[len(ls)/2]; float64(l) < 0.8*float64(c) {
		t.Errorf("legacy failure median %v, current failure fastest %v: below 0.8", l, c)
	}
	t.Logf("current %v, legacy %v", cs, ls)
}

// legacySHA256 is a passlib PBKDF2-SHA256 hash of password with one
// iteration: it verifies in microseconds.
func legacySHA256(password string) string {
	salt := []byte("sixteen byte slt")
	ab64 := func(b []byte) string { return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".") }
	return "$pbkdf2-sha256$1$" + ab64(salt) + "$" + ab64(referencePBKDF2(sha256.New, password, salt, 1, sha256.Size))
}
