package password

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestDefaultParams(t *testing.T) {
	want := Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if got := DefaultParams(); got != want {
		t.Fatalf("DefaultParams() = %+v, want %+v", got, want)
	}
	if err := want.validate(); err != nil {
		t.Fatalf("DefaultParams().validate() = %v", err)
	}
}

func TestNewHasherParams(t *testing.T) {
	def := DefaultParams()
	with := func(change func(*Params)) Params {
		p := def
		change(&p)
		return p
	}
	tests := []struct {
		name   string
		params Params
		ok     bool
	}{
		{"default", def, true},
		{"zero means default", Params{}, true},
		{"OWASP 46 MiB t=1", with(func(p *Params) { p.Memory, p.Time = 47104, 1 }), true},
		{"OWASP 7 MiB t=5", with(func(p *Params) { p.Memory, p.Time = 7168, 5 }), true},
		{"stronger", with(func(p *Params) { p.Memory, p.Time, p.Threads = 65536, 3, 4 }), true},
		{"memory below minimum", with(func(p *Params) { p.Memory = 19455 }), false},
		{"time below minimum", with(func(p *Params) { p.Time = 1 }), false},
		{"7 MiB t=4", with(func(p *Params) { p.Memory, p.Time = 7168, 4 }), false},
		{"zero time", with(func(p *Params) { p.Time = 0 }), false},
		{"zero threads", with(func(p *Params) { p.Threads = 0 }), false},
		{"too many threads", with(func(p *Params) { p.Threads = 65 }), false},
		{"memory above 1 GiB", with(func(p *Params) { p.Memory = 1<<20 + 1 }), false},
		{"time above 100", with(func(p *Params) { p.Time = 101 }), false},
		{"short salt", with(func(p *Params) { p.SaltLen = 15 }), false},
		{"long salt", with(func(p *Params) { p.SaltLen = 1025 }), false},
		{"short key", with(func(p *Params) { p.KeyLen = 15 }), false},
		{"long key", with(func(p *Params) { p.KeyLen = 1025 }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHasher(Config{Params: tt.params})
			if tt.ok && (err != nil || h == nil) {
				t.Fatalf("NewHasher(%+v) = %v, %v; want a Hasher", tt.params, h, err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("NewHasher(%+v) succeeded; want an error", tt.params)
			}
		})
	}
}

func TestHashEncoding(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)
	m := phc.FindStringSubmatch(encoded)
	if m == nil {
		t.Fatalf("Hash = %q, not a PHC argon2id string with the default parameters", encoded)
	}

	// Recompute the key from the encoded salt, independently of the parser.
	salt, err := base64.RawStdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	want := base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte("correct horse"), salt, 2, 19456, 1, 32))
	if m[2] != want {
		t.Errorf("encoded key %s, want %s", m[2], want)
	}

	again, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if again == encoded {
		t.Error("two hashes of the same password are equal: the salt is not random")
	}
}

// TestVerifyArgon2idReferenceVector verifies a key produced by the reference
// argon2 command line (phc-winner-argon2), as recorded in the test suite of
// golang.org/x/crypto/argon2: argon2id, password "password", salt "somesalt",
// t=2, m=64 KiB, p=1, 24-byte key.
func TestVerifyArgon2idReferenceVector(t *testing.T) {
	key, err := hex.DecodeString("068d62b26455936aa6ebe60060b0a65870dbfa3ddf8d41f7")
	if err != nil {
		t.Fatal(err)
	}
	encoded := "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$" + base64.RawStdEncoding.EncodeToString(key)

	h := newTestHasher(t, Config{})
	ok, rehash, err := h.Verify(context.Background(), "password", encoded)
	if err != nil || !ok || !rehash {
		t.Errorf("Verify(reference vector) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	ok, _, err = h.Verify(context.Background(), "Password", encoded)
	if err != nil || ok {
		t.Errorf("Verify(wrong password, reference vector) = %v, %v; want false, nil", ok, err)
	}
}
