package storage

import (
	"context"
	"time"
)

// KeyState is where a signing key is in its rotation.
type KeyState string

// Signing key states: a key is published as next before it signs, signs while
// current, and stays published while retired until every token it signed has
// expired (ExpiresAt).
const (
	KeyNext    KeyState = "next"
	KeyCurrent KeyState = "current"
	KeyRetired KeyState = "retired"
)

// SigningKey is one of an institution's token signing keys.
type SigningKey struct {
	ID            string     `db:"id"` // the JWK kid
	InstitutionID string     `db:"institution_id"`
	Algorithm     string     `db:"algorithm"` // "RS256", "ES256"
	State         KeyState   `db:"state"`
	PrivateKey    []byte     `db:"private_key"` // sealed with the master secret
	PublicKey     []byte     `db:"public_key"`  // the public JWK, JSON
	CreatedAt     time.Time  `db:"created_at"`
	ActivatedAt   *time.Time `db:"activated_at"`
	RetiredAt     *time.Time `db:"retired_at"`
	ExpiresAt     *time.Time `db:"expires_at"` // retired keys: no longer published after this
}

// KeyStore keeps an institution's signing keys.
type KeyStore interface {
	// CreateSigningKey stores k (CreatedAt assigned). ErrDuplicate.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every key not past its ExpiresAt, newest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// TransitionSigningKey moves a key from one state to the next, setting
	// ActivatedAt when it becomes current, RetiredAt and ExpiresAt when it
	// retires. ErrConflict when the key is not in state from; ErrNotFound.
	TransitionSigningKey(ctx context.Context, id string, from, to KeyState, expiresAt *time.Time) error
}
