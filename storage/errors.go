// Package storage holds Usher's records, the narrow store interfaces the rest
// of the code depends on, and the sentinel errors every backend returns.
//
// Everything an institution owns is reached through Store.In(institutionID),
// a view bound to that institution: nothing of institution A is visible
// through institution B's view. Transactions travel in the context (see
// Transactor), so a flow can change several records atomically.
//
// All times are UTC with microsecond precision; a backend normalises them.
package storage

import "errors"

// Sentinel errors. Backends wrap them with %w; callers test with errors.Is.
var (
	// ErrNotFound: no such record in this institution.
	ErrNotFound = errors.New("storage: not found")
	// ErrDuplicate: a unique key is taken (slug, email of the same kind, id).
	ErrDuplicate = errors.New("storage: duplicate")
	// ErrExternalRefTaken: another account of the same kind in the
	// institution has this external reference. It is its own sentinel, not
	// an ErrDuplicate, so that a caller tells the two keys of an account
	// apart (a write that meets both returns both, joined).
	ErrExternalRefTaken = errors.New("storage: external reference taken")
	// ErrConflict: the record changed since it was read (stale Version) or is
	// not in the state the change starts from.
	ErrConflict = errors.New("storage: conflict")
	// ErrAlreadyUsed: a one-time record (link, code, token, TOTP step) was
	// consumed before.
	ErrAlreadyUsed = errors.New("storage: already used")
	// ErrExpired: a one-time record is past its expiry.
	ErrExpired = errors.New("storage: expired")
	// ErrInvalidText: a write carried text no record may hold (a NUL byte or
	// invalid UTF-8). Reads with such text find nothing (ErrNotFound). Both
	// dialects behave alike; PostgreSQL would otherwise refuse the statement.
	ErrInvalidText = errors.New("storage: text with a NUL byte or invalid UTF-8")
)
