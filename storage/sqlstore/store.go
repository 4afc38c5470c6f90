// Package sqlstore implements storage.Store on PostgreSQL (lib/pq) and on
// SQLite (modernc.org/sqlite, no cgo) with one set of queries. Queries are
// written once with ? placeholders and rebound for PostgreSQL; the few
// differences between the dialects are named in dialect.go.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // PostgreSQL driver "postgres"
	_ "modernc.org/sqlite" // SQLite driver "sqlite"

	"github.com/usher-idp/usher/storage"
)

// Options tune a Store. The zero value is fine.
type Options struct {
	// Now is the clock; nil means time.Now. Tests pass a fake.
	Now func() time.Time
	// MaxOpenConns bounds the connection pool; 0 picks a default per dialect.
	MaxOpenConns int
	// CacheMiB is SQLite's page cache per connection, in MiB; 0 keeps
	// SQLite's default (2 MiB). A bulk load of millions of rows wants the
	// indexes it fills in memory. PostgreSQL ignores it: its cache is the
	// server's.
	CacheMiB int
	// OutboxRetention is how long sent and failed emails are kept before
	// storage.PurgeOutbox removes them; 0 means
	// storage.DefaultOutboxRetention.
	OutboxRetention time.Duration
	// Timeout is the deadline of a database call (a statement, a
	// transaction's BEGIN and COMMIT); 0 means DefaultTimeout. ReadTimeout
	// is that of a read outside a transaction, the calls of the hot paths;
	// 0 means DefaultReadTimeout. A call past its deadline returns a
	// *storage.UnavailableError, even when the server stalls.
	Timeout, ReadTimeout time.Duration
	// Outages hears whether the database answers: cmd/usher wires an
	// internal/outage.Log, which logs one line when an outage starts, a
	// summary every few seconds while it lasts, one when it ends. nil
	// hears nothing.
	Outages Outages
}

// Outages is told of every call whether the database answered (OK) or
// not (Failed, with the kind of failure and its error).
type Outages interface {
	Failed(kind string, err error)
	OK()
}

// noOutages hears nothing.
type noOutages struct{}

func (noOutages) Failed(string, error) {}
func (noOutages) OK()                  {}

// Store is a storage.Store on a SQL database.
type Store struct {
	db         *sqlx.DB
	dialect    dialect
	now        func() time.Time
	outbox     time.Duration // Options.OutboxRetention
	statements atomic.Uint64
	writer     writerLock // SQLite: one writer at a time, queued in the process
	prepared   sync.Map   // query with ? → *sqlx.Stmt, prepared on each connection that runs it

	timeout, readTimeout time.Duration // Options.Timeout, Options.ReadTimeout
	outage               Outages       // told whether the database answers
}

var _ storage.Store = (*Store)(nil)

// Open connects to the database named by databaseURL: "postgres://…",
// "postgresql://…" or "sqlite:PATH". It checks the connection but does not
// migrate: call Migrate.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	d, driver, dsn, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	if d == sqlite && opts.CacheMiB > 0 {
		dsn += fmt.Sprintf("&_pragma=cache_size(%d)", -opts.CacheMiB*1024) // negative: in KiB
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d, err)
	}
	s := &Store{db: db, dialect: d, now: opts.Now, writer: newWriterLock(d), outbox: opts.OutboxRetention,
		timeout: opts.Timeout, readTimeout: opts.ReadTimeout}
	if s.now == nil {
		s.now = time.Now
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.readTimeout <= 0 {
		s.readTimeout = min(DefaultReadTimeout, s.timeout)
	}
	if s.outage = opts.Outages; s.outage == nil {
		s.outage = noOutages{}
	}
	if s.outbox <= 0 {
		s.outbox = storage.DefaultOutboxRetention
	}
	s.configurePool(opts.MaxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d, err)
	}
	return s, nil
}

