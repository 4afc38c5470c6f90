// Package keys manages an institution's token signing keys: it creates them,
// rotates them, keeps their private parts sealed with the master secret, and
// serves them to fosite as a jwt.Signer and to relying parties as a JWKS.
//
// Each institution has, per algorithm (RS256 and ES256), one current key that
// signs, one next key that is already published (so relying parties cache it
// before it signs), and the retired keys that are still published until
// every token they signed has expired. A key's ID (kid) is its RFC 7638 JWK
// thumbprint (SHA-256, base64url). The private key is stored sealed with
// associated data institutionID + "\x00" + kid, so it cannot be moved to
// another record.
package keys

import (
	"context"
	"errors"

	"github.com/usher-idp/usher/storage"
)

// Signing algorithms Usher uses.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048; the default
	ES256 = "ES256" // ECDSA P-256 with SHA-256
)

// SealPurpose is the seal.Sealer purpose of signing keys: the sealer passed
// to Ensure, Rotate and Load must be seal.New(master, SealPurpose).
const SealPurpose = "signing-key"

// algorithms lists every algorithm an institution has keys for, the default
// first.
func algorithms() []string { return []string{RS256, ES256} }

// Errors of this package; callers test with errors.Is.
var (
	// ErrNoKey: the set has no current key of the algorithm (Ensure was not run).
	ErrNoKey = errors.New("keys: no current signing key")
	// ErrBadKey: a stored key does not open or does not match its record.
	ErrBadKey = errors.New("keys: stored signing key is invalid")
)

// Store is what key management needs of the storage: transactions, the
// institution's row lock, and its keys. K is the backend's view of one
// institution's records, of which only the key methods are used.
type Store[K storage.KeyStore] interface {
	storage.Transactor
	// TouchInstitution raises the institution's version, taking its row lock.
	TouchInstitution(ctx context.Context, id string) error
	// In returns the view of one institution's records.
	In(institutionID string) K
}

// toucher takes an institution's row lock (Store's TouchInstitution).
type toucher interface {
	TouchInstitution(ctx context.Context, id string) error
}
