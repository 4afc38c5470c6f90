package storagetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
)

// BulkOpener returns a fresh, migrated, empty store whose clock is now, and
// the bulk loader of each of its institutions.
type BulkOpener func(t *testing.T, now func() time.Time) (storage.Store, func(institutionID string) storage.BulkLoader)

// bulkEnv is a conformance test's env with the bulk loaders of its store.
type bulkEnv struct {
	*env
	bulk func(institutionID string) storage.BulkLoader
}

// RunBulk runs the conformance tests of a backend's storage.BulkLoader as
// subtests: what is loaded in bulk reads back through the ordinary store
// methods exactly as if it had been created one record at a time. open is
// called once per test.
func RunBulk(t *testing.T, open BulkOpener) {
	t.Helper()
	tests := []struct {
		name string
		run  func(e *bulkEnv)
	}{
		{"AccountsAsIfOneByOne", testBulkAccounts},
		{"AccountsKeepWhatIsGiven", testBulkAccountsGiven},
		{"OAuth2AsIfOneByOne", testBulkOAuth2},
		{"ManyRows", testBulkMany},
		{"DuplicateStoresNothing", testBulkDuplicate},
		{"InvalidTextStoresNothing", testBulkInvalidText},
		{"JoinsTransaction", testBulkTx},
		{"Isolation", testBulkIsolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var bulk func(string) storage.BulkLoader
			e := newEnv(t, func(t *testing.T, now func() time.Time) storage.Store {
				var s storage.Store
				s, bulk = open(t, now)
				return s
			})
			tc.run(&bulkEnv{env: e, bulk: bulk})
		})
	}
}

// bulkAccounts is a batch of accounts: full ones, and minimal ones whose ID,
// version and timestamps the store fills in.
func (e *bulkEnv) bulkAccounts() []storage.Account {
	full := e.fullAccount("Ann.Lee@Example.org")
	other := e.fullAccount("bob@example.org")
	other.Kind, other.Status, other.TOTPSecret, other.LockedUntil = storage.Customer, storage.Pending, nil, nil
	return []storage.Account{*full, *other,
		{Kind: storage.Customer, Email: "Ann.Lee@Example.org", Status: storage.Active},
		{Kind: storage.Customer, Email: "cleo@example.org", Status: storage.Active, PasswordHash: "$argon2id$x"},
	}
}

func testBulkAccounts(e *bulkEnv) {
	one, _ := e.scope("one-by-one")
	bulk, inst := e.scope("bulk")
	accounts := e.bulkAccounts()
	want := make([]storage.Account, len(accounts))
	for i := range accounts {
		a := accounts[i]
		must(e.t, "create account "+a.Email, one.CreateAccount(e.ctx, &a))
		want[i] = a
	}
	must(e.t, "load accounts", e.bulk(inst.ID).LoadAccounts(e.ctx, accounts))
	for i, a := range accounts {
		what := fmt.Sprintf("account %d (%s %s)", i, a.Kind, a.Email)
		if a.ID == "" || a.ID == want[i].ID {
			e.t.Fatalf("%s: want a new ID of its own, got %q", what, a.ID)
		}
		got, err := bulk.GetAccountByEmail(e.ctx, a.Kind, strings.ToUpper(a.Email))
		must(e.t, "get loaded "+what+" by email", err)
		mustEqual(e.t, "the caller's copy of "+what, a, *got)
		mustNormalised(e.t, "loaded "+what, *got)
		byID, err := bulk.GetAccount(e.ctx, a.ID)
		must(e.t, "get loaded "+what, err)
		mustEqual(e.t, "loaded "+what+" by ID", *byID, *got)
		twin, err := one.GetAccountByEmail(e.ctx, a.Kind, a.Email)
		must(e.t, "get created "+what, err)
		got.ID, got.InstitutionID = twin.ID, twin.InstitutionID
		mustEqual(e.t, "loaded "+what+" against the one created", *got, *twin)
	}
}

func testBulkAccountsGiven(e *bulkEnv) {
	s, inst := e.scope("bulk")
	created := odd(e.clock.Now().Add(-72 * time.Hour))
	a := e.fullAccount("ann@example.org")
	a.ID, a.Version, a.CreatedAt, a.UpdatedAt = "0190a3c4-0000-7000-8000-000000000001", 7, created, odd(created.Add(time.Hour))
	given := *a
	must(e.t, "load account", e.bulk(inst.ID).LoadAccounts(e.ctx, []storage.Account{*a}))
	got, err := s.GetAccount(e.ctx, given.ID)
	must(e.t, "get loaded account", err)
	want := given
	want.InstitutionID, want.CreatedAt, want.UpdatedAt = inst.ID, norm(given.CreatedAt), norm(given.UpdatedAt)
	want.PasswordChangedAt, want.PasswordExpiresAt = normPtr(want.PasswordChangedAt), normPtr(want.PasswordExpiresAt)
	want.TOTPConfirmedAt, want.LastFailedSignIn, want.LockedUntil = normPtr(want.TOTPConfirmedAt), normPtr(want.LastFailedSignIn), normPtr(want.LockedUntil)
	mustEqual(e.t, "loaded account", *got, want)
}

