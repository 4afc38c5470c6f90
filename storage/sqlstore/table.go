package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Table is a table that bulk loads fill, by its name in the schema.
type Table string

// The tables of the bulk loads.
const (
	AccountsTable Table = "accounts"
	OAuth2Table   Table = "oauth2_tokens"
)

// quoted is the table's name as an SQL identifier.
func (t Table) quoted() string { return quoteIdent(string(t)) }

// quoteIdent quotes an identifier, the same way in both dialects.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Index is a secondary index of a table, as the database defines it.
type Index struct {
	Name       string `db:"name"`
	Definition string `db:"definition"` // the statement that creates it
}

// SecondaryIndexes returns the indexes of table that neither its primary key
// nor a unique constraint needs, in the order they were created, read from
// the database's catalogue.
func (s *Store) SecondaryIndexes(ctx context.Context, table Table) ([]Index, error) {
	q := `SELECT name, sql AS definition FROM sqlite_master
		WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY rowid`
	arg := string(table)
	if s.dialect == postgres {
		q = `SELECT c.relname AS name, pg_get_indexdef(c.oid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = CAST(? AS regclass) AND NOT i.indisunique ORDER BY c.oid`
		arg = table.quoted()
	}
	var list []Index
	if err := s.all(ctx, &list, q, arg); err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", table, err)
	}
	return list, nil
}

// dropIndex drops an index.
func (s *Store) dropIndex(ctx context.Context, ix Index) error {
	if err := s.execDDL(ctx, `DROP INDEX `+quoteIdent(ix.Name)); err != nil {
		return fmt.Errorf("drop index %s: %w", ix.Name, err)
	}
	return nil
}

// createIndexes creates indexes from their definitions, going on past a
// failure; rebuilt, when not nil, hears of each one created.
func (s *Store) createIndexes(ctx context.Context, indexes []Index, rebuilt func(Index, time.Duration)) error {
	var errs []error
	for _, ix := range indexes {
		start := time.Now()
		if err := s.execDDL(ctx, ix.Definition); err != nil {
			errs = append(errs, fmt.Errorf("rebuild index %s: %w", ix.Name, err))
			continue
		}
		if rebuilt != nil {
			rebuilt(ix, time.Since(start))
		}
	}
	return errors.Join(errs...)
}

// Analyze updates the planner's statistics of the tables (ANALYZE), as
// PostgreSQL's autovacuum does some time after a big load. Not inside a
// transaction.
func (s *Store) Analyze(ctx context.Context, tables ...Table) error {
	for _, t := range tables {
		if err := s.execDDL(ctx, `ANALYZE `+t.quoted()); err != nil {
			return fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	return nil
}

// errInTx: a schema statement was asked for inside a transaction.
var errInTx = errors.New("not inside a transaction: it changes the schema")

// execDDL runs a statement that changes the schema or its statistics:
// unprepared (it runs once), outside any transaction (on SQLite, the
// transaction's write lock would keep it waiting), with the write lock on
// SQLite.
func (s *Store) execDDL(ctx context.Context, query string) error {
	if s.txFrom(ctx) != nil {
		return errInTx
	}
	unlock, err := s.writer.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	s.statements.Add(1)
	_, err = s.db.ExecContext(ctx, query)
	return err
}