func parseURL(databaseURL string) (d dialect, driver, dsn string, err error) {
	scheme, rest, ok := strings.Cut(databaseURL, ":")
	if !ok || databaseURL == "" {
		return 0, "", "", errors.New("database URL: want postgres://… or sqlite:PATH")
	}
	switch scheme {
	case "postgres", "postgresql":
		u, err := url.Parse(databaseURL)
		if err != nil {
			return 0, "", "", fmt.Errorf("database URL: %w", err)
		}
		q := u.Query()
		if q.Get("timezone") == "" {
			q.Set("timezone", "UTC") // times come back in UTC
		}
		u.RawQuery = q.Encode()
		return postgres, "postgres", u.String(), nil
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		if path == "" || strings.Contains(path, "?") {
			return 0, "", "", errors.New("database URL: want sqlite:PATH (a file path, no options)")
		}
		return sqlite, "sqlite", sqliteDSN(path), nil
	}
	return 0, "", "", fmt.Errorf("database URL: unsupported scheme %q (use postgres://… or sqlite:PATH)", scheme)
}

// sqliteDSN turns on what concurrent use needs: WAL (readers do not block the
// writer), a busy timeout (writers wait for each other instead of failing),
// immediate transactions (a transaction takes the write lock at BEGIN, so two
// read-then-write transactions cannot deadlock), and foreign keys.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite&_timezone=UTC"
}

func (s *Store) configurePool(maxOpen int) {
	if maxOpen <= 0 {
		maxOpen = 25
		if s.dialect == sqlite {
			maxOpen = 4
		}
	}
	s.db.SetMaxOpenConns(maxOpen)
	s.db.SetMaxIdleConns(maxOpen)
	s.db.SetConnMaxIdleTime(5 * time.Minute)
	// Connections are renewed now and then: one a server or a proxy kept
	// half-open does not stay in the pool for ever.
	s.db.SetConnMaxLifetime(30 * time.Minute)
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect.String() }

// Statements returns how many SQL statements the store has sent: the
// benchmarks divide it by the operations they ran.
func (s *Store) Statements() uint64 { return s.statements.Load() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.call(ctx, s.db.PingContext) }

// In returns the view of one institution's records.
func (s *Store) In(institutionID string) storage.Scoped {
	return &scoped{Store: s, inst: institutionID}
}

// scoped binds every query to one institution.
type scoped struct {
	*Store
	inst string
}

// clock returns the current time as stored: UTC, microseconds.
func (s *Store) clock() time.Time { return norm(s.now()) }

func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !textOK(args) {
		return nil, storage.ErrInvalidText
	}
	var res sql.Result
	err := s.statement(ctx, query, args, func(ctx context.Context, st *sqlx.Stmt, args []any) (err error) {
		res, err = st.ExecContext(ctx, args...)
		return err
	})
	return res, err
}

// execN runs a statement and returns how many rows it changed.
func (s *Store) execN(ctx context.Context, query string, args ...any) (int, error) {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return int(n), nil
}

// insert runs an INSERT … ON CONFLICT DO NOTHING and reports a taken unique
// key as storage.ErrDuplicate. Unlike a unique violation, this leaves a
// PostgreSQL transaction usable, so a flow can handle the duplicate.
func (s *Store) insert(ctx context.Context, query string, args ...any) error {
	n, err := s.execN(ctx, query+` ON CONFLICT DO NOTHING`, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrDuplicate
	}
	return nil
}

