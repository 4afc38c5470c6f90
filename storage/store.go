package storage

import (
	"context"
	"time"
)

// Store is a whole backend: institutions, views scoped to one institution,
// transactions, and the cross-institution work of the outbox worker and the
// janitor. The conformance suite in storage/storagetest runs against it.
type Store interface {
	InstitutionStore
	Transactor
	OutboxQueue
	Janitor
	// In returns the view of one institution's records. Everything read or
	// written through it belongs to that institution.
	In(institutionID string) Scoped
}

// Scoped is every per-institution store.
type Scoped interface {
	AccountStore
	ClientStore
	ActionTokenStore
	SessionStore
	OAuth2Store
	KeyStore
	OutboxStore
	AuditStore
	ThrottleStore
	ConsentStore
	TemplateStore
	AssetStore
}

// Transactor runs work atomically. The transaction travels in the context:
// every store method called with that context takes part in it.
//
// A method that returns one of the sentinel errors leaves the transaction
// usable (a flow may, say, handle ErrDuplicate and go on); any other error
// means the transaction must be rolled back.
type Transactor interface {
	// InTx runs fn in a transaction, committed if fn returns nil and rolled
	// back otherwise. Called inside a transaction, it joins it.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// BeginTx, Commit and Rollback do the same in three steps, for callers
	// (such as fosite) that need them apart. A BeginTx inside a transaction
	// joins it: its Commit does nothing, its Rollback dooms the outer one.
	BeginTx(ctx context.Context) (context.Context, error)
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Purge names what the janitor removes.
type Purge string

// What the janitor removes.
const (
	PurgeOAuth2       Purge = "oauth2"        // codes and tokens past their expiry
	PurgeSessions     Purge = "sessions"      // expired browser sessions
	PurgeActionTokens Purge = "action_tokens" // expired links, and links used a day ago
	PurgeJTIs         Purge = "jtis"          // expired JWT IDs
	PurgeThrottles    Purge = "throttles"     // windows that have ended
	PurgeSigningKeys  Purge = "signing_keys"  // retired keys past their expiry
	// PurgeOutbox removes sent and failed emails queued longer ago than the
	// outbox retention (never a queued one, whatever its age).
	PurgeOutbox Purge = "outbox"
)

// DefaultOutboxRetention is how long sent and failed emails are kept when
// the backend is not told otherwise.
const DefaultOutboxRetention = 30 * 24 * time.Hour

// Purges lists every Purge, in the order the janitor runs them.
func Purges() []Purge {
	return []Purge{PurgeOAuth2, PurgeSessions, PurgeActionTokens, PurgeJTIs, PurgeThrottles, PurgeSigningKeys,
		PurgeOutbox}
}

// Janitor removes records nobody needs any more, across institutions.
type Janitor interface {
	// PurgeExpired removes at most limit records of one kind and returns how
	// many it removed; the caller repeats while it returns limit. Small
	// batches keep each statement short, so the token endpoint never waits.
	PurgeExpired(ctx context.Context, what Purge, limit int) (int, error)
	// PurgePendingAccounts removes at most limit accounts still pending
	// (never activated) that were created before before, with what hangs
	// on them (links, sessions, consents), and records each removal in its
	// institution's audit trail (action "account_purged", actor "system"),
	// atomically. It returns how many it removed.
	PurgePendingAccounts(ctx context.Context, before time.Time, limit int) (int, error)
}
