package flows_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// What operators do to accounts through the admin API (the command line
// calls the same methods): the tests of flows.Accounts beyond creating
// accounts and setting passwords.

// customer creates an active customer with a password in inst.
func (f *fixture) customer(t *testing.T, inst *storage.Institution, email string) *storage.Account {
	t.Helper()
	a, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: email,
		Password: "correct horse battery"}, flows.ActorCLI)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// recording returns the fixture's accounts with a recording mailer and a
// public URL, as cmd/usher wires them for the admin API.
func (f *fixture) recording() (*flows.Accounts, *recordingMailer) {
	rec := &recordingMailer{next: f.accounts.Mailer}
	accounts := *f.accounts
	accounts.Mailer, accounts.PublicURL = rec, "https://id.example.org"
	return &accounts, rec
}

// stateID is the message id of a StateError, or "".
func stateID(err error) string {
	var se *flows.StateError
	if errors.As(err, &se) {
		return se.ID
	}
	return ""
}

func TestListAccountsSearchesAndRefusesUnknownValues(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		ann := f.customer(t, inst, "ann@example.org")
		f.customer(t, inst, "bob@example.org")
		list, err := f.accounts.List(f.ctx, inst, storage.AccountFilter{Email: "  ANN@ "})
		if err != nil || len(list) != 1 || list[0].ID != ann.ID {
			t.Errorf("search by email: %+v %v", list, err)
		}
		_, err = f.accounts.List(f.ctx, inst, storage.AccountFilter{Kind: "admin", Status: "gone"})
		if got := problemIDs(err); !equal(got, []string{"kind:account.kind_invalid", "status:account.status_invalid"}) {
			t.Errorf("unknown kind and status: %v", err)
		}
	})
}

// Disabling ends everything that let the account in; enabling lets it sign
// in again. Each starts from its own state.
func TestDisableAndEnable(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		s := f.store.In(inst.ID)
		a := f.customer(t, inst, "ann@example.org")
		f.giveAccess(t, s, a.ID)

		f.clock.Advance(time.Second) // the audit trail in order
		must(t, f.accounts.Disable(f.ctx, inst, a.ID, flows.ClientActor("box-office")))
		got, _ := s.GetAccount(f.ctx, a.ID)
		if got.Status != storage.Disabled {
			t.Errorf("status after disable: %s", got.Status)
		}
		f.wantAccessEnded(t, s)
		if id := stateID(f.accounts.Disable(f.ctx, inst, a.ID, flows.ActorCLI)); id != "account.already_disabled" {
			t.Errorf("disable twice: %q", id)
		}

		f.clock.Advance(time.Second)
		must(t, f.accounts.Enable(f.ctx, inst, a.ID, flows.OperatorActor("op1")))
		if got, _ := s.GetAccount(f.ctx, a.ID); got.Status != storage.Active {
			t.Errorf("status after enable: %s", got.Status)
		}
		if id := stateID(f.accounts.Enable(f.ctx, inst, a.ID, flows.ActorCLI)); id != "account.not_disabled" {
			t.Errorf("enable an active account: %q", id)
		}
		events, _ := s.ListAudit(f.ctx, storage.AuditFilter{AccountID: a.ID})
		if len(events) != 3 || events[0].Action != "account_enabled" || events[0].Actor != "operator:op1" ||
			events[1].Action != "account_disabled" || events[1].Actor != "client:box-office" {
			t.Errorf("audit: %+v", events)
		}

		// An account without a password goes back to pending.
		p, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: "p@example.org"}, flows.ActorCLI)
		must(t, err)
		must(t, f.accounts.Disable(f.ctx, inst, p.ID, flows.ActorCLI))
		must(t, f.accounts.Enable(f.ctx, inst, p.ID, flows.ActorCLI))
		if got, _ := s.GetAccount(f.ctx, p.ID); got.Status != storage.Pending {
			t.Errorf("an account without password enabled: %s, want pending", got.Status)
		}
		if err := f.accounts.Disable(f.ctx, inst, "no-such-id", flows.ActorCLI); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("disable a missing account: %v", err)
		}
	})
}

