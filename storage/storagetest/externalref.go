package storagetest

import (
	"context"
	"errors"
	"slices"

	"github.com/usher-idp/usher/storage"
)

// An account's external reference (the box office's contact number): ""
// is none; any other value is unique per institution and kind, compared
// exactly, and found by exact match.
func externalRefTests() []test {
	return []test{
		{"UniquePerInstitutionAndKind", testExternalRefUnique},
		{"EmptyNeverConflicts", testExternalRefEmpty},
		{"TakenEmailAndReferenceBoth", testExternalRefAndEmailTaken},
		{"UpdateToTakenAndClear", testExternalRefUpdate},
		{"TransactionGoesOnAfterTaken", testExternalRefInTx},
		{"Search", testExternalRefSearch},
		{"ConcurrentCreates", testRaceExternalRef},
	}
}

// withRef creates an account of kind with this email and reference.
func (e *env) withRef(s storage.Scoped, kind storage.AccountKind, email, ref string) (*storage.Account, error) {
	a := &storage.Account{Kind: kind, Email: email, ExternalRef: ref, Status: storage.Active}
	return a, s.CreateAccount(e.ctx, a)
}

// mustRef creates an account with a reference that must be free.
func (e *env) mustRef(s storage.Scoped, kind storage.AccountKind, email, ref string) *storage.Account {
	e.t.Helper()
	a, err := e.withRef(s, kind, email, ref)
	must(e.t, "create "+email+" with reference "+ref, err)
	return a
}

// refTakenOnly checks that err is ErrExternalRefTaken and not ErrDuplicate
// (the email is free).
func (e *env) refTakenOnly(what string, err error) {
	e.t.Helper()
	checkErr(e.t, what, err, storage.ErrExternalRefTaken)
	if errors.Is(err, storage.ErrDuplicate) {
		e.t.Errorf("%s: want only the reference taken, got ErrDuplicate too (%v)", what, err)
	}
}

func testExternalRefUnique(e *env) {
	opera, _ := e.scope("opera")
	ballet, _ := e.scope("ballet")
	e.mustRef(opera, storage.Customer, "ann@x.org", "C-1042")
	_, err := e.withRef(opera, storage.Customer, "bob@x.org", "C-1042")
	e.refTakenOnly("a customer with a taken reference", err)
	e.mustRef(opera, storage.Operator, "op@x.org", "C-1042")
	e.mustRef(ballet, storage.Customer, "ann@x.org", "C-1042")
	e.mustRef(opera, storage.Customer, "cy@x.org", "c-1042") // compared exactly
	e.mustRef(opera, storage.Customer, "dee@x.org", "C-10420")
	list, err := opera.ListAccounts(e.ctx, storage.AccountFilter{Email: "bob@"})
	mustCount(e.t, "accounts of the refused email", len(list), err, 0)
}

func testExternalRefEmpty(e *env) {
	s, _ := e.scope("opera")
	for _, email := range []string{"a@x.org", "b@x.org", "c@x.org"} {
		e.mustRef(s, storage.Customer, email, "")
	}
	a := e.mustRef(s, storage.Customer, "d@x.org", "C-1")
	a.ExternalRef = ""
	must(e.t, "clear a reference while others have none", s.UpdateAccount(e.ctx, a))
}

func testExternalRefAndEmailTaken(e *env) {
	s, _ := e.scope("opera")
	e.mustRef(s, storage.Customer, "ann@x.org", "C-1")
	_, err := e.withRef(s, storage.Customer, "ANN@x.org", "C-1")
	checkErr(e.t, "both keys taken: the email", err, storage.ErrDuplicate)
	checkErr(e.t, "both keys taken: the reference", err, storage.ErrExternalRefTaken)
	_, err = e.withRef(s, storage.Customer, "ann@X.org", "C-2")
	checkErr(e.t, "only the email taken", err, storage.ErrDuplicate)
	if errors.Is(err, storage.ErrExternalRefTaken) {
		e.t.Errorf("only the email taken: want no ErrExternalRefTaken, got %v", err)
	}
}

