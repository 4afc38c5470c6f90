// Package seal encrypts small secrets at rest (signing keys, TOTP seeds)
// under keys derived from the master secret.
//
// A sealed value is 1 version byte (1), a 12-byte random nonce, then the
// AES-256-GCM ciphertext and tag. The version byte and the caller's
// associated data are authenticated with the ciphertext, so a sealed value
// bound to one record (its associated data names the record) cannot be
// moved to another.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// MinMasterLen is the shortest master secret New accepts, in bytes.
const MinMasterLen = 32

const (
	version   = 1
	nonceLen  = 12
	tagLen    = 16
	headerLen = 1 + nonceLen
)

// ErrOpen is returned by Open for any value it cannot open: a wrong key,
// tampering, other associated data, truncation or an unknown version. The
// causes are deliberately not told apart.
var ErrOpen = errors.New("seal: cannot open sealed value")

// Sealer seals and opens values for one purpose. It is safe for concurrent
// use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer whose key is Derive(master, "seal/"+purpose, 32).
// master must be at least MinMasterLen bytes.
func New(master []byte, purpose string) (*Sealer, error) {
	if len(master) < MinMasterLen {
		return nil, fmt.Errorf("seal: master secret of %d bytes, want at least %d", len(master), MinMasterLen)
	}
	if purpose == "" {
		return nil, errors.New("seal: empty purpose")
	}
	block, err := aes.NewCipher(Derive(master, "seal/"+purpose, 32))
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to associatedData, with a fresh random
// nonce: sealing the same value twice gives different results.
func (s *Sealer) Seal(plaintext, associatedData []byte) []byte {
	out := make([]byte, headerLen, headerLen+len(plaintext)+tagLen)
	out[0] = version
	_, _ = rand.Read(out[1:headerLen]) // crypto/rand.Read never fails (Go 1.24+)
	return s.aead.Seal(out, out[1:headerLen], plaintext, authenticated(out[0], associatedData))
}

// Open decrypts a value made by Seal with the same key and associated data.
// Anything else gives ErrOpen, never a panic.
func (s *Sealer) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) < headerLen+tagLen || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := s.aead.Open(nil, sealed[1:headerLen], sealed[headerLen:], authenticated(sealed[0], associatedData))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// authenticated is what GCM authenticates besides the ciphertext: the version
// byte, then the caller's associated data.
func authenticated(v byte, associatedData []byte) []byte {
	ad := make([]byte, 0, 1+len(associatedData))
	return append(append(ad, v), associatedData...)
}
