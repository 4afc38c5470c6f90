package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/usher-idp/usher/migrations"
	"github.com/usher-idp/usher/storage"
)

// migration is one numbered SQL file.
type migration struct {
	version int
	name    string
	sql     string
}

// Migrate applies, in order, every migration the database has not recorded,
// each in its own transaction together with its record, and returns the names
// of those it applied. Replicas starting at once are safe: on PostgreSQL they
// queue on an advisory lock; on SQLite each transaction takes the write lock
// at BEGIN. Either way a migration is re-checked inside its transaction.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	all, err := s.migrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == postgres {
		unlock, err := advisoryLock(ctx, conn)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if _, err := conn.ExecContext(ctx, s.createMigrationsTable()); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range all {
		done, err := s.applyMigration(ctx, conn, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, fmt.Sprintf("%04d_%s", m.version, m.name))
		}
	}
	return applied, nil
}

func (s *Store) createMigrationsTable() string {
	ts := "TIMESTAMP"
	if s.dialect == postgres {
		ts = "TIMESTAMPTZ"
	}
	return `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` + ts + ` NOT NULL)`
}

// applyMigration runs m unless it is recorded; it reports whether it ran.
func (s *Store) applyMigration(ctx context.Context, conn *sqlx.Conn, m migration) (bool, error) {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate %04d: %w", m.version, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version); err != nil {
		return false, fmt.Errorf("migrate %04d: %w", m.version, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, s.clock()); err != nil {
		return false, fmt.Errorf("migrate %04d: record: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %04d: commit: %w", m.version, err)
	}
	return true, nil
}

// advisoryLock takes a session-level PostgreSQL advisory lock keyed by the
// current schema, so replicas of one deployment queue while tests in other
// schemas do not.
func advisoryLock(ctx context.Context, conn *sqlx.Conn) (unlock func(), err error) {
	var schema string
	if err := conn.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
		return nil, fmt.Errorf("migrate: current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("usher-migrate:" + schema))
	key := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return nil, fmt.Errorf("migrate: advisory lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
	}, nil
}

// migrations returns the dialect's embedded migrations in order.
func (s *Store) migrations() ([]migration, error) {
	fsys := migrations.SQLite()
	if s.dialect == postgres {
		fsys = migrations.PostgreSQL()
	}
	return readMigrations(fsys)
}

func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var all []migration
	seen := map[int]string{}
	for _, file := range names {
		num, name, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migrations: %s: want NNNN_name.sql", file)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations: %s and %s share version %d", prev, file, v)
		}
		seen[v] = file
		body, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		all = append(all, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].version < all[j].version })
	return all, nil
}

// ErrNotMigrated: the database lacks migrations this binary needs.
var ErrNotMigrated = errors.New("database schema is behind: run usher migrate")

// Ready reports whether the database answers and every migration this binary
// knows is applied (a newer schema, during a rolling upgrade, is fine).
func (s *Store) Ready(ctx context.Context) error {
	all, err := s.migrations()
	if err != nil {
		return err
	}
	var applied []int
	s.statements.Add(1)
	err = s.call(ctx, func(ctx context.Context) error {
		return s.db.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations`)
	})
	if errors.Is(err, storage.ErrUnavailable) {
		return err // the database did not answer: nothing is known of its schema
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotMigrated, err)
	}
	have := make(map[int]bool, len(applied))
	for _, v := range applied {
		have[v] = true
	}
	for _, m := range all {
		if !have[m.version] {
			return fmt.Errorf("%w (missing %04d_%s)", ErrNotMigrated, m.version, m.name)
		}
	}
	return nil
}