// bulkOAuth2 is one record of every kind, signatures prefixed, half of them
// used, one without a session.
func (e *bulkEnv) bulkOAuth2(prefix string) []storage.OAuth2Record {
	var out []storage.OAuth2Record
	for i, kind := range allKinds {
		r := e.oauth2Record(kind, prefix+string(kind), "req-1", "subject-1", time.Hour)
		r.AccessSignature = "access-" + string(kind)
		r.Active = i%2 == 0
		if !r.Active {
			r.UsedAt = ptr(odd(e.clock.Now().Add(-time.Minute)))
		}
		if kind == storage.KindPKCE {
			r.Session = nil
		}
		out = append(out, *r)
	}
	return out
}

func testBulkOAuth2(e *bulkEnv) {
	one, _ := e.scope("one-by-one")
	bulk, inst := e.scope("bulk")
	for _, r := range e.bulkOAuth2("one-") {
		e.createOAuth2(one, &r)
	}
	records := e.bulkOAuth2("bulk-")
	must(e.t, "load oauth2 records", e.bulk(inst.ID).LoadOAuth2(e.ctx, records))
	for _, r := range records {
		got := e.getOAuth2(bulk, r.Kind, r.Signature)
		mustEqual(e.t, "the caller's copy of "+r.Signature, r, got)
		mustNormalised(e.t, "loaded "+r.Signature, got)
		twin := e.getOAuth2(one, r.Kind, "one-"+string(r.Kind))
		got.Signature, got.InstitutionID = twin.Signature, twin.InstitutionID
		mustEqual(e.t, "loaded "+r.Signature+" against the one created", got, twin)
	}
}

