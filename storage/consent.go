package storage

import (
	"context"
	"time"
)

// Consent is what an account allowed a client that is not first-party: the
// scopes it may receive without asking again.
type Consent struct {
	AccountID string    `db:"account_id"`
	ClientID  string    `db:"client_id"`
	Scopes    List      `db:"scopes"`
	GrantedAt time.Time `db:"granted_at"`
}

// ConsentStore remembers consent per account, client and scope.
type ConsentStore interface {
	// GrantConsent adds scopes to what the account allowed the client.
	// ErrNotFound when the account does not exist.
	GrantConsent(ctx context.Context, accountID, clientID string, scopes []string) error
	// GetConsent returns what the account allowed the client, or ErrNotFound.
	GetConsent(ctx context.Context, accountID, clientID string) (*Consent, error)
	// RevokeConsent forgets what the account allowed the client; revoking
	// nothing is no error.
	RevokeConsent(ctx context.Context, accountID, clientID string) error
}