// The box-office reset: the reset email, marked as asked by an operator,
// with a link to the point of sale chosen; never a link that leads nowhere.
func TestSendResetLink(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		s := f.store.In(inst.ID)
		accounts, rec := f.recording()
		a := f.customer(t, inst, "ann@example.org")
		by := flows.OperatorActor("op1")

		err := accounts.SendResetLink(f.ctx, inst, a.ID, flows.BoxOfficeReset{}, by)
		if !errors.Is(err, flows.ErrNoPointOfSale) {
			t.Errorf("without a point of sale: %v", err)
		}
		pointOfSale := func(id, name string) {
			must(t, s.CreateClient(f.ctx, &storage.Client{ID: id, Name: name, AccountKind: storage.Customer,
				RedirectURIs: storage.List{"https://shop.example/cb"}, Scopes: storage.List{"openid"},
				PointOfSale: true, HomeURL: "https://shop.example/"}))
		}
		pointOfSale("shop", "Opera Tickets")
		must(t, accounts.SendResetLink(f.ctx, inst, a.ID, flows.BoxOfficeReset{}, by))
		sent := rec.of(templates.ClassPasswordReset, "ann@example.org")
		if len(sent) != 1 {
			t.Fatalf("%d reset emails, want 1", len(sent))
		}
		doc := sent[0].(templates.PasswordResetEmail)
		if !doc.ByOperator || doc.PointOfSale != "Opera Tickets" ||
			!strings.HasPrefix(doc.Link, "https://id.example.org/institutions/opera/password/reset?token=") {
			t.Errorf("reset email: %+v", doc)
		}
		events, _ := s.ListAudit(f.ctx, storage.AuditFilter{AccountID: a.ID, Action: "password_reset_requested"})
		if len(events) != 1 || events[0].Actor != "operator:op1" || events[0].Details["point_of_sale"] != "shop" {
			t.Errorf("audit: %+v", events)
		}

		pointOfSale("museum-shop", "Museum Shop")
		tests := []struct {
			name string
			req  flows.BoxOfficeReset
			want []string
		}{
			{"two points of sale, none chosen", flows.BoxOfficeReset{}, []string{"point_of_sale:account.point_of_sale_required"}},
			{"not a point of sale", flows.BoxOfficeReset{PointOfSale: "nope"}, []string{"point_of_sale:account.point_of_sale_unknown"}},
			{"unknown document", flows.BoxOfficeReset{PointOfSale: "shop", Document: "no-such-document"},
				[]string{"document:account.document_unknown"}},
		}
		for _, tt := range tests {
			if got := problemIDs(accounts.SendResetLink(f.ctx, inst, a.ID, tt.req, by)); !equal(got, tt.want) {
				t.Errorf("%s: problems %v, want %v", tt.name, got, tt.want)
			}
		}
		must(t, accounts.SendResetLink(f.ctx, inst, a.ID, flows.BoxOfficeReset{PointOfSale: "museum-shop"}, flows.ClientActor("bo")))
		if sent := rec.of(templates.ClassPasswordReset, "ann@example.org"); len(sent) != 2 ||
			sent[1].(templates.PasswordResetEmail).PointOfSale != "Museum Shop" {
			t.Errorf("reset emails: %+v", sent)
		}

		must(t, f.accounts.Disable(f.ctx, inst, a.ID, flows.ActorCLI))
		if id := stateID(accounts.SendResetLink(f.ctx, inst, a.ID, flows.BoxOfficeReset{PointOfSale: "shop"}, by)); id != "account.disabled" {
			t.Errorf("reset link for a disabled account: %q", id)
		}
		if len(rec.of(templates.ClassPasswordReset, "ann@example.org")) != 2 {
			t.Error("a refused reset queued an email")
		}
	})
}

func TestSetManualPasswordNeedsTheSetting(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		a := f.customer(t, inst, "ann@example.org")
		err := f.accounts.SetManualPassword(f.ctx, inst, a.ID, "a new passphrase", false, flows.OperatorActor("op1"))
		if !errors.Is(err, flows.ErrManualPasswordOff) {
			t.Errorf("manual entry off: %v", err)
		}
		on := true
		inst, err = f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{ManualPassword: &on}, flows.ActorCLI)
		must(t, err)
		must(t, f.accounts.SetManualPassword(f.ctx, inst, a.ID, "a new passphrase", false, flows.OperatorActor("op1")))
		got, _ := f.store.In(inst.ID).GetAccount(f.ctx, a.ID)
		if ok, _, _ := f.hasher.Verify(f.ctx, "a new passphrase", got.PasswordHash); !ok {
			t.Error("the password was not set")
		}
	})
}

