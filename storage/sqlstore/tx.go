package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// errDoomed: an inner transaction rolled back, so the outer one cannot commit.
var errDoomed = errors.New("transaction rolled back by an inner step")

// txScope is one level of transaction in a context. The outermost level owns
// the *sqlx.Tx; inner levels (a BeginTx inside a transaction) share it.
type txScope struct {
	store  *Store
	root   *txRoot
	nested bool
}

type txRoot struct {
	tx     *sqlx.Tx
	cancel context.CancelFunc // ends the context the transaction was begun with
	unlock func()             // releases the SQLite write lock
	doomed bool
	done   bool
}

type txKey struct{}

func (s *Store) txFrom(ctx context.Context) *txScope {
	t, _ := ctx.Value(txKey{}).(*txScope)
	if t == nil || t.store != s {
		return nil
	}
	return t
}

// BeginTx starts a transaction carried by the returned context, or joins the
// one ctx already carries.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if outer := s.txFrom(ctx); outer != nil {
		return context.WithValue(ctx, txKey{}, &txScope{store: s, root: outer.root, nested: true}), nil
	}
	if err := failFast(ctx); err != nil {
		return ctx, fmt.Errorf("begin transaction: %w", err)
	}
	unlock, err := s.writer.lock(ctx)
	if err != nil {
		return ctx, fmt.Errorf("begin transaction: %w", err)
	}
	s.statements.Add(1)
	// The transaction lives until its COMMIT or ROLLBACK, beyond the
	// deadline of its BEGIN; cancelling its context lets database/sql roll
	// it back when one of the three is abandoned (bounded).
	txCtx, cancelTx := context.WithCancel(ctx)
	var tx *sqlx.Tx
	err = s.call(ctx, func(context.Context) (err error) {
		tx, err = s.db.BeginTxx(txCtx, nil)
		return err
	})
	if err != nil {
		cancelTx()
		unlock()
		return ctx, fmt.Errorf("begin transaction: %w", err)
	}
	return context.WithValue(ctx, txKey{}, &txScope{store: s, root: &txRoot{tx: tx, cancel: cancelTx, unlock: unlock}}), nil
}

// Commit commits the transaction ctx carries. A joined transaction commits
// with its outermost level.
func (s *Store) Commit(ctx context.Context) error {
	t := s.txFrom(ctx)
	if t == nil {
		return errors.New("commit: no transaction in context")
	}
	if t.nested {
		return nil
	}
	if t.root.done {
		return errors.New("commit: transaction already finished")
	}
	t.root.done = true
	defer t.root.unlock()
	defer t.root.cancel()
	if t.root.doomed {
		_ = s.rollback(ctx, t.root)
		return errDoomed
	}
	s.statements.Add(1)
	if err := s.call(ctx, func(context.Context) error { return t.root.tx.Commit() }); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rollback rolls back root's transaction within the store's timeout, even
// when ctx has ended (a request past its deadline still hands its
// connection back).
func (s *Store) rollback(ctx context.Context, root *txRoot) error {
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	return s.bounded(callCtx, root.tx.Rollback)
}

// Rollback rolls back the transaction ctx carries; at an inner level it dooms
// the outer one. Rolling back a finished transaction is no error, so it can
// be deferred.
func (s *Store) Rollback(ctx context.Context) error {
	t := s.txFrom(ctx)
	if t == nil {
		return errors.New("rollback: no transaction in context")
	}
	if t.nested {
		t.root.doomed = true
		return nil
	}
	if t.root.done {
		return nil
	}
	t.root.done = true
	defer t.root.unlock()
	defer t.root.cancel()
	s.statements.Add(1)
	if err := s.rollback(ctx, t.root); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// atomic runs a store method's statements atomically: in the caller's
// transaction when there is one (without a level of its own, so a sentinel
// error does not doom it), else in a transaction of their own.
func (s *Store) atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.txFrom(ctx) != nil {
		return fn(ctx)
	}
	return s.InTx(ctx, fn)
}

// guard runs a statement that may violate a unique key so that, inside a
// PostgreSQL transaction, the violation does not abort the transaction: it
// runs under a savepoint. (SQLite aborts only the failing statement.)
func (s *Store) guard(ctx context.Context, fn func() error) error {
	t := s.txFrom(ctx)
	if t == nil || s.dialect != postgres {
		return fn()
	}
	if _, err := s.exec(ctx, `SAVEPOINT usher_guard`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rbErr := s.exec(ctx, `ROLLBACK TO SAVEPOINT usher_guard`); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	_, err := s.exec(ctx, `RELEASE SAVEPOINT usher_guard`)
	return err
}

// InTx runs fn in a transaction (or in the one ctx carries).
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	txCtx, err := s.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = s.Rollback(txCtx)
			panic(p)
		}
	}()
	if err := fn(txCtx); err != nil {
		if rbErr := s.Rollback(txCtx); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return s.Commit(txCtx)
}
