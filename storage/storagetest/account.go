package storagetest

import (
	"fmt"
	"slices"
	"time"

	"github.com/usher-idp/usher/storage"
)

func accountTests() []test {
	return []test{
		{"RoundTripEveryField", testAccountRoundTrip},
		{"CreateKeepsGivenID", testAccountGivenID},
		{"EmailLookupIgnoresCase", testAccountEmailCase},
		{"EmailUniquePerInstitutionAndKind", testAccountEmailUnique},
		{"NotFound", testAccountNotFound},
		{"ListFiltersAndPages", testAccountList},
		{"ListDefaultLimit", testAccountListDefaultLimit},
		{"ListSearchesEmailAndName", testAccountSearch},
		{"UpdateEveryFieldButCounters", testAccountUpdate},
		{"UpdateClearsOptionalFields", testAccountUpdateClears},
		{"UpdateStaleVersion", testAccountUpdateStale},
		{"UpdateToTakenEmail", testAccountUpdateTakenEmail},
	}
}

// normAccount returns a copy of a with its times as a backend stores them.
func normAccount(a storage.Account) storage.Account {
	a.PasswordChangedAt, a.PasswordExpiresAt = normPtr(a.PasswordChangedAt), normPtr(a.PasswordExpiresAt)
	a.TOTPConfirmedAt, a.LastFailedSignIn, a.LockedUntil = normPtr(a.TOTPConfirmedAt), normPtr(a.LastFailedSignIn), normPtr(a.LockedUntil)
	a.CreatedAt, a.UpdatedAt = norm(a.CreatedAt), norm(a.UpdatedAt)
	return a
}

// getAccount reads an account that must exist.
func (e *env) getAccount(s storage.Scoped, id string) storage.Account {
	e.t.Helper()
	a, err := s.GetAccount(e.ctx, id)
	must(e.t, "get account", err)
	return *a
}

func testAccountRoundTrip(e *env) {
	s, inst := e.scope("opera")
	a := e.fullAccount("Ann.Lee@Example.org")
	want := normAccount(*a)
	must(e.t, "create", s.CreateAccount(e.ctx, a))
	if a.ID == "" {
		e.t.Fatal("create: want an ID assigned, got none")
	}
	want.ID, want.InstitutionID, want.Version, want.CreatedAt, want.UpdatedAt = a.ID, inst.ID, 1, e.now(), e.now()
	mustEqual(e.t, "the caller's record after create", *a, want)
	got := e.getAccount(s, a.ID)
	mustEqual(e.t, "get", got, want)
	mustNormalised(e.t, "get", got)
	byEmail, err := s.GetAccountByEmail(e.ctx, storage.Operator, "Ann.Lee@Example.org")
	must(e.t, "get by email", err)
	mustEqual(e.t, "get by email", *byEmail, want)
	list, err := s.ListAccounts(e.ctx, storage.AccountFilter{})
	must(e.t, "list", err)
	mustEqual(e.t, "list", list, []storage.Account{want})
}

func testAccountGivenID(e *env) {
	s, _ := e.scope("opera")
	a := &storage.Account{ID: "acct-given", Kind: storage.Customer, Email: "a@x.org", Status: storage.Pending}
	must(e.t, "create", s.CreateAccount(e.ctx, a))
	if got := e.getAccount(s, "acct-given"); got.Email != "a@x.org" {
		e.t.Fatalf("get: want email a@x.org, got %q", got.Email)
	}
	dup := &storage.Account{ID: "acct-given", Kind: storage.Customer, Email: "b@x.org", Status: storage.Pending}
	mustErr(e.t, "create with a taken ID", s.CreateAccount(e.ctx, dup), storage.ErrDuplicate)
}