func testExternalRefUpdate(e *env) {
	s, _ := e.scope("opera")
	e.mustRef(s, storage.Customer, "ann@x.org", "C-1")
	bob := e.mustRef(s, storage.Customer, "bob@x.org", "C-2")
	bob.ExternalRef = "C-1"
	e.refTakenOnly("update to a taken reference", s.UpdateAccount(e.ctx, bob))
	if got := e.getAccount(s, bob.ID); got.ExternalRef != "C-2" || got.Version != 1 {
		e.t.Fatalf("after the refused update: want C-2 at version 1, got %q at %d", got.ExternalRef, got.Version)
	}
	bob.ExternalRef = ""
	must(e.t, "clear the reference", s.UpdateAccount(e.ctx, bob))
	if got := e.getAccount(s, bob.ID); got.ExternalRef != "" {
		e.t.Fatalf("after clearing: want no reference, got %q", got.ExternalRef)
	}
	e.mustRef(s, storage.Customer, "cy@x.org", "C-2") // free again
}

// A flow meets the taken reference inside its transaction, handles it and
// goes on.
func testExternalRefInTx(e *env) {
	s, _ := e.scope("opera")
	e.mustRef(s, storage.Customer, "ann@x.org", "C-1")
	bob := e.mustRef(s, storage.Customer, "bob@x.org", "C-2")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		dup := &storage.Account{Kind: storage.Customer, Email: "cy@x.org", ExternalRef: "C-1", Status: storage.Pending}
		e.refTakenOnly("create with a taken reference inside the transaction", s.CreateAccount(ctx, dup))
		changed := *bob
		changed.ExternalRef = "C-1"
		e.refTakenOnly("update to a taken reference inside the transaction", s.UpdateAccount(ctx, &changed))
		return e.writeTwo(ctx, s, "dee@x.org")
	})
	must(e.t, "InTx going on after a handled ErrExternalRefTaken", err)
	e.present(s, "dee@x.org", true)
	e.present(s, "cy@x.org", false)
}

func testExternalRefSearch(e *env) {
	s, _ := e.scope("opera")
	other, _ := e.scope("ballet")
	ann := e.mustRef(s, storage.Customer, "ann@x.org", "C-1")
	op := e.mustRef(s, storage.Operator, "op@x.org", "C-1")
	e.mustRef(s, storage.Customer, "bob@x.org", "C-10")
	e.mustRef(s, storage.Customer, "cy@x.org", "")
	e.mustRef(other, storage.Customer, "ann@x.org", "C-1")
	cases := []struct {
		name string
		f    storage.AccountFilter
		want []string
	}{
		{"exact match, either kind", storage.AccountFilter{ExternalRef: "C-1"}, []string{ann.ID, op.ID}},
		{"and kind", storage.AccountFilter{ExternalRef: "C-1", Kind: storage.Customer}, []string{ann.ID}},
		{"no part match", storage.AccountFilter{ExternalRef: "C-"}, nil},
		{"no case folding", storage.AccountFilter{ExternalRef: "c-1"}, nil},
		{"a reference nobody has", storage.AccountFilter{ExternalRef: "X"}, nil},
	}
	for _, c := range cases {
		list, err := s.ListAccounts(e.ctx, c.f)
		must(e.t, "list "+c.name, err)
		mustEqual(e.t, "IDs listed for "+c.name, accountIDs(list), slices.Sorted(slices.Values(c.want)))
	}
	list, err := s.ListAccounts(e.ctx, storage.AccountFilter{})
	mustCount(e.t, "no reference given: every account", len(list), err, 4)
}

// Two accounts created at once with one reference: one wins.
func testRaceExternalRef(e *env) {
	s, _ := e.scope("opera")
	for round := range raceRounds {
		ref := string(rune('A'+round)) + "-1"
		errs := raceErr(e, 2, func(i int) error {
			_, err := e.withRef(s, storage.Customer, string(rune('a'+i))+ref+"@x.org", ref)
			return err
		})
		e.oneWins("2 concurrent creates with one reference", errs, storage.ErrExternalRefTaken)
		list, err := s.ListAccounts(e.ctx, storage.AccountFilter{ExternalRef: ref})
		mustCount(e.t, "accounts with the reference after the race", len(list), err, 1)
	}
}
