package storage

import (
	"context"
	"time"
)

// AccountKind says who an account belongs to, and so which clients it may
// sign in to.
type AccountKind string

// Account kinds.
const (
	Customer AccountKind = "customer" // signs in to a ticket shop
	Operator AccountKind = "operator" // box-office staff
)

// Valid reports whether k is a known kind.
func (k AccountKind) Valid() bool { return k == Customer || k == Operator }

// AccountStatus is where an account is in its life.
type AccountStatus string

// Account statuses.
const (
	Pending  AccountStatus = "pending" // created, not yet activated
	Active   AccountStatus = "active"
	Disabled AccountStatus = "disabled"
)

// Valid reports whether s is a known status.
func (s AccountStatus) Valid() bool { return s == Pending || s == Active || s == Disabled }

// Account is a person who signs in. Its email is unique per institution and
// kind, compared case-insensitively.
type Account struct {
	ID            string      `db:"id"`
	InstitutionID string      `db:"institution_id"`
	Kind          AccountKind `db:"kind"`
	Email         string      `db:"email"` // as entered
	EmailVerified bool        `db:"email_verified"`
	GivenName     string      `db:"given_name"`
	FamilyName    string      `db:"family_name"`
	Locale        string      `db:"locale"` // BCP 47, "" for the institution's default
	// ExternalRef is the institution's own reference for the person (the box
	// office's contact number), "" for none. A non-empty one is unique per
	// institution and kind, compared exactly.
	ExternalRef        string        `db:"external_ref"`
	Status             AccountStatus `db:"status"`
	PasswordHash       string        `db:"password_hash"` // PHC string; "" until a password is set
	PasswordChangedAt  *time.Time    `db:"password_changed_at"`
	PasswordExpiresAt  *time.Time    `db:"password_expires_at"` // set for a temporary password
	MustChangePassword bool          `db:"must_change_password"`
	TwoFactorRequired  bool          `db:"two_factor_required"`
	TOTPSecret         []byte        `db:"totp_secret"` // sealed with the master secret; nil when not enrolled
	TOTPConfirmedAt    *time.Time    `db:"totp_confirmed_at"`
	TOTPLastStep       int64         `db:"totp_last_step"` // last accepted time step: replays are refused
	FailedSignIns      int           `db:"failed_sign_ins"`
	LastFailedSignIn   *time.Time    `db:"last_failed_sign_in_at"`
	LockedUntil        *time.Time    `db:"locked_until"`
	Version            int64         `db:"version"`
	CreatedAt          time.Time     `db:"created_at"`
	UpdatedAt          time.Time     `db:"updated_at"`
}

// Name is the account's full name as shown to people.
func (a *Account) Name() string {
	switch {
	case a.GivenName == "":
		return a.FamilyName
	case a.FamilyName == "":
		return a.GivenName
	}
	return a.GivenName + " " + a.FamilyName
}

// AccountFilter selects accounts to list. Zero fields select everything.
type AccountFilter struct {
	Kind   AccountKind
	Status AccountStatus
	// Email selects the accounts whose email contains it, ignoring case.
	Email string
	// Name selects the accounts whose name ("given family") contains it,
	// ignoring case (SQLite ignores the case of ASCII letters only).
	Name string
	// ExternalRef selects the account with exactly this external reference.
	ExternalRef string
	After       string // an account ID: list the accounts after it (keyset paging)
	Limit       int    // at most this many; 0 means 100
}

// AccountStore keeps an institution's accounts.
type AccountStore interface {
	// CreateAccount stores a, assigning ID (when empty), Version 1 and the
	// timestamps. ErrDuplicate when the ID or the email is taken for that
	// kind, ErrExternalRefTaken when the external reference is (both,
	// joined, when both are).
	CreateAccount(ctx context.Context, a *Account) error
	// GetAccount returns the account, or ErrNotFound.
	GetAccount(ctx context.Context, id string) (*Account, error)
	// GetAccountByEmail finds an account by email, ignoring case.
	GetAccountByEmail(ctx context.Context, kind AccountKind, email string) (*Account, error)
	// ListAccounts returns accounts ordered by ID.
	ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error)
	// UpdateAccount writes every field but the counters (failed sign-ins,
	// lock, TOTP step) if a.Version is still the stored version, then raises
	// a.Version and UpdatedAt. ErrConflict when the account changed since it
	// was read, ErrDuplicate when the new email is taken,
	// ErrExternalRefTaken when the new external reference is, ErrNotFound.
	UpdateAccount(ctx context.Context, a *Account) error

	// RecordSignInFailure atomically adds one failed sign-in and returns the
	// new count; concurrent failures are all counted.
	RecordSignInFailure(ctx context.Context, id string) (int, error)
	// ResetSignInFailures clears the failure count and any lock.
	ResetSignInFailures(ctx context.Context, id string) error
	// LockAccount refuses sign-ins until the given time (nil unlocks).
	LockAccount(ctx context.Context, id string, until *time.Time) error
	// AdvanceTOTPStep records step as the last accepted TOTP time step, if it
	// is later than the one recorded; ErrAlreadyUsed otherwise. Two requests
	// with the same code cannot both pass.
	AdvanceTOTPStep(ctx context.Context, id string, step int64) error

	// ReplaceRecoveryCodes discards the account's recovery codes and stores
	// these hashes instead (nil removes them all).
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte) error
	// UseRecoveryCode consumes the code with this hash: ErrNotFound when the
	// account has no such code, ErrAlreadyUsed when it was used before.
	UseRecoveryCode(ctx context.Context, accountID string, hash []byte) error
	// CountRecoveryCodes returns how many unused codes the account has left.
	CountRecoveryCodes(ctx context.Context, accountID string) (int, error)
}
