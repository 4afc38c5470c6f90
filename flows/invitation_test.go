package flows_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// shop registers a point of sale with this client ID in inst.
func (f *fixture) shop(t *testing.T, inst *storage.Institution, id string) {
	t.Helper()
	must(t, f.store.In(inst.ID).CreateClient(f.ctx, &storage.Client{ID: id, Name: "Shop " + id,
		AccountKind: storage.Customer, RedirectURIs: storage.List{"https://shop.example/cb"},
		Scopes: storage.List{"openid"}, PointOfSale: true, HomeURL: "https://shop.example/"}))
}

// actions lists "actor action" of an account's audit events, newest first.
func (f *fixture) actions(t *testing.T, inst *storage.Institution, accountID string) []string {
	t.Helper()
	events, err := f.store.In(inst.ID).ListAudit(f.ctx, storage.AuditFilter{AccountID: accountID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Actor+" "+e.Action)
	}
	return out
}

// Creating an invited account lists every problem of the account and of
// the point of sale at once, creates nothing when it refuses, and records
// who invited.
func TestCreateInvited(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		actor := flows.OperatorActor("op-1")
		n := flows.NewAccount{Kind: storage.Customer, Email: "pat@example.org", ExternalRef: "C-7"}
		if _, err := f.invitations.CreateInvited(f.ctx, inst, n, "", "", actor); !errors.Is(err, flows.ErrNoPointOfSale) {
			t.Errorf("an institution without a point of sale: %v", err)
		}
		f.shop(t, inst, "shop-a")
		f.shop(t, inst, "shop-b")
		bad := flows.NewAccount{Kind: "admin", Email: "nope", ExternalRef: "C-7"}
		_, err := f.invitations.CreateInvited(f.ctx, inst, bad, "shop-x", "", actor)
		want := []string{"kind:account.kind_invalid", "email:account.email_invalid", "point_of_sale:account.point_of_sale_unknown"}
		if got := problemIDs(err); !equal(got, want) {
			t.Errorf("bad input: %v, want %v", got, want)
		}
		_, err = f.invitations.CreateInvited(f.ctx, inst, n, "", "", actor)
		if got := problemIDs(err); !equal(got, []string{"point_of_sale:account.point_of_sale_required"}) {
			t.Errorf("two points of sale and none named: %v", err)
		}
		_, err = f.invitations.CreateInvited(f.ctx, inst, n, "shop-b", "no-such-document", actor)
		if got := problemIDs(err); !equal(got, []string{"document:account.document_unknown"}) {
			t.Errorf("an unknown document: %v", err)
		}
		if list, _ := f.accounts.List(f.ctx, inst, storage.AccountFilter{}); len(list) != 0 {
			t.Fatalf("the refusals created %d accounts", len(list))
		}
		pat, err := f.invitations.CreateInvited(f.ctx, inst, n, "shop-b", "", actor)
		if err != nil || pat.Status != storage.Pending || pat.PasswordHash != "" || pat.ExternalRef != "C-7" {
			t.Fatalf("invited: %+v %v", pat, err)
		}
		if got := f.actions(t, inst, pat.ID); !equal(got, []string{"operator:op-1 invitation_sent", "operator:op-1 account_created"}) &&
			!equal(got, []string{"operator:op-1 account_created", "operator:op-1 invitation_sent"}) {
			t.Errorf("audit events: %v", got)
		}
		again := flows.NewAccount{Kind: storage.Customer, Email: "other@example.org", ExternalRef: "C-7"}
		_, err = f.invitations.CreateInvited(f.ctx, inst, again, "shop-b", "", actor)
		if got := conflictIDs(err); !equal(got, []string{"external_ref:account.external_ref_taken"}) {
			t.Errorf("a taken reference: %v", err)
		}
		op, err := f.invitations.CreateInvited(f.ctx, inst, flows.NewAccount{Kind: storage.Operator, Email: "pat@example.org"},
			"shop-a", "", flows.ClientActor("box-office"))
		if err != nil || op.Kind != storage.Operator || op.Status != storage.Pending {
			t.Errorf("an invited operator: %+v %v", op, err)
		}
	})
}

// Only an account without a password is invited: one with a password is
// a conflict, a disabled one a state that does not allow it.
func TestInviteRefuses(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		f.shop(t, inst, "shop")
		ann := f.customer(t, inst, "ann@example.org")
		err := f.invitations.Invite(f.ctx, inst, ann.ID, "", "", flows.ActorCLI)
		if got := conflictIDs(err); !equal(got, []string{":invitation.has_password"}) {
			t.Errorf("an account with a password: %v", err)
		}
		pat, err := f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: "pat@example.org"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		must(t, f.accounts.Disable(f.ctx, inst, pat.ID, flows.ActorCLI))
		if id := stateID(f.invitations.Invite(f.ctx, inst, pat.ID, "", "", flows.ActorCLI)); id != "account.disabled" {
			t.Errorf("a disabled account: %q", id)
		}
		if err := f.invitations.Invite(f.ctx, inst, "no-such-account", "", "", flows.ActorCLI); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("an unknown account: %v", err)
		}
		must(t, f.accounts.Enable(f.ctx, inst, pat.ID, flows.ActorCLI))
		must(t, f.invitations.Invite(f.ctx, inst, pat.ID, "shop", "", flows.ClientActor("box-office")))
		if got := f.actions(t, inst, pat.ID); !slices.Contains(got, "client:box-office invitation_sent") {
			t.Errorf("audit events: %v", got)
		}
	})
}

// The institution chooses the class of its invitations.
func TestInvitationEmailSetting(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.institution(t, "opera")
		for _, bad := range []string{"", "account_activation", "nope"} {
			_, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{InvitationEmail: &bad}, flows.ActorCLI)
			if got := problemIDs(err); !equal(got, []string{"invitation_email:institution.invitation_email_invalid"}) {
				t.Errorf("%q: %v", bad, err)
			}
		}
		reset := "password_reset"
		inst, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{InvitationEmail: &reset}, flows.ActorCLI)
		if err != nil || inst.Settings.InvitationEmail != "password_reset" {
			t.Errorf("set to password_reset: %v %v", inst, err)
		}
	})
}
