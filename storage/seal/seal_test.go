package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/usher-idp/usher/storage/seal"
)

var (
	master = bytes.Repeat([]byte("m"), 32)
	other  = bytes.Repeat([]byte("o"), 32)
	ad     = []byte("inst-1\x00kid-1")
)

func sealer(t testing.TB, master []byte, purpose string) *seal.Sealer {
	t.Helper()
	s, err := seal.New(master, purpose)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustFail(t *testing.T, what string, s *seal.Sealer, sealed, ad []byte) {
	t.Helper()
	plain, err := s.Open(sealed, ad)
	if !errors.Is(err, seal.ErrOpen) || plain != nil {
		t.Errorf("%s: Open = %q, %v; want nil, ErrOpen", what, plain, err)
	}
}

func TestRoundTrip(t *testing.T) {
	s := sealer(t, master, "signing-key")
	for _, plain := range [][]byte{[]byte("a secret signing key"), {}, bytes.Repeat([]byte{0}, 4096)} {
		sealed := s.Seal(plain, ad)
		if len(sealed) != 1+12+len(plain)+16 || sealed[0] != 1 {
			t.Fatalf("sealed %d bytes into %d (version %d), want 1+12+%d+16", len(plain), len(sealed), sealed[0], len(plain))
		}
		if len(plain) > 8 && bytes.Contains(sealed, plain[:8]) {
			t.Errorf("sealed value contains the plaintext")
		}
		got, err := s.Open(sealed, ad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, %v; want %q", got, err, plain)
		}
	}
}

func TestSealIsRandomised(t *testing.T) {
	s := sealer(t, master, "signing-key")
	a, b := s.Seal([]byte("same"), ad), s.Seal([]byte("same"), ad)
	if bytes.Equal(a, b) || bytes.Equal(a[1:13], b[1:13]) {
		t.Error("sealing the same value twice gave the same nonce")
	}
}

func TestEveryTamperedByteFails(t *testing.T) {
	s := sealer(t, master, "signing-key")
	sealed := s.Seal([]byte("a secret signing key"), ad)
	for i := range sealed {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			c := bytes.Clone(sealed)
			c[i] ^= flip
			mustFail(t, "byte flipped", s, c, ad)
		}
	}
	mustFail(t, "byte appended", s, append(bytes.Clone(sealed), 0), ad)
}

func TestOtherAssociatedDataFails(t *testing.T) {
	s := sealer(t, master, "signing-key")
	sealed := s.Seal([]byte("secret"), ad)
	for _, other := range [][]byte{nil, []byte("inst-1\x00kid-2"), []byte("inst-2\x00kid-1"), append(bytes.Clone(ad), 0)} {
		mustFail(t, "other associated data "+string(other), s, sealed, other)
	}
	empty := s.Seal([]byte("secret"), nil)
	mustFail(t, "associated data on a value sealed without", s, empty, []byte{0})
}

func TestOtherKeyFails(t *testing.T) {
	sealed := sealer(t, master, "signing-key").Seal([]byte("secret"), ad)
	mustFail(t, "other master", sealer(t, other, "signing-key"), sealed, ad)
	mustFail(t, "other purpose", sealer(t, master, "totp"), sealed, ad)
	longer := append(bytes.Clone(master), 'x')
	mustFail(t, "longer master", sealer(t, longer, "signing-key"), sealed, ad)
}

func TestTruncationsFail(t *testing.T) {
	s := sealer(t, master, "signing-key")
	for _, plain := range [][]byte{{}, []byte("secret")} {
		sealed := s.Seal(plain, ad)
		for n := 0; n < len(sealed); n++ {
			mustFail(t, "truncated", s, sealed[:n], ad)
			mustFail(t, "head cut", s, sealed[len(sealed)-n:], ad)
		}
	}
	mustFail(t, "nil", s, nil, ad)
}

func TestUnknownVersionFails(t *testing.T) {
	s := sealer(t, master, "signing-key")
	sealed := s.Seal([]byte("secret"), ad)
	for _, v := range []byte{0, 2, 255} {
		c := bytes.Clone(sealed)
		c[0] = v
		mustFail(t, "version", s, c, ad)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, m := range [][]byte{nil, make([]byte, 31)} {
		if _, err := seal.New(m, "signing-key"); err == nil {
			t.Errorf("New with a %d-byte master: no error", len(m))
		}
	}
	if _, err := seal.New(master, ""); err == nil {
		t.Error("New with an empty purpose: no error")
	}
}
