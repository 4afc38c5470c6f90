package flows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// conflictIDs lists "field:id" of a ConflictError, nil for any other error.
func conflictIDs(err error) []string {
	var ce *flows.ConflictError
	if !errors.As(err, &ce) {
		return nil
	}
	return problemIDs(err)
}

// The external reference: set at creation (trimmed), unique per
// institution and kind (a taken one is a conflict, a taken email with it
// refused input listing both), the same value free for the other kind and
// in another institution, "" never taken; found by exact match.
func TestCreateWithExternalRef(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		opera, ballet := f.institution(t, "opera"), f.institution(t, "ballet")
		create := func(inst *storage.Institution, kind storage.AccountKind, email, ref string) (*storage.Account, error) {
			return f.accounts.Create(f.ctx, inst, flows.NewAccount{Kind: kind, Email: email, ExternalRef: ref}, flows.ActorCLI)
		}
		ann, err := create(opera, storage.Customer, "ann@example.org", "  C-1042 ")
		if err != nil || ann.ExternalRef != "C-1042" {
			t.Fatalf("create with a reference: %+v %v", ann, err)
		}
		_, err = create(opera, storage.Customer, "bob@example.org", "C-1042")
		if got := conflictIDs(err); !equal(got, []string{"external_ref:account.external_ref_taken"}) {
			t.Errorf("a taken reference: %v", err)
		}
		_, err = create(opera, storage.Customer, "ANN@example.org", "C-1042")
		if got := problemIDs(err); conflictIDs(err) != nil ||
			!equal(got, []string{"email:account.email_taken", "external_ref:account.external_ref_taken"}) {
			t.Errorf("a taken email and reference: %v", err)
		}
		for _, ok := range []struct {
			inst       *storage.Institution
			kind       storage.AccountKind
			email, ref string
		}{
			{opera, storage.Operator, "op@example.org", "C-1042"},
			{ballet, storage.Customer, "ann@example.org", "C-1042"},
			{opera, storage.Customer, "cy@example.org", ""},
			{opera, storage.Customer, "dee@example.org", ""},
		} {
			if _, err := create(ok.inst, ok.kind, ok.email, ok.ref); err != nil {
				t.Errorf("%s %s with %q: %v", ok.kind, ok.email, ok.ref, err)
			}
		}
		_, err = create(opera, storage.Customer, "eve@example.org", strings.Repeat("9", 101)+"\x01")
		if got := problemIDs(err); !equal(got, []string{"external_ref:account.external_ref_invalid"}) {
			t.Errorf("a reference too long, with a control character: %v", err)
		}
		list, err := f.accounts.List(f.ctx, opera, storage.AccountFilter{ExternalRef: " C-1042 "})
		if err != nil || len(list) != 2 {
			t.Errorf("search by reference: %d accounts, %v", len(list), err)
		}
		list, err = f.accounts.List(f.ctx, opera, storage.AccountFilter{ExternalRef: "C-104"})
		if err != nil || len(list) != 0 {
			t.Errorf("search by a part of a reference: %d accounts, %v", len(list), err)
		}
	})
}

// A reference changes later, recorded with its actor; "" clears it; the
// same value changes nothing; a taken one is a conflict and changes
// nothing.
func TestSetExternalRef(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		s := f.store.In(inst.ID)
		ann := f.customer(t, inst, "ann@example.org")
		bob := f.customer(t, inst, "bob@example.org")
		actor := flows.ClientActor("box-office")
		must(t, f.accounts.SetExternalRef(f.ctx, inst, ann.ID, "C-1", actor))
		must(t, f.accounts.SetExternalRef(f.ctx, inst, ann.ID, "C-1 ", actor))
		err := f.accounts.SetExternalRef(f.ctx, inst, bob.ID, "C-1", actor)
		if got := conflictIDs(err); !equal(got, []string{"external_ref:account.external_ref_taken"}) {
			t.Errorf("a taken reference: %v", err)
		}
		if got, _ := s.GetAccount(f.ctx, bob.ID); got.ExternalRef != "" || got.Version != bob.Version {
			t.Errorf("after the refusal: %q at version %d", got.ExternalRef, got.Version)
		}
		f.clock.Advance(time.Second) // the audit trail in order
		must(t, f.accounts.SetExternalRef(f.ctx, inst, ann.ID, "", actor))
		must(t, f.accounts.SetExternalRef(f.ctx, inst, bob.ID, "C-1", actor))
		err = f.accounts.SetExternalRef(f.ctx, inst, "no-such-account", "C-2", actor)
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("an unknown account: %v", err)
		}
		events, _ := s.ListAudit(f.ctx, storage.AuditFilter{AccountID: ann.ID})
		var changes []string
		for _, e := range events {
			if e.Action == "external_ref_changed" && e.Actor == "client:box-office" {
				changes = append(changes, e.Details["previous"]+">"+e.Details["external_ref"])
			}
		}
		if !equal(changes, []string{"C-1>", ">C-1"}) { // newest first
			t.Errorf("changes recorded: %v", changes)
		}
	})
}