// testBulkMany loads batches bigger than a backend's statements.
func testBulkMany(e *bulkEnv) {
	s, inst := e.scope("bulk")
	const n = 250
	accounts := make([]storage.Account, n)
	records := make([]storage.OAuth2Record, n)
	for i := range n {
		accounts[i] = storage.Account{Kind: storage.Customer, Email: fmt.Sprintf("user-%d@example.org", i), Status: storage.Active}
		records[i] = *e.oauth2Record(storage.KindAccess, fmt.Sprintf("sig-%d", i), fmt.Sprintf("req-%d", i), "subject", time.Hour)
	}
	b := e.bulk(inst.ID)
	must(e.t, "load accounts", b.LoadAccounts(e.ctx, accounts))
	must(e.t, "load oauth2 records", b.LoadOAuth2(e.ctx, records))
	must(e.t, "load nothing", b.LoadAccounts(e.ctx, nil))
	seen := 0
	for f := (storage.AccountFilter{Limit: 100}); ; {
		page, err := s.ListAccounts(e.ctx, f)
		must(e.t, "list accounts", err)
		seen += len(page)
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	mustCount(e.t, "accounts listed", seen, nil, n)
	for i := range n {
		if _, err := s.GetAccountByEmail(e.ctx, storage.Customer, accounts[i].Email); err != nil {
			e.t.Fatalf("account %d: %v", i, err)
		}
		mustEqual(e.t, "record "+records[i].Signature, e.getOAuth2(s, storage.KindAccess, records[i].Signature), records[i])
	}
}

func testBulkDuplicate(e *bulkEnv) {
	s, inst := e.scope("bulk")
	e.account(s, storage.Customer, "ann@example.org")
	e.createOAuth2(s, e.oauth2Record(storage.KindRefresh, "taken", "req", "subject", time.Hour))
	b := e.bulk(inst.ID)
	batches := [][]storage.Account{
		{{Kind: storage.Customer, Email: "new-1@example.org"}, {Kind: storage.Customer, Email: "ANN@example.org"}},
		{{Kind: storage.Customer, Email: "new-1@example.org"}, {Kind: storage.Customer, Email: "New-1@example.org"}},
	}
	for i, batch := range batches {
		mustErr(e.t, fmt.Sprintf("load accounts, batch %d", i), b.LoadAccounts(e.ctx, batch), storage.ErrDuplicate)
	}
	_, err := s.GetAccountByEmail(e.ctx, storage.Customer, "new-1@example.org")
	mustErr(e.t, "an account of a refused batch", err, storage.ErrNotFound)
	records := []storage.OAuth2Record{
		*e.oauth2Record(storage.KindRefresh, "free", "req", "subject", time.Hour),
		*e.oauth2Record(storage.KindRefresh, "taken", "req", "subject", time.Hour),
	}
	mustErr(e.t, "load oauth2 records", b.LoadOAuth2(e.ctx, records), storage.ErrDuplicate)
	_, err = s.GetOAuth2(e.ctx, storage.KindRefresh, "free")
	mustErr(e.t, "a record of a refused batch", err, storage.ErrNotFound)
	// The same signature of another kind is no duplicate.
	must(e.t, "load another kind", b.LoadOAuth2(e.ctx, []storage.OAuth2Record{
		*e.oauth2Record(storage.KindAccess, "taken", "req", "subject", time.Hour)}))
}

func testBulkInvalidText(e *bulkEnv) {
	s, inst := e.scope("bulk")
	b := e.bulk(inst.ID)
	for _, bad := range []string{"ann\x00@x.org", "\xff\xfe"} {
		batch := []storage.Account{{Kind: storage.Customer, Email: "ok@example.org"}, {Kind: storage.Customer, Email: bad}}
		checkErr(e.t, "load an account with email "+quote(bad), b.LoadAccounts(e.ctx, batch), storage.ErrInvalidText)
		r := e.oauth2Record(storage.KindAccess, "sig", "req", bad, time.Hour)
		checkErr(e.t, "load a record of subject "+quote(bad), b.LoadOAuth2(e.ctx, []storage.OAuth2Record{*r}), storage.ErrInvalidText)
	}
	list, err := s.ListAccounts(e.ctx, storage.AccountFilter{})
	mustCount(e.t, "accounts after the refused loads", len(list), err, 0)
}

func testBulkTx(e *bulkEnv) {
	s, inst := e.scope("bulk")
	b := e.bulk(inst.ID)
	load := func(email, sig string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			if err := b.LoadAccounts(ctx, []storage.Account{{Kind: storage.Customer, Email: email}}); err != nil {
				return err
			}
			return b.LoadOAuth2(ctx, []storage.OAuth2Record{*e.oauth2Record(storage.KindAccess, sig, "req", "subject", time.Hour)})
		}
	}
	mustErr(e.t, "loads in a transaction that fails", e.store.InTx(e.ctx, func(ctx context.Context) error {
		if err := load("gone@example.org", "gone")(ctx); err != nil {
			return err
		}
		return errBoom
	}), errBoom)
	_, err := s.GetAccountByEmail(e.ctx, storage.Customer, "gone@example.org")
	mustErr(e.t, "an account loaded in a rolled-back transaction", err, storage.ErrNotFound)
	_, err = s.GetOAuth2(e.ctx, storage.KindAccess, "gone")
	mustErr(e.t, "a record loaded in a rolled-back transaction", err, storage.ErrNotFound)
	must(e.t, "loads in a transaction", e.store.InTx(e.ctx, load("kept@example.org", "kept")))
	_, err = s.GetAccountByEmail(e.ctx, storage.Customer, "kept@example.org")
	must(e.t, "an account loaded in a committed transaction", err)
	e.getOAuth2(s, storage.KindAccess, "kept")
}

func testBulkIsolation(e *bulkEnv) {
	s, inst := e.scope("bulk")
	other, otherInst := e.scope("other")
	a := storage.Account{InstitutionID: otherInst.ID, Kind: storage.Customer, Email: "ann@example.org"}
	r := *e.oauth2Record(storage.KindAccess, "sig", "req", "subject", time.Hour)
	r.InstitutionID = otherInst.ID
	b := e.bulk(inst.ID)
	must(e.t, "load account", b.LoadAccounts(e.ctx, []storage.Account{a}))
	must(e.t, "load oauth2 record", b.LoadOAuth2(e.ctx, []storage.OAuth2Record{r}))
	got, err := s.GetAccountByEmail(e.ctx, storage.Customer, a.Email)
	must(e.t, "get the loaded account in the loader's institution", err)
	if got.InstitutionID != inst.ID {
		e.t.Errorf("loaded account: want institution %s, got %s", inst.ID, got.InstitutionID)
	}
	e.getOAuth2(s, storage.KindAccess, "sig")
	_, err = other.GetAccountByEmail(e.ctx, storage.Customer, a.Email)
	mustErr(e.t, "the loaded account from the other institution", err, storage.ErrNotFound)
	_, err = other.GetOAuth2(e.ctx, storage.KindAccess, "sig")
	mustErr(e.t, "the loaded record from the other institution", err, storage.ErrNotFound)
}