// get scans one row into dest; no row is storage.ErrNotFound.
func (s *Store) get(ctx context.Context, dest any, query string, args ...any) error {
	if !textOK(args) {
		return s.readInvalid(query)
	}
	err := s.statement(ctx, query, args, func(ctx context.Context, st *sqlx.Stmt, args []any) error {
		return st.GetContext(ctx, dest, args...)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}

// all scans every row into dest, a pointer to a slice.
func (s *Store) all(ctx context.Context, dest any, query string, args ...any) error {
	if !textOK(args) {
		if err := s.readInvalid(query); !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		return nil // nothing stored matches such text: an empty list
	}
	err := s.statement(ctx, query, args, func(ctx context.Context, st *sqlx.Stmt, args []any) error {
		return st.SelectContext(ctx, dest, args...)
	})
	return err
}

// statement runs fn, one statement of exec, get or all, with its prepared
// statement and normalised arguments, and returns its error checked: at
// once the unavailability the request already met (failFast), else under
// the query's deadline, bounded. sql.ErrNoRows is an answer of the
// database: it comes back as it is.
func (s *Store) statement(ctx context.Context, query string, args []any,
	fn func(ctx context.Context, st *sqlx.Stmt, args []any) error) error {
	if err := failFast(ctx); err != nil {
		return err
	}
	callCtx, cancel := s.deadline(ctx, query)
	defer cancel()
	args = normArgs(args)
	err := s.bounded(callCtx, func() error {
		st, done, err := s.prepare(callCtx, query)
		if err != nil {
			return err
		}
		defer done()
		return fn(callCtx, st, args)
	})
	if errors.Is(err, sql.ErrNoRows) {
		s.outage.OK()
		return err
	}
	return s.checked(callCtx, s.mapErr(err))
}

// prepare readies a statement to run: the write lock it needs outside a
// transaction (SQLite), its count, the prepared statement. done releases
// the lock once the statement has run.
func (s *Store) prepare(ctx context.Context, query string) (st *sqlx.Stmt, done func(), err error) {
	unlock, err := s.lockStatement(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	s.statements.Add(1)
	if st, err = s.stmt(ctx, query); err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

// textOK reports whether every text argument could be stored: no NUL byte,
// valid UTF-8. PostgreSQL refuses anything else (SQLite stores it), and
// such text reaches queries from hostile requests (a slug, a client_id).
func textOK(args []any) bool {
	for _, a := range args {
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case nil, []byte, bool, int, int64, time.Time, *time.Time:
			continue
		default:
			if rv := reflect.ValueOf(a); rv.Kind() == reflect.String { // named string types
				s = rv.String()
			}
		}
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// readInvalid answers a read whose text no record can hold: not found, or,
// for a statement that writes and returns (UPDATE … RETURNING), invalid.
func (s *Store) readInvalid(query string) error {
	if !writes(query) {
		return storage.ErrNotFound
	}
	return storage.ErrInvalidText
}

// stmt returns query prepared: on the transaction ctx carries, else on the
// pool. A query is prepared once per connection and kept, so the database
// parses and plans it once rather than at every call (PostgreSQL then also
// answers in one round trip instead of two). The set of queries is fixed
// (filters pick among a few written-out variants), so the cache is bounded.
func (s *Store) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	t := s.txFrom(ctx)
	if v, ok := s.prepared.Load(query); ok {
		if t != nil {
			return t.root.tx.StmtxContext(ctx, v.(*sqlx.Stmt)), nil
		}
		return v.(*sqlx.Stmt), nil
	}
	if t == nil {
		return s.prepareShared(ctx, query)
	}
	// Preparing on the pool takes a second connection while the transaction
	// holds one: with every connection in a transaction, each would wait
	// forever. Prepare on the transaction's connection (closed with it), and
	// on the pool meanwhile, for the next calls, holding no connection.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		_, _ = s.prepareShared(ctx, query)
	}()
	st, err := t.root.tx.PreparexContext(ctx, s.rebind(query))
	if err != nil {
		return nil, s.mapErr(fmt.Errorf("prepare: %w", err))
	}
	return st, nil
}

// prepareShared prepares query on the pool and caches it.
func (s *Store) prepareShared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if v, ok := s.prepared.Load(query); ok {
		return v.(*sqlx.Stmt), nil
	}
	p, err := s.db.PreparexContext(ctx, s.rebind(query))
	if err != nil {
		return nil, s.mapErr(fmt.Errorf("prepare: %w", err))
	}
	if v, loaded := s.prepared.LoadOrStore(query, p); loaded {
		p.Close()
		return v.(*sqlx.Stmt), nil
	}
	return p, nil
}

// rebind turns a query's ? placeholders into PostgreSQL's $n.
func (s *Store) rebind(query string) string {
	if s.dialect != postgres {
		return query
	}
	return sqlx.Rebind(sqlx.DOLLAR, query)
}

// normArgs stores every time in UTC with microseconds, the precision both
// databases keep, so what is read back equals what was written.
func normArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = norm(v)
		case *time.Time:
			if v != nil {
				args[i] = norm(*v)
			} else {
				args[i] = nil
			}
		}
	}
	return args
}

// normTime normalises an optional time held by a record.
func normTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := norm(*t)
	return &n
}

func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return min(n, 1000)
}

// Now returns the store's clock reading, as it stores times.
func (s *Store) Now() time.Time { return s.clock() }
