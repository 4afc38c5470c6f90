package storage

import (
	"context"
	"time"
)

// BrowserSession is a browser's session at Usher. The cookie carries a random
// secret; the record is keyed by its hash, so a copy of the database cannot be
// replayed as a cookie. What the session holds (the sign-in flow's state) is
// Data, encoded by its owner and opaque to the store. AccountID only indexes
// the session under the account it belongs to, so that all of an account's
// sessions can be ended at once; a session exists before sign-in, so it may
// be empty.
type BrowserSession struct {
	ID            string    `db:"id"` // hash of the cookie secret
	InstitutionID string    `db:"institution_id"`
	AccountID     string    `db:"account_id"` // "" when it belongs to no account yet
	Data          []byte    `db:"data"`       // the session's state, encoded by its owner
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
	ExpiresAt     time.Time `db:"expires_at"`
}

// SessionStore keeps browser sessions.
type SessionStore interface {
	// SaveSession creates or replaces the session with s.ID, setting the
	// timestamps (CreatedAt is kept on replace).
	SaveSession(ctx context.Context, s *BrowserSession) error
	// UpdateSession writes s over the stored session with s.ID (CreatedAt is
	// kept, UpdatedAt set) and never creates one: ErrNotFound when it is gone
	// (signed out, expired and purged), so an ended session cannot come back.
	UpdateSession(ctx context.Context, s *BrowserSession) error
	// GetSession returns the session, or ErrNotFound when there is none or it
	// has expired.
	GetSession(ctx context.Context, id string) (*BrowserSession, error)
	// DeleteSession removes the session; removing a missing one is no error.
	DeleteSession(ctx context.Context, id string) error
	// ListAccountSessions returns the live sessions of the account, the
	// most recently used first.
	ListAccountSessions(ctx context.Context, accountID string) ([]BrowserSession, error)
	// DeleteAccountSessions ends every session of the account except the one
	// with exceptID ("" ends them all) and returns how many it ended.
	DeleteAccountSessions(ctx context.Context, accountID, exceptID string) (int, error)
}
