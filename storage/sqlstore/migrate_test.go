package sqlstore_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/usher-idp/usher/migrations"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// migrationNames lists the dialect's embedded migrations as Migrate names
// them ("0001_initial"), in order.
func migrationNames(t *testing.T, dialect string) []string {
	t.Helper()
	fsys := migrations.SQLite()
	if dialect == "postgres" {
		fsys = migrations.PostgreSQL()
	}
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded %s migrations: want some, got %v, %v", dialect, files, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(f, ".sql")
	}
	slices.Sort(names)
	return names
}

// open opens db without migrating it, closing it when the test ends.
func open(t *testing.T, db sqltest.DB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), db.URL, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", db.Dialect, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// recordedVersions returns how many times schema_migrations records each
// version, read with database/sql directly.
func recordedVersions(t *testing.T, db sqltest.DB) map[int]int {
	t.Helper()
	conn := sqltest.Raw(t, db)
	rows, err := conn.QueryContext(t.Context(), `SELECT version, COUNT(*) FROM schema_migrations GROUP BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	counts := map[int]int{}
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		counts[v] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return counts
}

// checkRecordedOnce checks that schema_migrations holds every migration
// exactly once.
func checkRecordedOnce(t *testing.T, db sqltest.DB) {
	t.Helper()
	counts := recordedVersions(t, db)
	names := migrationNames(t, db.Dialect)
	if len(counts) != len(names) {
		t.Errorf("schema_migrations: want %d versions, got %v", len(names), counts)
	}
	for _, name := range names {
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("migration %s: bad number: %v", name, err)
		}
		if counts[v] != 1 {
			t.Errorf("schema_migrations: want version %d recorded once, got %d times", v, counts[v])
		}
	}
}

func TestMigrate(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		ctx := t.Context()
		s := open(t, db)
		if err := s.Ready(ctx); !errors.Is(err, sqlstore.ErrNotMigrated) {
			t.Fatalf("ready before migrate: want an error wrapping ErrNotMigrated, got %v", err)
		}
		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		if want := migrationNames(t, db.Dialect); !slices.Equal(applied, want) {
			t.Fatalf("migrate a fresh database: want %v applied, got %v", want, applied)
		}
		again, err := s.Migrate(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("migrate again: want nothing applied, got %v, %v", again, err)
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("ready after migrate: want nil, got %v", err)
		}
		checkRecordedOnce(t, db)
	})
}

// TestMigrateConcurrently starts four replicas on one fresh database at once:
// each opens its own store and migrates. All succeed, and every migration is
// applied and recorded exactly once.
func TestMigrateConcurrently(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		const replicas = 4
		stores := make([]*sqlstore.Store, replicas)
		for i := range stores {
			stores[i] = open(t, db)
		}
		applied := make([][]string, replicas)
		errs := make([]error, replicas)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				<-start
				applied[i], errs[i] = s.Migrate(context.WithoutCancel(t.Context()))
			})
		}
		close(start)
		wg.Wait()
		var all []string
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: migrate: %v", i, err)
			}
			all = append(all, applied[i]...)
		}
		slices.Sort(all)
		if want := migrationNames(t, db.Dialect); !slices.Equal(all, want) {
			t.Errorf("migrations applied by %d replicas together: want each of %v once, got %v", replicas, want, applied)
		}
		checkRecordedOnce(t, db)
		for i, s := range stores {
			if err := s.Ready(t.Context()); err != nil {
				t.Errorf("replica %d: ready: %v", i, err)
			}
		}
	})
}

func TestOpenFails(t *testing.T) {
	cases := []struct {
		name, url, mention string
	}{
		{"wrong scheme", "mysql://x", "unsupported scheme"},
		{"unreachable PostgreSQL", "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "postgres"},
		{"no URL", "", "database URL"},
		{"SQLite without a path", "sqlite:", "sqlite:PATH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlstore.Open(t.Context(), c.url, sqlstore.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("open %q: want an error, got none", c.url)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("open %q: want an error mentioning %q, got %v", c.url, c.mention, err)
			}
		})
	}
}
