package storagetest

import (
	"context"
	"errors"
	"time"

	"github.com/usher-idp/usher/storage"
)

func txTests() []test {
	return []test{
		{"InTxCommits", testInTxCommit},
		{"InTxRollsBackOnError", testInTxRollback},
		{"InTxSpansInstitutionsAndQueue", testInTxSpans},
		{"NestedInTxJoins", testNestedInTxJoins},
		{"NestedInTxErrorRollsBackAll", testNestedInTxError},
		{"PanicRollsBackAndRepanics", testInTxPanic},
		{"ReadsSeeOwnWrites", testTxReadsOwnWrites},
		{"BeginCommit", testBeginCommit},
		{"BeginRollback", testBeginRollback},
		{"NestedBeginCommitWaitsForOuter", testNestedBeginCommit},
		{"NestedBeginRollbackDoomsOuter", testNestedBeginRollback},
		{"UsableAfterDuplicate", testTxAfterDuplicate},
		{"UsableAfterNotFoundOfAJoiningMethod", testTxAfterNotFound},
	}
}

var errBoom = errors.New("boom")

// writeTwo creates an account and queues an email for it in ctx.
func (e *env) writeTwo(ctx context.Context, s storage.Scoped, addr string) error {
	a := &storage.Account{Kind: storage.Customer, Email: addr, Status: storage.Pending}
	if err := s.CreateAccount(ctx, a); err != nil {
		return err
	}
	return s.EnqueueEmail(ctx, email(a.ID, "Welcome "+addr))
}

// present checks, outside any transaction, whether the account of addr and
// its email exist.
func (e *env) present(s storage.Scoped, addr string, want bool) {
	e.t.Helper()
	a, err := s.GetAccountByEmail(e.ctx, storage.Customer, addr)
	if want {
		must(e.t, "get account "+addr, err)
		list, err := s.ListEmails(e.ctx, storage.OutboxFilter{AccountID: a.ID})
		mustCount(e.t, "emails of "+addr, len(list), err, 1)
		return
	}
	mustErr(e.t, "get account "+addr+" (want it absent)", err, storage.ErrNotFound)
	list, err := s.ListEmails(e.ctx, storage.OutboxFilter{})
	must(e.t, "list emails", err)
	for _, m := range list {
		if m.Subject == "Welcome "+addr {
			e.t.Fatalf("email of %s: want it absent, found %s", addr, m.ID)
		}
	}
}

func testInTxCommit(e *env) {
	s, _ := e.scope("opera")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error { return e.writeTwo(ctx, s, "ann@x.org") })
	must(e.t, "InTx", err)
	e.present(s, "ann@x.org", true)
}

func testInTxRollback(e *env) {
	s, _ := e.scope("opera")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		if err := e.writeTwo(ctx, s, "ann@x.org"); err != nil {
			return err
		}
		return errBoom
	})
	mustErr(e.t, "InTx returning an error", err, errBoom)
	e.present(s, "ann@x.org", false)
	must(e.t, "write after the rollback", e.writeTwo(e.ctx, s, "bob@x.org"))
}

func testInTxSpans(e *env) {
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		inst := &storage.Institution{Slug: "opera", Name: "Opera"}
		if err := e.store.CreateInstitution(ctx, inst); err != nil {
			return err
		}
		if err := e.writeTwo(ctx, e.store.In(inst.ID), "ann@x.org"); err != nil {
			return err
		}
		claimed, err := e.store.ClaimEmails(ctx, 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			e.t.Errorf("claim inside the transaction: want its own email, got %d, %v", len(claimed), err)
		}
		return errBoom
	})
	mustErr(e.t, "InTx returning an error", err, errBoom)
	_, err = e.store.GetInstitutionBySlug(e.ctx, "opera")
	mustErr(e.t, "institution created in the rolled back transaction", err, storage.ErrNotFound)
	mustEqual(e.t, "claim after the rollback", e.claim(10, time.Minute), []string(nil))
}

func testNestedInTxJoins(e *env) {
	s, _ := e.scope("opera")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		if err := e.writeTwo(ctx, s, "outer@x.org"); err != nil {
			return err
		}
		err := e.store.InTx(ctx, func(ctx context.Context) error { return e.writeTwo(ctx, s, "inner@x.org") })
		if err != nil {
			return err
		}
		_, err = s.GetAccountByEmail(e.ctx, storage.Customer, "inner@x.org")
		checkErr(e.t, "inner write seen outside before the outer commit", err, storage.ErrNotFound)
		return nil
	})
	must(e.t, "outer InTx", err)
	e.present(s, "outer@x.org", true)
	e.present(s, "inner@x.org", true)
}

func testNestedInTxError(e *env) {
	s, _ := e.scope("opera")
	var innerErr error
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		if err := e.writeTwo(ctx, s, "outer@x.org"); err != nil {
			return err
		}
		innerErr = e.store.InTx(ctx, func(ctx context.Context) error {
			if err := e.writeTwo(ctx, s, "inner@x.org"); err != nil {
				return err
			}
			return errBoom
		})
		return nil // the outer step ignores the inner failure
	})
	checkErr(e.t, "inner InTx", innerErr, errBoom)
	if err == nil {
		e.t.Error("outer InTx after an inner one failed: want an error (the transaction is doomed), got none")
	}
	e.present(s, "outer@x.org", false)
	e.present(s, "inner@x.org", false)
}

func testInTxPanic(e *env) {
	s, _ := e.scope("opera")
	recovered := func() (p any) {
		defer func() { p = recover() }()
		_ = e.store.InTx(e.ctx, func(ctx context.Context) error {
			if err := e.writeTwo(ctx, s, "ann@x.org"); err != nil {
				return err
			}
			panic(errBoom)
		})
		return nil
	}()
	if recovered != errBoom {
		e.t.Fatalf("InTx with a panic: want the panic passed on, recovered %v", recovered)
	}
	e.present(s, "ann@x.org", false)
	must(e.t, "write after the panic", e.writeTwo(e.ctx, s, "bob@x.org"))
}

