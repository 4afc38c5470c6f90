package flows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

func TestCreateAccount(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		a, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: " Ann@Example.org ",
			GivenName: "Ann", Locale: "fr-CH", Password: "correct horse battery"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.store.In(inst.ID).GetAccountByEmail(f.ctx, storage.Customer, "ann@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.Email != "Ann@Example.org" || got.Status != storage.Active || got.EmailVerified {
			t.Errorf("stored %+v", got)
		}
		if ok, _, err := f.hasher.Verify(f.ctx, "correct horse battery", got.PasswordHash); !ok || err != nil {
			t.Errorf("stored hash does not verify the password: %v", err)
		}
		events, err := f.store.In(inst.ID).ListAudit(f.ctx, storage.AuditFilter{AccountID: a.ID})
		if err != nil || len(events) != 1 || events[0].Action != "account_created" || events[0].Actor != "cli" {
			t.Errorf("audit: %+v %v", events, err)
		}
	})
}

func TestCreateAccountRefusesAndChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		digit, upper := true, true
		// Settings changed without an audit event: the trail must stay empty.
		unaudited := &flows.Institutions{Store: f.store}
		inst, err := unaudited.Update(f.ctx, "opera", flows.InstitutionChanges{PasswordDigit: &digit, PasswordUpper: &upper}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			n    flows.NewAccount
			want []string
		}{
			{"every password rule at once", flows.NewAccount{Kind: storage.Customer, Email: "ann@example.org", Password: "xkqvz"},
				[]string{"password:password.too_short", "password:password.needs_upper", "password:password.needs_digit"}},
			{"common password", flows.NewAccount{Kind: storage.Customer, Email: "ann@example.org", Password: "Password123"},
				[]string{"password:password.too_common"}},
			{"email as password", flows.NewAccount{Kind: storage.Customer, Email: "Ann1Ann1Ann1@example.org", Password: "ann1ann1ann1@example.org"},
				[]string{"password:password.needs_upper", "password:password.same_as_identity"}},
			{"bad email and kind", flows.NewAccount{Kind: "admin", Email: "Ann <ann@example.org>", Password: "Correct horse 1"},
				[]string{"kind:account.kind_invalid", "email:account.email_invalid"}},
			{"unsupported locale", flows.NewAccount{Kind: storage.Customer, Email: "ann@example.org", Locale: "xx", Password: "Correct horse 1"},
				[]string{"locale:account.locale_invalid"}},
		}
		for _, tt := range tests {
			_, err := f.accounts.Create(f.ctx, inst, tt.n, flows.ActorCLI)
			if got := problemIDs(err); !equal(got, tt.want) {
				t.Errorf("%s: problems %v, want %v (error %v)", tt.name, got, tt.want, err)
			}
		}
		min := flows.Problems(must1(f.accounts.Create(f.ctx, inst, tests[0].n, flows.ActorCLI)))[0].Args["min_length"]
		if min != "10" {
			t.Errorf("too_short carries min_length %q, want 10", min)
		}
		list, _ := f.store.In(inst.ID).ListAccounts(f.ctx, storage.AccountFilter{})
		events, _ := f.store.In(inst.ID).ListAudit(f.ctx, storage.AuditFilter{})
		if len(list) != 0 || len(events) != 0 {
			t.Errorf("refused input left %d accounts and %d audit events", len(list), len(events))
		}
	})
}

func must1(_ *storage.Account, err error) error { return err }

func TestCreateAccountDuplicateEmail(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		n := flows.NewAccount{Kind: storage.Customer, Email: "ann@example.org", Password: "correct horse battery"}
		if _, err := f.accounts.Create(f.ctx, inst, n, flows.ActorCLI); err != nil {
			t.Fatal(err)
		}
		n.Email = "ANN@example.org"
		_, err := f.accounts.Create(f.ctx, inst, n, flows.ActorCLI)
		if got := problemIDs(err); !equal(got, []string{"email:account.email_taken"}) {
			t.Errorf("duplicate: %v", err)
		}
		events, _ := f.store.In(inst.ID).ListAudit(f.ctx, storage.AuditFilter{})
		if len(events) != 1 {
			t.Errorf("the refused duplicate left an audit event: %d events", len(events))
		}
	})
}