func TestRequireAndRemoveSecondFactor(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		s := f.store.In(inst.ID)
		accounts, rec := f.recording()
		op, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Operator, Email: "op@example.org",
			Password: "correct horse battery"}, flows.ActorCLI)
		must(t, err)
		by := flows.OperatorActor("admin")
		must(t, accounts.RequireTwoFactor(f.ctx, inst, op.ID, true, by))
		must(t, accounts.RequireTwoFactor(f.ctx, inst, op.ID, true, by))
		if got, _ := s.GetAccount(f.ctx, op.ID); !got.TwoFactorRequired {
			t.Error("not required")
		}
		events, _ := s.ListAudit(f.ctx, storage.AuditFilter{AccountID: op.ID, Action: "two_factor_requirement_changed"})
		if len(events) != 1 || events[0].Details["required"] != "true" || events[0].Actor != "operator:admin" {
			t.Errorf("audit (one change, one event): %+v", events)
		}
		cu := f.customer(t, inst, "cu@example.org")
		if id := stateID(accounts.RequireTwoFactor(f.ctx, inst, cu.ID, true, by)); id != "account.not_operator" {
			t.Errorf("require it of a customer: %q", id)
		}

		if id := stateID(accounts.RemoveSecondFactor(f.ctx, inst, op.ID, by)); id != "account.two_factor_not_enrolled" {
			t.Errorf("remove a second factor never enrolled: %q", id)
		}
		a, _ := s.GetAccount(f.ctx, op.ID)
		now := f.clock.Now()
		a.TOTPSecret, a.TOTPConfirmedAt = []byte("sealed"), &now
		must(t, s.UpdateAccount(f.ctx, a))
		must(t, s.ReplaceRecoveryCodes(f.ctx, a.ID, [][]byte{[]byte("c1"), []byte("c2")}))
		must(t, accounts.RemoveSecondFactor(f.ctx, inst, op.ID, by))
		got, _ := s.GetAccount(f.ctx, op.ID)
		if got.TOTPSecret != nil || got.TOTPConfirmedAt != nil || !got.TwoFactorRequired {
			t.Errorf("after removal: secret %v, confirmed %v, required %v", got.TOTPSecret, got.TOTPConfirmedAt, got.TwoFactorRequired)
		}
		if n, _ := s.CountRecoveryCodes(f.ctx, op.ID); n != 0 {
			t.Errorf("%d recovery codes left", n)
		}
		sent := rec.of(templates.ClassTwoFactorRemoved, "op@example.org")
		if len(sent) != 1 || !sent[0].(templates.TwoFactorRemovedEmail).ByOperator {
			t.Errorf("two_factor_removed emails: %+v", sent)
		}
		events, _ = s.ListAudit(f.ctx, storage.AuditFilter{AccountID: op.ID, Action: "two_factor_removed"})
		if len(events) != 1 || events[0].Actor != "operator:admin" {
			t.Errorf("audit: %+v", events)
		}
	})
}

func TestAccountEventsPageNewestFirst(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		a := f.customer(t, inst, "ann@example.org")
		for i := range 4 {
			f.clock.Advance(time.Second)
			must(t, f.accounts.Unlock(f.ctx, inst, a.ID, flows.Actor(fmt.Sprint("op", i))))
		}
		first, err := f.accounts.Events(f.ctx, inst, a.ID, "", 3)
		must(t, err)
		rest, err := f.accounts.Events(f.ctx, inst, a.ID, first[len(first)-1].ID, 3)
		must(t, err)
		var got []string
		for _, e := range append(first, rest...) {
			got = append(got, e.Actor+" "+e.Action)
		}
		want := []string{"op3 account_unlocked", "op2 account_unlocked", "op1 account_unlocked", "op0 account_unlocked",
			"cli account_created"}
		if !equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		other := f.institution(t, "ballet")
		if _, err := f.accounts.Events(f.ctx, other, a.ID, "", 0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("events of another institution's account: %v", err)
		}
	})
}

// A refused change of settings lists each problem for the admin API, and
// keeps its English lines for the command line.
func TestUpdateInstitutionProblems(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.institution(t, "opera")
		short, tiny := time.Second, 4
		_, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{TemporaryPasswordTTL: &short, PasswordMinLength: &tiny}, flows.ActorCLI)
		want := []string{"temporary_password_ttl:institution.lifetime_range", "password.min_length:institution.min_length_range"}
		if got := problemIDs(err); !equal(got, want) {
			t.Errorf("problems %v, want %v", got, want)
		}
		if p := flows.Problems(err); len(p) == 2 && (p[0].Args["min"] != "1m" || p[0].Args["max"] != "720h") {
			t.Errorf("lifetime bounds: %v", p[0].Args)
		}
		if !strings.Contains(err.Error(), "temporary password lifetime: must be between 1m0s and 720h0m0s, got 1s") {
			t.Errorf("English lines: %q", err)
		}
	})
}