func testAccountEmailCase(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "Ann.Lee@Example.ORG")
	for _, email := range []string{"Ann.Lee@Example.ORG", "ann.lee@example.org", "ANN.LEE@EXAMPLE.ORG"} {
		got, err := s.GetAccountByEmail(e.ctx, storage.Customer, email)
		must(e.t, "get by email "+email, err)
		if got.ID != a.ID || got.Email != "Ann.Lee@Example.ORG" {
			e.t.Errorf("get by email %s: want account %s with the email as entered, got %s %q", email, a.ID, got.ID, got.Email)
		}
	}
	_, err := s.GetAccountByEmail(e.ctx, storage.Operator, "ann.lee@example.org")
	checkErr(e.t, "get by email with the other kind", err, storage.ErrNotFound)
}

func testAccountEmailUnique(e *env) {
	a, _ := e.scope("opera")
	b, _ := e.scope("ballet")
	e.account(a, storage.Customer, "Ann@x.org")
	dup := &storage.Account{Kind: storage.Customer, Email: "ann@X.ORG", Status: storage.Active}
	mustErr(e.t, "same email and kind in another case", a.CreateAccount(e.ctx, dup), storage.ErrDuplicate)
	op := e.account(a, storage.Operator, "ann@x.org")
	other := e.account(b, storage.Customer, "ANN@x.org")
	cust, err := a.GetAccountByEmail(e.ctx, storage.Customer, "ann@x.org")
	must(e.t, "get the customer", err)
	opGot, err := a.GetAccountByEmail(e.ctx, storage.Operator, "ann@x.org")
	must(e.t, "get the operator", err)
	otherGot, err := b.GetAccountByEmail(e.ctx, storage.Customer, "ann@x.org")
	must(e.t, "get in the other institution", err)
	ids := []string{cust.ID, opGot.ID, otherGot.ID}
	if opGot.ID != op.ID || otherGot.ID != other.ID || cust.ID == op.ID || cust.ID == other.ID {
		e.t.Fatalf("want three distinct accounts (customer, operator, other institution), got %v", ids)
	}
}

func testAccountNotFound(e *env) {
	s, _ := e.scope("opera")
	_, err := s.GetAccount(e.ctx, "missing")
	checkErr(e.t, "get", err, storage.ErrNotFound)
	_, err = s.GetAccountByEmail(e.ctx, storage.Customer, "nobody@x.org")
	checkErr(e.t, "get by email", err, storage.ErrNotFound)
	a := &storage.Account{ID: "missing", Kind: storage.Customer, Email: "m@x.org", Status: storage.Active, Version: 1}
	checkErr(e.t, "update", s.UpdateAccount(e.ctx, a), storage.ErrNotFound)
	list, err := s.ListAccounts(e.ctx, storage.AccountFilter{})
	mustCount(e.t, "list of an empty institution", len(list), err, 0)
}

// accountIDs lists the IDs of accounts.
func accountIDs(list []storage.Account) []string {
	ids := make([]string, len(list))
	for i, a := range list {
		ids[i] = a.ID
	}
	return ids
}

func testAccountList(e *env) {
	s, _ := e.scope("opera")
	var customers, pending, operators []string
	for i := range 4 {
		a := e.account(s, storage.Customer, fmt.Sprintf("c%d@x.org", i))
		customers = append(customers, a.ID)
	}
	p := &storage.Account{Kind: storage.Customer, Email: "p@x.org", Status: storage.Pending}
	must(e.t, "create pending", s.CreateAccount(e.ctx, p))
	customers, pending = append(customers, p.ID), []string{p.ID}
	for i := range 2 {
		operators = append(operators, e.account(s, storage.Operator, fmt.Sprintf("o%d@x.org", i)).ID)
	}
	all := slices.Sorted(slices.Values(slices.Concat(customers, operators)))
	slices.Sort(customers)
	slices.Sort(operators)
	cases := []struct {
		name string
		f    storage.AccountFilter
		want []string
	}{
		{"everything", storage.AccountFilter{}, all},
		{"customers", storage.AccountFilter{Kind: storage.Customer}, customers},
		{"operators", storage.AccountFilter{Kind: storage.Operator}, operators},
		{"pending", storage.AccountFilter{Status: storage.Pending}, pending},
		{"active operators", storage.AccountFilter{Kind: storage.Operator, Status: storage.Active}, operators},
		{"disabled", storage.AccountFilter{Status: storage.Disabled}, nil},
		{"first page", storage.AccountFilter{Limit: 3}, all[:3]},
		{"second page", storage.AccountFilter{After: all[2], Limit: 3}, all[3:6]},
		{"last page", storage.AccountFilter{After: all[5], Limit: 3}, all[6:]},
		{"customers after the first", storage.AccountFilter{Kind: storage.Customer, After: customers[0]}, customers[1:]},
	}
	for _, c := range cases {
		list, err := s.ListAccounts(e.ctx, c.f)
		must(e.t, "list "+c.name, err)
		mustEqual(e.t, "IDs listed for "+c.name, accountIDs(list), c.want)
	}
}