func testTxReadsOwnWrites(e *env) {
	s, _ := e.scope("opera")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		a := &storage.Account{Kind: storage.Customer, Email: "Ann@x.org", Status: storage.Active}
		if err := s.CreateAccount(ctx, a); err != nil {
			return err
		}
		_, err := s.GetAccount(ctx, a.ID)
		checkErr(e.t, "get inside", err, nil)
		_, err = s.GetAccountByEmail(ctx, storage.Customer, "ann@x.org")
		checkErr(e.t, "get by email inside", err, nil)
		list, err := s.ListAccounts(ctx, storage.AccountFilter{})
		if err != nil || len(list) != 1 {
			e.t.Errorf("list inside: want the new account, got %d, %v", len(list), err)
		}
		n, err := s.RecordSignInFailure(ctx, a.ID)
		if err != nil || n != 1 {
			e.t.Errorf("record failure inside: want 1, got %d, %v", n, err)
		}
		_, err = s.GetAccount(e.ctx, a.ID)
		checkErr(e.t, "get outside before commit", err, storage.ErrNotFound)
		return nil
	})
	must(e.t, "InTx", err)
	a, err := s.GetAccountByEmail(e.ctx, storage.Customer, "ann@x.org")
	must(e.t, "get after commit", err)
	if a.FailedSignIns != 1 {
		e.t.Fatalf("after commit: want 1 failed sign-in, got %d", a.FailedSignIns)
	}
}

func testBeginCommit(e *env) {
	s, _ := e.scope("opera")
	ctx, err := e.store.BeginTx(e.ctx)
	must(e.t, "begin", err)
	must(e.t, "write", e.writeTwo(ctx, s, "ann@x.org"))
	must(e.t, "commit", e.store.Commit(ctx))
	e.present(s, "ann@x.org", true)
}

func testBeginRollback(e *env) {
	s, _ := e.scope("opera")
	ctx, err := e.store.BeginTx(e.ctx)
	must(e.t, "begin", err)
	must(e.t, "write", e.writeTwo(ctx, s, "ann@x.org"))
	must(e.t, "rollback", e.store.Rollback(ctx))
	e.present(s, "ann@x.org", false)
	must(e.t, "write after the rollback", e.writeTwo(e.ctx, s, "bob@x.org"))
}

func testNestedBeginCommit(e *env) {
	s, _ := e.scope("opera")
	outer, err := e.store.BeginTx(e.ctx)
	must(e.t, "begin outer", err)
	must(e.t, "write outer", e.writeTwo(outer, s, "outer@x.org"))
	inner, err := e.store.BeginTx(outer)
	must(e.t, "begin inner", err)
	must(e.t, "write inner", e.writeTwo(inner, s, "inner@x.org"))
	must(e.t, "commit inner", e.store.Commit(inner))
	_, err = s.GetAccountByEmail(e.ctx, storage.Customer, "inner@x.org")
	checkErr(e.t, "inner write seen outside after the inner commit", err, storage.ErrNotFound)
	must(e.t, "commit outer", e.store.Commit(outer))
	e.present(s, "outer@x.org", true)
	e.present(s, "inner@x.org", true)
}

func testNestedBeginRollback(e *env) {
	s, _ := e.scope("opera")
	outer, err := e.store.BeginTx(e.ctx)
	must(e.t, "begin outer", err)
	must(e.t, "write outer", e.writeTwo(outer, s, "outer@x.org"))
	inner, err := e.store.BeginTx(outer)
	must(e.t, "begin inner", err)
	must(e.t, "write inner", e.writeTwo(inner, s, "inner@x.org"))
	must(e.t, "rollback inner", e.store.Rollback(inner))
	if err := e.store.Commit(outer); err == nil {
		e.t.Error("commit outer after the inner rollback: want an error, got none")
	}
	e.present(s, "outer@x.org", false)
	e.present(s, "inner@x.org", false)
	must(e.t, "write after the doomed transaction", e.writeTwo(e.ctx, s, "bob@x.org"))
}

// testTxAfterDuplicate: a flow may meet ErrDuplicate inside a transaction,
// handle it and go on (registration with a taken email queues a "you already
// have an account" email instead, so that the answer does not tell). InTx
// commits when fn returns nil, so the transaction must stay usable.
func testTxAfterDuplicate(e *env) {
	s, _ := e.scope("opera")
	e.account(s, storage.Customer, "taken@x.org")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		dup := &storage.Account{Kind: storage.Customer, Email: "TAKEN@x.org", Status: storage.Pending}
		checkErr(e.t, "create with a taken email inside the transaction", s.CreateAccount(ctx, dup), storage.ErrDuplicate)
		return e.writeTwo(ctx, s, "ann@x.org")
	})
	must(e.t, "InTx going on after a handled ErrDuplicate", err)
	e.present(s, "ann@x.org", true)
}

// testTxAfterNotFound: the same with ErrNotFound from a store method that
// itself runs in a (joined) transaction, here ReplaceRecoveryCodes.
func testTxAfterNotFound(e *env) {
	s, _ := e.scope("opera")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		err := s.ReplaceRecoveryCodes(ctx, "missing", [][]byte{hash("c")})
		checkErr(e.t, "replace the codes of a missing account inside the transaction", err, storage.ErrNotFound)
		return e.writeTwo(ctx, s, "ann@x.org")
	})
	must(e.t, "InTx going on after a handled ErrNotFound", err)
	e.present(s, "ann@x.org", true)
}
