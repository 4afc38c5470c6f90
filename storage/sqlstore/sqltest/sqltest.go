// Package sqltest gives tests real databases: SQLite always, and PostgreSQL
// when USHER_TEST_POSTGRES_DSN is set (each test in a fresh schema). With
// USHER_TEST_REQUIRE_POSTGRES=1, a missing DSN fails the test instead of
// skipping PostgreSQL, so CI cannot pass without it.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver

	"github.com/usher-idp/usher/storage/sqlstore"
)

// DB is a fresh, empty database for one test.
type DB struct {
	Dialect string // "sqlite" or "postgres"
	URL     string // a database_url Usher accepts
}

// Each runs fn as a subtest per available dialect, each with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a fresh SQLite database in the test's temporary directory.
func SQLite(t *testing.T) DB {
	t.Helper()
	dir, err := os.MkdirTemp("", "usher-sqlite-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeDir(t, dir) })
	return DB{Dialect: "sqlite", URL: "sqlite:" + filepath.Join(dir, "usher.db")}
}

// removeDir removes a test's database directory once its store is closed,
// trying again for up to a second: a connection database/sql was still
// opening when the pool closed is closed as soon as it is open, and SQLite
// creates and removes its -wal and -shm files meanwhile, so that one
// removal can meet a file created after it listed the directory (seen
// under load as t.TempDir's "directory not empty").
func removeDir(t *testing.T, dir string) {
	var err error
	for range 20 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("remove %s: %v", dir, err)
}

// Postgres returns a fresh schema on the server of USHER_TEST_POSTGRES_DSN,
// dropped when the test ends. It skips the test when the variable is unset,
// unless USHER_TEST_REQUIRE_POSTGRES=1.
func Postgres(t *testing.T) DB {
	t.Helper()
	dsn := os.Getenv("USHER_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("USHER_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal("USHER_TEST_REQUIRE_POSTGRES=1 but USHER_TEST_POSTGRES_DSN is not set")
		}
		t.Skip("PostgreSQL: set USHER_TEST_POSTGRES_DSN to run")
	}
	admin, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "usher_test_" + randomHex(8)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("postgres: drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("USHER_TEST_POSTGRES_DSN: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return DB{Dialect: "postgres", URL: u.String()}
}

// Open opens and migrates db, closing it when the test ends.
func Open(t *testing.T, db DB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db.URL, opts)
	if err != nil {
		t.Fatalf("open %s: %v", db.Dialect, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", db.Dialect, err)
	}
	return s
}

// Raw opens db with database/sql directly, bypassing the store: for tests
// that look at what the database holds. It is closed when the test ends.
func Raw(t testing.TB, db DB) *sql.DB {
	t.Helper()
	driver, dsn := "postgres", db.URL
	if db.Dialect == "sqlite" {
		driver, dsn = "sqlite", strings.TrimPrefix(db.URL, "sqlite:")
	}
	conn, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s directly: %v", db.Dialect, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Dump runs query on db with plain SQL and returns its rows, each column as
// text (bytes as they are, NULL as ""): what a dump of the database shows.
func Dump(t testing.TB, db DB, query string, args ...any) []map[string]string {
	t.Helper()
	rows, err := Raw(t, db).QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	var dump []map[string]string
	for rows.Next() {
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("dump: %v", err)
		}
		row := map[string]string{}
		for i, c := range cols {
			switch v := values[i].(type) {
			case nil:
				row[c] = ""
			case []byte:
				row[c] = string(v)
			default:
				row[c] = fmt.Sprint(v)
			}
		}
		dump = append(dump, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("dump: %v", err)
	}
	return dump
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
