package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/lib/pq"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/usher-idp/usher/storage"
)

// The deadlines of database calls when Options leave them zero.
const (
	DefaultTimeout     = 5 * time.Second // a statement, a transaction's BEGIN and COMMIT
	DefaultReadTimeout = 2 * time.Second // a read outside a transaction: the hot paths
)

// unavailableKind says in a few words why err means the database did not
// answer, or returns "" when err is the database's answer (a constraint, a
// syntax error, no row). A caller that went away (context.Canceled) is not
// an outage.
func unavailableKind(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pqUnavailable(pe)
	}
	var se *sqlitedriver.Error
	if errors.As(err, &se) {
		return sqliteUnavailable(se.Code())
	}
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, net.ErrClosed):
		return "connection lost"
	case errors.As(err, &dnsErr):
		return "host not found"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "network timeout"
	case errors.As(err, &netErr):
		return "network error"
	}
	return ""
}

// pqUnavailable classifies PostgreSQL's refusals that are about the server,
// not the statement.
func pqUnavailable(pe *pq.Error) string {
	code := string(pe.Code)
	switch {
	case code == "53300":
		return "too many clients"
	case code == "57P01" || code == "57P02":
		return "server shutting down"
	case code == "57P03":
		return "server starting up"
	case code == "57014":
		return "statement canceled"
	case len(code) == 5 && code[:2] == "08":
		return "connection failure"
	case len(code) == 5 && code[:2] == "53":
		return "insufficient resources"
	}
	return ""
}

// sqliteUnavailable classifies SQLite's failures that are about the file,
// not the statement.
func sqliteUnavailable(code int) string {
	switch code & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return "database busy"
	case sqlite3.SQLITE_IOERR:
		return "I/O error"
	case sqlite3.SQLITE_FULL:
		return "disk full"
	case sqlite3.SQLITE_CANTOPEN:
		return "cannot open the database file"
	case sqlite3.SQLITE_INTERRUPT:
		return "deadline exceeded"
	}
	return ""
}

// checked turns err into a *storage.UnavailableError when it says the
// database did not answer, noting it in the request's storage.OutageNote and
// in the outage log; a call that succeeded ends an outage under way.
func (s *Store) checked(ctx context.Context, err error) error {
	if err == nil {
		s.outage.OK()
		return nil
	}
	kind := unavailableKind(err)
	if kind == "" {
		if errors.Is(err, context.Canceled) {
			return err
		}
		s.outage.OK() // the database answered, with a refusal
		return err
	}
	ue := &storage.UnavailableError{Kind: kind, Err: err}
	s.outage.Failed(kind, err)
	storage.NoteUnavailable(ctx, ue)
	return ue
}

type noDeadlineKey struct{}

// withoutDeadline marks ctx for calls that may take long by design (a bulk
// load, a migration): they get no deadline of the store's.
func withoutDeadline(ctx context.Context) context.Context {
	return context.WithValue(ctx, noDeadlineKey{}, true)
}

// failFast returns the unavailability a call of the same request already
// met (storage.OutageNote): the request answers after one deadline, not
// after one per call it would make.
func failFast(ctx context.Context) error {
	return storage.NotedUnavailable(ctx)
}

// deadline gives a call its deadline: the read timeout for a read outside a
// transaction, else the store's timeout; an earlier deadline of ctx stays.
func (s *Store) deadline(ctx context.Context, query string) (context.Context, context.CancelFunc) {
	if ctx.Value(noDeadlineKey{}) != nil {
		return ctx, func() {}
	}
	d := s.timeout
	if query != "" && s.txFrom(ctx) == nil && !writes(query) {
		d = s.readTimeout
	}
	return context.WithTimeout(ctx, d)
}

// call runs fn, one call to the driver that is not a statement of exec,
// get or all (a ping, a BEGIN, a COMMIT, the readiness query), under the
// store's timeout, bounded and checked as they are.
func (s *Store) call(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := s.deadline(ctx, "")
	defer cancel()
	return s.checked(ctx, s.bounded(ctx, func() error { return fn(ctx) }))
}

// bounded runs fn, a call to the driver, and returns when ctx ends even if
// the call has not: lib/pq waits for the answer of a stalled server (its
// cancel request goes to the same stalled server), which would hold the
// request, and every request after it, for as long as the stall lasts. The
// call goes on in the background with its connection until the server
// answers or the connection breaks; lib/pq then discards that connection.
// At most the pool's size of calls can be stuck so; other calls wait for a
// connection no longer than their own deadline. SQLite runs in the process
// and honours ctx itself.
func (s *Store) bounded(ctx context.Context, fn func() error) error {
	if s.dialect != postgres || ctx.Done() == nil {
		return fn()
	}
	done := make(chan error, 1) // buffered: a late call never blocks
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // it finished at the same moment
			return err
		default:
		}
		return context.Cause(ctx)
	}
}
