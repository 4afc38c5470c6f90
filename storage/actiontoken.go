package storage

import (
	"context"
	"time"
)

// ActionPurpose is what an emailed one-time link does.
type ActionPurpose string

// Link purposes.
const (
	PurposeReset    ActionPurpose = "reset"    // forgotten password
	PurposeActivate ActionPurpose = "activate" // self-registered account
	PurposeInvite   ActionPurpose = "invite"   // operator-created account: set a first password
)

// Valid reports whether p is a known purpose.
func (p ActionPurpose) Valid() bool {
	return p == PurposeReset || p == PurposeActivate || p == PurposeInvite
}

// ActionToken is a one-time emailed link. The link carries a 256-bit random
// secret; only its SHA-256 is stored, so the database cannot forge links.
type ActionToken struct {
	ID            string        `db:"id"`
	InstitutionID string        `db:"institution_id"`
	AccountID     string        `db:"account_id"`
	Purpose       ActionPurpose `db:"purpose"`
	SecretHash    []byte        `db:"secret_hash"`
	PointOfSale   string        `db:"point_of_sale"` // client ID the user returns to
	CreatedBy     string        `db:"created_by"`    // "" when the account holder asked, else the actor: "operator:ID", "client:ID"
	CreatedAt     time.Time     `db:"created_at"`
	ExpiresAt     time.Time     `db:"expires_at"`
	UsedAt        *time.Time    `db:"used_at"` // consumed, or superseded by a newer link
}

// ActionTokenStore keeps one-time links.
type ActionTokenStore interface {
	// CreateActionToken stores t (ID and CreatedAt assigned when empty) and
	// marks every unused link of the same account and purpose as used: only
	// the newest link works.
	CreateActionToken(ctx context.Context, t *ActionToken) error
	// GetActionToken finds a link by the hash of its secret without consuming
	// it. ErrNotFound; ErrAlreadyUsed or ErrExpired come with the token.
	GetActionToken(ctx context.Context, purpose ActionPurpose, secretHash []byte) (*ActionToken, error)
	// ConsumeActionToken marks the link used, atomically: of concurrent
	// calls, exactly one succeeds. The others get ErrAlreadyUsed; a link past
	// its expiry gives ErrExpired, an unknown one ErrNotFound.
	ConsumeActionToken(ctx context.Context, purpose ActionPurpose, secretHash []byte) (*ActionToken, error)
	// InvalidateActionTokens marks every unused link of the account as used,
	// for one purpose or, with "", for all, and returns how many it marked.
	InvalidateActionTokens(ctx context.Context, accountID string, purpose ActionPurpose) (int, error)
}
