package sqlstore

import (
	"errors"

	"github.com/lib/pq"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/usher-idp/usher/storage"
)

// dialect is the database behind a Store. Everything that differs between
// the two is here.
type dialect int

const (
	postgres dialect = iota + 1
	sqlite
)

func (d dialect) String() string {
	if d == postgres {
		return "postgres"
	}
	return "sqlite"
}

// skipLocked is appended to a SELECT that claims rows: PostgreSQL lets
// concurrent claimers pass over each other's rows; SQLite has one writer at a
// time, so claims are serialised by the immediate transaction anyway.
func (d dialect) skipLocked() string {
	if d == postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// mapErr turns driver errors into storage sentinels: unique violations are
// storage.ErrDuplicate.
func (s *Store) mapErr(err error) error {
	if err == nil {
		return nil
	}
	if isUniqueViolation(err) {
		return errors.Join(storage.ErrDuplicate, err)
	}
	return err
}

func isUniqueViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlitedriver.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