func testAccountListDefaultLimit(e *env) {
	s, _ := e.scope("opera")
	for i := range 101 {
		e.account(s, storage.Customer, fmt.Sprintf("c%03d@x.org", i))
	}
	list, err := s.ListAccounts(e.ctx, storage.AccountFilter{})
	mustCount(e.t, "list with limit 0", len(list), err, 100)
}

func testAccountSearch(e *env) {
	s, _ := e.scope("opera")
	other, _ := e.scope("ballet")
	add := func(kind storage.AccountKind, email, given, family string) string {
		a := &storage.Account{Kind: kind, Email: email, GivenName: given, FamilyName: family, Status: storage.Active}
		must(e.t, "create "+email, s.CreateAccount(e.ctx, a))
		return a.ID
	}
	ann := add(storage.Customer, "Ann.Lee@Example.org", "Ann", "Lee")
	annette := add(storage.Customer, "annette@example.org", "Annette", "Dupont")
	bob := add(storage.Operator, "bob@shop.example", "Bob", "Annan")
	pct := add(storage.Customer, "100%_sure@example.org", "Per", "Cent")
	e.account(other, storage.Customer, "ann@other.example")
	named := slices.Sorted(slices.Values([]string{ann, annette, bob})) // the IDs in the order they are listed
	cases := []struct {
		name string
		f    storage.AccountFilter
		want []string
	}{
		{"email part, any case", storage.AccountFilter{Email: "ANN"}, []string{ann, annette}},
		{"whole email", storage.AccountFilter{Email: "ann.lee@example.org"}, []string{ann}},
		{"domain", storage.AccountFilter{Email: "@shop."}, []string{bob}},
		{"name part, any case", storage.AccountFilter{Name: "ann"}, []string{ann, annette, bob}},
		{"given and family name", storage.AccountFilter{Name: "ann lee"}, []string{ann}},
		{"name and kind", storage.AccountFilter{Name: "ann", Kind: storage.Operator}, []string{bob}},
		{"email and name", storage.AccountFilter{Email: "example.org", Name: "dupont"}, []string{annette}},
		{"% and _ are plain characters", storage.AccountFilter{Email: "0%_s"}, []string{pct}},
		{"% matches only itself", storage.AccountFilter{Email: "%"}, []string{pct}},
		{"_ matches only itself", storage.AccountFilter{Name: "_"}, nil},
		{"backslash matches only itself", storage.AccountFilter{Email: `\`}, nil},
		{"nothing", storage.AccountFilter{Email: "zzz"}, nil},
		{"a page of a search", storage.AccountFilter{Name: "ann", Limit: 1, After: named[0]}, named[1:2]},
	}
	for _, c := range cases {
		list, err := s.ListAccounts(e.ctx, c.f)
		must(e.t, "list "+c.name, err)
		mustEqual(e.t, "IDs listed for "+c.name, accountIDs(list), slices.Sorted(slices.Values(c.want)))
	}
}

func testAccountUpdate(e *env) {
	s, _ := e.scope("opera")
	a := e.fullAccount("ann@x.org")
	must(e.t, "create", s.CreateAccount(e.ctx, a))
	before := e.getAccount(s, a.ID)
	e.clock.Advance(time.Hour)
	now := e.clock.Now()
	changed := before
	changed.Kind, changed.Email, changed.EmailVerified = storage.Customer, "Ann.New@x.org", false
	changed.GivenName, changed.FamilyName, changed.Locale, changed.Status = "Anna", "Lee-Smith", "it", storage.Active
	changed.ExternalRef = "C-2077"
	changed.PasswordHash, changed.PasswordChangedAt = "$argon2id$new", ptr(odd(now))
	changed.PasswordExpiresAt, changed.MustChangePassword = ptr(odd(now.Add(time.Hour))), false
	changed.TwoFactorRequired, changed.TOTPSecret, changed.TOTPConfirmedAt = false, []byte("new-secret"), ptr(odd(now))
	// Counters are not written by UpdateAccount.
	changed.FailedSignIns, changed.LastFailedSignIn, changed.LockedUntil, changed.TOTPLastStep = 99, ptr(now), ptr(now), 99999
	want := normAccount(changed)
	want.FailedSignIns, want.LastFailedSignIn, want.LockedUntil = before.FailedSignIns, before.LastFailedSignIn, before.LockedUntil
	want.TOTPLastStep, want.Version, want.UpdatedAt = before.TOTPLastStep, 2, e.now()
	must(e.t, "update", s.UpdateAccount(e.ctx, &changed))
	if changed.Version != 2 {
		e.t.Errorf("update: want the caller's version raised to 2, got %d", changed.Version)
	}
	mustTime(e.t, "the caller's UpdatedAt", changed.UpdatedAt, e.now())
	mustEqual(e.t, "after update", e.getAccount(s, a.ID), want)
	byEmail, err := s.GetAccountByEmail(e.ctx, storage.Customer, "ann.new@X.org")
	must(e.t, "get by the new email", err)
	mustEqual(e.t, "get by the new email", *byEmail, want)
	_, err = s.GetAccountByEmail(e.ctx, storage.Operator, "ann@x.org")
	checkErr(e.t, "get by the old email", err, storage.ErrNotFound)
}

func testAccountUpdateClears(e *env) {
	s, _ := e.scope("opera")
	a := e.fullAccount("ann@x.org")
	must(e.t, "create", s.CreateAccount(e.ctx, a))
	a.PasswordHash, a.PasswordChangedAt, a.PasswordExpiresAt = "", nil, nil
	a.TOTPSecret, a.TOTPConfirmedAt, a.GivenName, a.Locale = nil, nil, "", ""
	must(e.t, "update", s.UpdateAccount(e.ctx, a))
	got := e.getAccount(s, a.ID)
	if got.PasswordHash != "" || got.PasswordChangedAt != nil || got.PasswordExpiresAt != nil ||
		got.TOTPSecret != nil || got.TOTPConfirmedAt != nil || got.GivenName != "" || got.Locale != "" {
		e.t.Fatalf("after clearing optional fields: want them empty, got %+v", got)
	}
}

func testAccountUpdateStale(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	stale := *a
	a.GivenName = "First"
	must(e.t, "first update", s.UpdateAccount(e.ctx, a))
	stale.GivenName = "Second"
	mustErr(e.t, "update from a stale version", s.UpdateAccount(e.ctx, &stale), storage.ErrConflict)
	if stale.Version != 1 {
		e.t.Errorf("refused update: want the caller's version left at 1, got %d", stale.Version)
	}
	if got := e.getAccount(s, a.ID); got.GivenName != "First" || got.Version != 2 {
		e.t.Fatalf("after the refused update: want First at version 2, got %q at %d", got.GivenName, got.Version)
	}
}

func testAccountUpdateTakenEmail(e *env) {
	s, _ := e.scope("opera")
	e.account(s, storage.Customer, "taken@x.org")
	a := e.account(s, storage.Customer, "ann@x.org")
	a.Email = "TAKEN@x.org"
	mustErr(e.t, "update to a taken email", s.UpdateAccount(e.ctx, a), storage.ErrDuplicate)
	if got := e.getAccount(s, a.ID); got.Email != "ann@x.org" || got.Version != 1 {
		e.t.Fatalf("after the refused update: want ann@x.org at version 1, got %q at %d", got.Email, got.Version)
	}
}
