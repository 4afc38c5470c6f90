package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/usher-idp/usher/storage"
)

// BulkOptions tune a Bulk. The zero value is fine.
type BulkOptions struct {
	// InsertRows is how many rows one INSERT statement carries on SQLite; 0
	// means 50. Bigger statements need bigger statement journals and are
	// not faster. (PostgreSQL streams a batch with one COPY.)
	InsertRows int
	// Indexes follow what WithoutIndexes does.
	Indexes IndexHooks
}

// IndexHooks let the caller follow WithoutIndexes; each may be nil.
type IndexHooks struct {
	// Dropping is called before the indexes are dropped: should the process
	// die during the load, their definitions recreate them by hand.
	Dropping func(table Table, indexes []Index)
	// Rebuilding is called after the load, before the dropped indexes are
	// created again.
	Rebuilding func(table Table, indexes []Index)
	// Rebuilt is called after each index is created again.
	Rebuilt func(ix Index, took time.Duration)
}

// Bulk is the storage.BulkLoader of one institution: COPY on PostgreSQL,
// multi-row INSERTs on SQLite, with the columns and values of the store's
// own Create methods.
type Bulk struct {
	s    *scoped
	opts BulkOptions
}

var _ storage.BulkLoader = (*Bulk)(nil)

// Bulk returns the bulk loader of one institution's records.
func (s *Store) Bulk(institutionID string, opts BulkOptions) *Bulk {
	if opts.InsertRows <= 0 {
		opts.InsertRows = 50
	}
	return &Bulk{s: &scoped{Store: s, inst: institutionID}, opts: opts}
}

// Columns written by bulk loads, as the Create methods write them.
var (
	accountInsertNames = columnNames(accountInsertColumns)
	oauth2Names        = columnNames(oauth2Columns)
)

// columnNames splits a column list written for queries.
func columnNames(list string) []string {
	names := strings.Split(list, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
	}
	return names
}

// LoadAccounts implements storage.BulkLoader.
func (b *Bulk) LoadAccounts(ctx context.Context, accounts []storage.Account) error {
	now := b.s.clock()
	for i := range accounts {
		b.asStoredAccount(&accounts[i], now)
	}
	err := b.write(ctx, AccountsTable, accountInsertNames, len(accounts), func(i int) []any {
		return accountRow(&accounts[i])
	})
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	return nil
}

// asStoredAccount makes a what is stored, filling in what CreateAccount would.
func (b *Bulk) asStoredAccount(a *storage.Account, now time.Time) {
	a.InstitutionID = b.s.inst
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.CreatedAt = norm(a.CreatedAt)
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	a.UpdatedAt = norm(a.UpdatedAt)
	if a.ID == "" {
		a.ID = NewID(a.CreatedAt)
	}
	if a.Version == 0 {
		a.Version = 1
	}
	normAccount(a)
}

// LoadOAuth2 implements storage.BulkLoader.
func (b *Bulk) LoadOAuth2(ctx context.Context, records []storage.OAuth2Record) error {
	for i := range records {
		b.s.asStoredOAuth2(&records[i])
	}
	err := b.write(ctx, OAuth2Table, oauth2Names, len(records), func(i int) []any {
		return oauth2Row(&records[i])
	})
	if err != nil {
		return fmt.Errorf("load oauth2 records: %w", err)
	}
	return nil
}

// write stores n rows of table in one transaction (the caller's, or its
// own); row returns the values of row i in the order of columns.
func (b *Bulk) write(ctx context.Context, table Table, columns []string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	return b.s.atomic(withoutDeadline(ctx), func(ctx context.Context) error { // loads take long by design
		tx := b.s.txFrom(ctx).root.tx.Tx
		var err error
		if b.s.dialect == postgres {
			err = b.copyRows(ctx, tx, table, columns, n, row)
		} else {
			err = b.insertRows(ctx, tx, table, columns, n, row)
		}
		return b.s.mapErr(err)
	})
}

