package storage

import "context"

// BulkLoader writes many records of one institution at once: seeding a
// database for benchmarks, importing accounts. It is not for serving
// requests: it takes no row locks a flow relies on and checks nothing but the
// database's own constraints.
//
// Records are stored as given, their IDs, versions and timestamps included,
// so a load can recreate history; what is left zero is filled in as the
// Create methods fill it. Each record's InstitutionID is set to the loader's
// institution, and its times are normalised as stored, so the caller's copy
// equals what a read returns.
//
// A batch is stored whole or not at all: ErrDuplicate when a key of one of
// its records is taken (by a stored record or another of the batch). Called
// with a transaction in ctx, a batch joins it, and any failure, ErrDuplicate
// included, leaves that transaction to be rolled back; without one, each
// batch is a transaction of its own.
type BulkLoader interface {
	// LoadAccounts stores the accounts. It fills in, where zero, the ID (a
	// new one, ordered by CreatedAt), Version (1), CreatedAt (now) and
	// UpdatedAt (CreatedAt).
	LoadAccounts(ctx context.Context, accounts []Account) error
	// LoadOAuth2 stores the codes and tokens, as CreateOAuth2 would one by
	// one.
	LoadOAuth2(ctx context.Context, records []OAuth2Record) error
}
