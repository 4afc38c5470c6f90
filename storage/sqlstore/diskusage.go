package sqlstore

import (
	"context"
	"fmt"
)

// DiskUsage is the room the database takes on disk.
type DiskUsage struct {
	Database int64        // bytes: the whole database
	Tables   []TableUsage // PostgreSQL: the tables asked for; SQLite keeps no figures per table
}

// TableUsage is the room one table takes.
type TableUsage struct {
	Table Table `db:"-"`
	Total int64 `db:"total"` // bytes, with its indexes
	Rows  int64 `db:"rows"`  // bytes of its rows alone
}

// DiskUsage measures the database, and on PostgreSQL each of the tables.
func (s *Store) DiskUsage(ctx context.Context, tables ...Table) (DiskUsage, error) {
	var u DiskUsage
	if s.dialect != postgres {
		err := s.get(ctx, &u.Database, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`)
		if err != nil {
			return u, fmt.Errorf("disk usage: %w", err)
		}
		return u, nil
	}
	if err := s.get(ctx, &u.Database, `SELECT pg_database_size(current_database())`); err != nil {
		return u, fmt.Errorf("disk usage: %w", err)
	}
	for _, t := range tables {
		tu := TableUsage{Table: t}
		err := s.get(ctx, &tu, `SELECT pg_total_relation_size(?) AS total, pg_relation_size(?) AS rows`,
			t.quoted(), t.quoted())
		if err != nil {
			return u, fmt.Errorf("disk usage of %s: %w", t, err)
		}
		u.Tables = append(u.Tables, tu)
	}
	return u, nil
}