// rowArgs returns the values of a row as stored, or ErrInvalidText.
func rowArgs(values []any) ([]any, error) {
	if !textOK(values) {
		return nil, storage.ErrInvalidText
	}
	return normArgs(values), nil
}

// copyRows streams the rows in one COPY (PostgreSQL).
func (b *Bulk) copyRows(ctx context.Context, tx *sql.Tx, table Table, columns []string, n int, row func(i int) []any) (err error) {
	b.s.statements.Add(1)
	st, err := tx.PrepareContext(ctx, pq.CopyIn(string(table), columns...))
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	for i := range n {
		args, err := rowArgs(row(i))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
	}
	if _, err := st.ExecContext(ctx); err != nil { // the end of the data: the server's verdict
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// maxVariables is SQLite's bound on the parameters of one statement.
const maxVariables = 32766

// insertRows writes the rows in INSERTs of InsertRows rows each (SQLite):
// full ones with a statement prepared once, the last rows with one of their
// own.
func (b *Bulk) insertRows(ctx context.Context, tx *sql.Tx, table Table, columns []string, n int, row func(i int) []any) error {
	per := min(b.opts.InsertRows, maxVariables/len(columns))
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, min(per, n)*len(columns))
	for done := 0; done < n; {
		k := min(per, n-done)
		args = args[:0]
		for i := done; i < done+k; i++ {
			values, err := rowArgs(row(i))
			if err != nil {
				return err
			}
			args = append(args, values...)
		}
		var err error
		b.s.statements.Add(1)
		switch {
		case k < per:
			_, err = tx.ExecContext(ctx, insertSQL(table, columns, k), args...)
		case full == nil:
			if full, err = tx.PrepareContext(ctx, insertSQL(table, columns, per)); err == nil {
				_, err = full.ExecContext(ctx, args...)
			}
		default:
			_, err = full.ExecContext(ctx, args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		done += k
	}
	return nil
}

// insertSQL is an INSERT of rows rows. OR FAIL stops at a refused row
// without undoing the statement's earlier rows, so SQLite keeps no statement
// journal (a copy of every page the statement changes); the transaction,
// which a failure dooms, undoes them.
func insertSQL(table Table, columns []string, rows int) string {
	return "INSERT OR FAIL INTO " + table.quoted() + " (" + strings.Join(columns, ", ") + ") VALUES " +
		valuesSQL(len(columns), rows)
}

// valuesSQL is the VALUES list of rows rows of columns placeholders each.
func valuesSQL(columns, rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", columns), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// WithoutIndexes runs load with the secondary indexes of table dropped
// (neither the primary key nor unique ones: duplicates are still refused),
// then creates them again from the definitions the database held, also when
// load fails or ctx is cancelled. Building an index once after a load of
// millions of rows is much faster than inserting each key into it. Meanwhile
// every institution's queries on the table lack those indexes: stop the
// servers during such a load. Not inside a transaction (load may run its
// own).
func (b *Bulk) WithoutIndexes(ctx context.Context, table Table, load func(ctx context.Context) error) error {
	s, hooks := b.s.Store, b.opts.Indexes
	if s.txFrom(ctx) != nil {
		return fmt.Errorf("load %s without indexes: %w", table, errInTx)
	}
	indexes, err := s.SecondaryIndexes(ctx, table)
	if err != nil {
		return err
	}
	if len(indexes) == 0 {
		return load(ctx)
	}
	if hooks.Dropping != nil {
		hooks.Dropping(table, indexes)
	}
	var dropped []Index
	for _, ix := range indexes {
		if err = s.dropIndex(ctx, ix); err != nil {
			break
		}
		dropped = append(dropped, ix)
	}
	if err == nil {
		err = load(ctx)
	}
	if hooks.Rebuilding != nil {
		hooks.Rebuilding(table, dropped)
	}
	return errors.Join(err, s.createIndexes(context.WithoutCancel(ctx), dropped, hooks.Rebuilt))
}
