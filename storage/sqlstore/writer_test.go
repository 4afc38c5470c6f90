package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// TestSQLiteWriterQueue: on SQLite a write outside a transaction waits in the
// process for the transaction that holds the write lock, gives up when its
// context ends (writing nothing), and goes through once the lock is free.
func TestSQLiteWriterQueue(t *testing.T) {
	ctx := context.Background()
	s := sqltest.Open(t, sqltest.SQLite(t), sqlstore.Options{})
	inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
	if err := s.CreateInstitution(ctx, inst); err != nil {
		t.Fatal(err)
	}
	scoped := s.In(inst.ID)

	txCtx, err := s.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scoped.HitThrottle(txCtx, "in-tx", time.Minute); err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := scoped.HitThrottle(short, "impatient", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write while a transaction holds the lock: want the context's deadline, got %v", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := scoped.HitThrottle(ctx, "patient", time.Minute)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a write went through while a transaction held the lock: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	// Reads never wait for the writer.
	if _, err := scoped.GetThrottle(ctx, "in-tx"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("read while a transaction holds the lock: %v", err)
	}
	if err := s.Commit(txCtx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("queued write: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("queued write still waiting after the commit")
	}
	for key, want := range map[string]int{"in-tx": 1, "patient": 1, "impatient": 0} {
		th, err := scoped.GetThrottle(ctx, key)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if th.Count != want {
			t.Errorf("%s: count %d, want %d", key, th.Count, want)
		}
	}
}

// TestTransactionsFillingThePool: a statement a transaction runs for the
// first time is prepared without a second connection, so transactions that
// hold every connection of the pool still finish.
func TestTransactionsFillingThePool(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s := sqltest.Open(t, db, sqlstore.Options{MaxOpenConns: 1})
		inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.CreateInstitution(ctx, inst); err != nil {
				return err
			}
			_, err := s.In(inst.ID).HitThrottle(ctx, "first", time.Minute)
			return err
		})
		if err != nil {
			t.Fatalf("a transaction on a pool of one connection: %v", err)
		}
		if _, err := s.In(inst.ID).GetThrottle(ctx, "first"); err != nil {
			t.Fatalf("after the transaction: %v", err)
		}
	})
}
