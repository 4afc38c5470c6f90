package sqlstore_test

import (
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/storage/storagetest"
)

// TestConformance runs the storage conformance suite on SQLite, and on
// PostgreSQL when USHER_TEST_POSTGRES_DSN is set. Every test of the suite
// gets a fresh database of the dialect: a new SQLite file or a new
// PostgreSQL schema.
func TestConformance(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		storagetest.Run(t, func(t *testing.T, now func() time.Time) storage.Store {
			return sqltest.Open(t, fresh(t, db.Dialect), sqlstore.Options{Now: now})
		})
	})
}

// TestBulkConformance runs the bulk loader's conformance tests on each
// dialect, with statements of a few rows so that a batch spans several.
func TestBulkConformance(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		storagetest.RunBulk(t, func(t *testing.T, now func() time.Time) (storage.Store, func(string) storage.BulkLoader) {
			s := sqltest.Open(t, fresh(t, db.Dialect), sqlstore.Options{Now: now, CacheMiB: 16})
			return s, func(id string) storage.BulkLoader { return s.Bulk(id, sqlstore.BulkOptions{InsertRows: 7}) }
		})
	})
}

// fresh returns a new, empty database of the dialect for t.
func fresh(t *testing.T, dialect string) sqltest.DB {
	t.Helper()
	if dialect == "postgres" {
		return sqltest.Postgres(t)
	}
	return sqltest.SQLite(t)
}