func TestOperatorOfTwoFactorInstitutionMustEnrol(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.institution(t, "opera")
		on := true
		inst, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{TwoFactor: &on}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		op, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Operator, Email: "op@example.org",
			Password: "correct horse battery"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		cu, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: "cu@example.org",
			Password: "correct horse battery"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		if !op.TwoFactorRequired || cu.TwoFactorRequired {
			t.Errorf("two-factor required: operator %v, customer %v", op.TwoFactorRequired, cu.TwoFactorRequired)
		}
	})
}

// A password set by someone else ends everything that let the account in.
func TestSetTemporaryPassword(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		s := f.store.In(inst.ID)
		a, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: "ann@example.org",
			Password: "correct horse battery"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		f.giveAccess(t, s, a.ID)
		if _, err := s.RecordSignInFailure(f.ctx, a.ID); err != nil {
			t.Fatal(err)
		}

		err = f.accounts.SetPassword(f.ctx, inst, a.ID, "xkqvz", true, flows.ActorCLI)
		if got := problemIDs(err); !equal(got, []string{"password:password.too_short"}) {
			t.Fatalf("weak password: %v", err)
		}
		if got, _ := s.GetAccount(f.ctx, a.ID); got.Version != a.Version {
			t.Fatalf("a refused password changed the account")
		}
		if emails, _ := s.ListEmails(f.ctx, storage.OutboxFilter{AccountID: a.ID}); len(emails) != 0 {
			t.Fatalf("a refused password queued %d emails", len(emails))
		}

		must(t, f.accounts.SetPassword(f.ctx, inst, a.ID, "a temporary passphrase", true, flows.OperatorActor("op1")))
		got, err := s.GetAccount(f.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantExpiry := f.clock.Now().Add(inst.Settings.TemporaryPasswordTTL.Std())
		if !got.MustChangePassword || got.PasswordExpiresAt == nil || !got.PasswordExpiresAt.Equal(wantExpiry) {
			t.Errorf("temporary password: must change %v, expires %v, want %v", got.MustChangePassword, got.PasswordExpiresAt, wantExpiry)
		}
		if ok, _, _ := f.hasher.Verify(f.ctx, "a temporary passphrase", got.PasswordHash); !ok {
			t.Error("new password does not verify")
		}
		if got.FailedSignIns != 0 {
			t.Errorf("failures not reset: %d", got.FailedSignIns)
		}
		f.wantAccessEnded(t, s)
		emails, err := s.ListEmails(f.ctx, storage.OutboxFilter{AccountID: a.ID})
		if err != nil || len(emails) != 1 || emails[0].Class != "password_changed" || emails[0].Recipient != "ann@example.org" ||
			emails[0].Status != storage.EmailQueued {
			t.Errorf("want one queued password_changed email to ann@example.org, got %+v (%v)", emails, err)
		}
		events, _ := s.ListAudit(f.ctx, storage.AuditFilter{AccountID: a.ID, Action: "password_set"})
		if len(events) != 1 || events[0].Actor != "operator:op1" || events[0].Details["temporary"] != "true" {
			t.Errorf("audit: %+v", events)
		}
	})
}

// giveAccess gives the account what lets it in: a browser session "sess",
// a refresh token "rt" and a reset link of secret hash "h".
func (f *fixture) giveAccess(t *testing.T, s storage.Scoped, accountID string) {
	t.Helper()
	expires := f.clock.Now().Add(time.Hour)
	must(t, s.SaveSession(f.ctx, &storage.BrowserSession{ID: "sess", AccountID: accountID, ExpiresAt: expires}))
	must(t, s.CreateOAuth2(f.ctx, &storage.OAuth2Record{Kind: storage.KindRefresh, Signature: "rt", RequestID: "r",
		Subject: accountID, Active: true, RequestedAt: f.clock.Now(), ExpiresAt: expires}))
	must(t, s.CreateActionToken(f.ctx, &storage.ActionToken{AccountID: accountID, Purpose: storage.PurposeReset,
		SecretHash: []byte("h"), ExpiresAt: expires}))
}

