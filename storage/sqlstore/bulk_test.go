package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// tokenIndexes are the secondary indexes of oauth2_tokens the migrations
// create, in that order.
var tokenIndexes = []string{"oauth2_tokens_request", "oauth2_tokens_expires", "oauth2_tokens_subject"}

func indexNames(t *testing.T, s *sqlstore.Store, table sqlstore.Table) []string {
	t.Helper()
	list, err := s.SecondaryIndexes(context.Background(), table)
	if err != nil {
		t.Fatalf("secondary indexes of %s: %v", table, err)
	}
	var names []string
	for _, ix := range list {
		names = append(names, ix.Name)
	}
	return names
}

// TestWithoutIndexes: a load drops the table's secondary indexes and they
// exist again afterwards, with the same definitions, also when the load
// fails or is cancelled; the unique keys stay throughout.
func TestWithoutIndexes(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		s := sqltest.Open(t, db, sqlstore.Options{})
		ctx := context.Background()
		before, err := s.SecondaryIndexes(ctx, sqlstore.OAuth2Table)
		if err != nil {
			t.Fatal(err)
		}
		if got := indexNames(t, s, sqlstore.OAuth2Table); !slices.Equal(got, tokenIndexes) {
			t.Fatalf("secondary indexes of oauth2_tokens: got %v, want %v", got, tokenIndexes)
		}
		if got := indexNames(t, s, sqlstore.AccountsTable); len(got) != 0 {
			t.Fatalf("secondary indexes of accounts: got %v, want none (only unique ones)", got)
		}
		inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
		if err := s.CreateInstitution(ctx, inst); err != nil {
			t.Fatal(err)
		}
		var events []string
		b := s.Bulk(inst.ID, sqlstore.BulkOptions{Indexes: sqlstore.IndexHooks{
			Dropping: func(tb sqlstore.Table, ix []sqlstore.Index) {
				events = append(events, fmt.Sprintf("dropping %s %d", tb, len(ix)))
			},
			Rebuilding: func(tb sqlstore.Table, ix []sqlstore.Index) {
				events = append(events, fmt.Sprintf("rebuilding %s %d", tb, len(ix)))
			},
			Rebuilt: func(ix sqlstore.Index, _ time.Duration) { events = append(events, "rebuilt "+ix.Name) },
		}})
		now := s.Now()
		n := 0
		record := func() storage.OAuth2Record {
			n++
			return storage.OAuth2Record{Kind: storage.KindAccess, Signature: fmt.Sprintf("sig-%d", n), RequestID: "req",
				RequestedAt: now, ClientID: "shop", Subject: "subject", ExpiresAt: now.Add(time.Hour), Active: true}
		}
		boom := errors.New("boom")
		cancelled, cancel := context.WithCancel(ctx)
		for _, c := range []struct {
			name string
			ctx  context.Context
			load func(ctx context.Context) error
			want error
		}{
			{"load", ctx, func(ctx context.Context) error {
				if got := indexNames(t, s, sqlstore.OAuth2Table); len(got) != 0 {
					t.Errorf("during the load: secondary indexes %v remain", got)
				}
				dup := []storage.OAuth2Record{record(), record()}
				dup[1].Signature = dup[0].Signature
				if err := b.LoadOAuth2(ctx, dup); !errors.Is(err, storage.ErrDuplicate) {
					t.Errorf("during the load, a duplicate key: want ErrDuplicate, got %v", err)
				}
				return b.LoadOAuth2(ctx, []storage.OAuth2Record{record(), record(), record()})
			}, nil},
			{"failed load", ctx, func(ctx context.Context) error { return boom }, boom},
			{"cancelled load", cancelled, func(ctx context.Context) error { cancel(); return ctx.Err() }, context.Canceled},
		} {
			events = nil
			err := b.WithoutIndexes(c.ctx, sqlstore.OAuth2Table, c.load)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Errorf("%s: want %v, got %v", c.name, c.want, err)
			}
			after, err := s.SecondaryIndexes(ctx, sqlstore.OAuth2Table)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(after, before) {
				t.Errorf("%s: indexes afterwards\n\t%v\nwant\n\t%v", c.name, after, before)
			}
			want := []string{"dropping oauth2_tokens 3", "rebuilding oauth2_tokens 3",
				"rebuilt oauth2_tokens_request", "rebuilt oauth2_tokens_expires", "rebuilt oauth2_tokens_subject"}
			if !slices.Equal(events, want) {
				t.Errorf("%s: hooks heard %q, want %q", c.name, events, want)
			}
		}
		for i := 3; i <= 5; i++ {
			if _, err := s.In(inst.ID).GetOAuth2(ctx, storage.KindAccess, fmt.Sprintf("sig-%d", i)); err != nil {
				t.Errorf("record sig-%d loaded without indexes: %v", i, err)
			}
		}
		// Not inside a transaction: SQLite's would keep the schema change waiting.
		err = s.InTx(ctx, func(ctx context.Context) error {
			return b.WithoutIndexes(ctx, sqlstore.OAuth2Table, func(context.Context) error { return nil })
		})
		if err == nil {
			t.Error("inside a transaction: want an error")
		}
		if got := indexNames(t, s, sqlstore.OAuth2Table); !slices.Equal(got, tokenIndexes) {
			t.Errorf("after the refusal in a transaction: indexes %v", got)
		}
		// A table without secondary indexes is loaded as it is.
		events = nil
		ran := false
		if err := b.WithoutIndexes(ctx, sqlstore.AccountsTable, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
			t.Errorf("accounts: ran %v, %v", ran, err)
		}
		if len(events) != 0 {
			t.Errorf("accounts: hooks heard %q, want nothing", events)
		}
	})
}

func TestDiskUsageAndAnalyze(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		s := sqltest.Open(t, db, sqlstore.Options{})
		ctx := context.Background()
		if err := s.Analyze(ctx, sqlstore.AccountsTable, sqlstore.OAuth2Table); err != nil {
			t.Fatalf("analyze: %v", err)
		}
		u, err := s.DiskUsage(ctx, sqlstore.AccountsTable, sqlstore.OAuth2Table)
		if err != nil {
			t.Fatalf("disk usage: %v", err)
		}
		if u.Database <= 0 {
			t.Errorf("database: %d bytes", u.Database)
		}
		if db.Dialect == "sqlite" {
			if len(u.Tables) != 0 {
				t.Errorf("SQLite tables: %v, want none", u.Tables)
			}
			return
		}
		if len(u.Tables) != 2 || u.Tables[0].Table != sqlstore.AccountsTable || u.Tables[1].Table != sqlstore.OAuth2Table {
			t.Fatalf("tables: %+v", u.Tables)
		}
		for _, tu := range u.Tables {
			if tu.Total <= 0 || tu.Total < tu.Rows { // an empty table has its indexes' first pages
				t.Errorf("%s: total %d, rows %d", tu.Table, tu.Total, tu.Rows)
			}
		}
	})
}
