package password

import (
	"context"
	"errors"
	"testing"
)

// FuzzVerify feeds arbitrary passwords and encoded hashes to Verify. A hash
// is either refused with ErrMalformedHash or parsed with bounded parameters;
// Verify never panics. Parsed hashes that are cheap to compute are verified
// too; the others are only parsed, to keep the fuzzer fast.
func FuzzVerify(f *testing.F) {
	h, err := NewHasher(Config{})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("correct horse", encoded)
	f.Add("password", "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$Bo1ismRVk2qm6+YAYLCmWHDb+j3fjUH3")
	for _, v := range legacyVectors {
		f.Add(v.password, v.encoded)
	}
	for _, m := range malformedHashes {
		f.Add("password", m.encoded)
	}

	f.Fuzz(func(t *testing.T, password, encoded string) {
		stored, err := parseHash(encoded)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parseHash error %v does not wrap ErrMalformedHash", err)
			}
			ok, rehash, err := h.Verify(ctx, password, encoded)
			if ok || rehash || !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("Verify(unparsable hash) = %v, %v, %v", ok, rehash, err)
			}
			return
		}
		checkBounds(t, stored)
		if !cheap(stored) {
			return
		}
		ok, rehash, err := h.Verify(ctx, password, encoded)
		switch {
		case len(password) > MaxBytes:
			if ok || !errors.Is(err, ErrTooLong) {
				t.Fatalf("Verify(%d-byte password) = %v, %v, %v; want ErrTooLong", len(password), ok, rehash, err)
			}
		case err != nil:
			t.Fatalf("Verify(parsed hash) error: %v", err)
		case rehash && !ok:
			t.Fatal("Verify: rehash without a match")
		}
	})
}

// checkBounds fails t if s carries a cost parameter beyond the bounds.
func checkBounds(t *testing.T, s storedHash) {
	t.Helper()
	switch s := s.(type) {
	case *argon2idHash:
		p := s.params
		if p.Memory > maxArgon2Memory || p.Time < 1 || p.Time > maxArgon2Time ||
			p.Threads < 1 || p.Threads > maxArgon2Threads || p.Memory < 8*uint32(p.Threads) {
			t.Fatalf("parsed argon2id parameters out of bounds: %+v", p)
		}
		again, err := parseArgon2id(s.String())
		if err != nil || again.params != p {
			t.Fatalf("re-encoded argon2id hash does not parse back: %v", err)
		}
	case bcryptHash:
		if c := bcryptCost(s); c < 4 || c > maxBcryptCost {
			t.Fatalf("parsed bcrypt cost %d out of bounds", c)
		}
	case *pbkdf2Hash:
		if s.iterations < 1 || s.iterations > maxPBKDF2Iterations || len(s.salt) > maxPBKDF2SaltLen {
			t.Fatalf("parsed PBKDF2 parameters out of bounds: %d iterations, %d-byte salt", s.iterations, len(s.salt))
		}
	default:
		t.Fatalf("unexpected parsed hash %T", s)
	}
}

// cheap reports whether verifying s takes at most a few milliseconds.
func cheap(s storedHash) bool {
	switch s := s.(type) {
	case *argon2idHash:
		return uint64(s.params.Memory)*uint64(s.params.Time) <= 4096
	case bcryptHash:
		return bcryptCost(s) <= 5
	case *pbkdf2Hash:
		return s.iterations <= 5000
	}
	return false
}

// bcryptCost returns the cost of a parsed bcrypt hash.
func bcryptCost(s bcryptHash) int {
	return int(s[4]-'0')*10 + int(s[5]-'0')
}