// wantAccessEnded checks that what giveAccess gave has ended.
func (f *fixture) wantAccessEnded(t *testing.T, s storage.Scoped) {
	t.Helper()
	if _, err := s.GetSession(f.ctx, "sess"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("browser session survived: %v", err)
	}
	if _, err := s.GetOAuth2(f.ctx, storage.KindRefresh, "rt"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refresh token survived: %v", err)
	}
	if _, err := s.GetActionToken(f.ctx, storage.PurposeReset, []byte("h")); !errors.Is(err, storage.ErrAlreadyUsed) {
		t.Errorf("reset link survived: %v", err)
	}
}

// The "your password was changed" email is queued with the change: when it
// cannot be queued, nothing changes (never a partial write).
func TestSetPasswordWithoutItsEmailChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		s := f.store.In(inst.ID)
		a, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: "ann@example.org",
			Password: "correct horse battery"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		must(t, s.SaveSession(f.ctx, &storage.BrowserSession{ID: "sess", AccountID: a.ID, ExpiresAt: f.clock.Now().Add(time.Hour)}))
		accounts := *f.accounts
		accounts.Mailer = failingMailer{}
		err = accounts.SetPassword(f.ctx, inst, a.ID, "a new passphrase", false, flows.OperatorActor("op1"))
		if !errors.Is(err, errOutboxDown) {
			t.Fatalf("set password with the outbox down: %v", err)
		}
		if got, _ := s.GetAccount(f.ctx, a.ID); got.Version != a.Version || got.PasswordHash != a.PasswordHash {
			t.Error("the password changed without its email")
		}
		if _, err := s.GetSession(f.ctx, "sess"); err != nil {
			t.Errorf("the browser session ended without the change: %v", err)
		}
		if events, _ := s.ListAudit(f.ctx, storage.AuditFilter{AccountID: a.ID, Action: "password_set"}); len(events) != 0 {
			t.Errorf("audit of a change that did not happen: %+v", events)
		}
	})
}

var errOutboxDown = errors.New("outbox down")

type failingMailer struct{}

func (failingMailer) Queue(context.Context, *storage.Institution, mail.Recipient, templates.Email) (*storage.OutboxEmail, error) {
	return nil, errOutboxDown
}

func (failingMailer) QueueDocument(context.Context, *storage.Institution, mail.Recipient, templates.Email, string) (*storage.OutboxEmail, error) {
	return nil, errOutboxDown
}

func TestUnlock(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		s := f.store.In(inst.ID)
		a, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: "ann@example.org",
			Password: "correct horse battery"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		until := f.clock.Now().Add(time.Hour)
		must(t, s.LockAccount(f.ctx, a.ID, &until))
		must(t, f.accounts.Unlock(f.ctx, inst, a.ID, flows.ActorCLI))
		got, _ := s.GetAccount(f.ctx, a.ID)
		if got.LockedUntil != nil {
			t.Errorf("still locked until %v", got.LockedUntil)
		}
		if err := f.accounts.Unlock(f.ctx, inst, "no-such-id", flows.ActorCLI); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unlock of a missing account: %v", err)
		}
	})
}

func TestValidEmail(t *testing.T) {
	for _, tt := range []struct {
		email string
		ok    bool
	}{
		{"ann@example.org", true},
		{"ann.o'neil+tickets@sub.example.org", true},
		{"", false},
		{"ann", false},
		{"ann@", false},
		{"@example.org", false},
		{"Ann <ann@example.org>", false},
		{"ann@example.org ", false},
		{"ann@.example.org", false},
		{"a b@example.org", false},
		{"ann@example.org\r\nBcc: x@y.z", false},
	} {
		if got := flows.ValidEmail(tt.email); got != tt.ok {
			t.Errorf("ValidEmail(%q) = %v", tt.email, got)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
