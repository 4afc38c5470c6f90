package flows_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

func TestCreateInstitution(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "city-opera")
		if inst.Settings.ResetLinkTTL.Std() != 48*time.Hour || inst.Settings.DisplayName != "Institution city-opera" {
			t.Errorf("defaults: %+v", inst.Settings)
		}
		if _, err := f.institutions.Create(f.ctx, "city-opera", "Again"); !errors.Is(err, flows.ErrInstitutionExists) {
			t.Errorf("duplicate slug: %v", err)
		}
		for _, slug := range []string{"", "Opera", "-opera", "opera-", "op era", "opéra", strings.Repeat("a", 64)} {
			if _, err := f.institutions.Create(f.ctx, slug, "x"); err == nil || !strings.Contains(err.Error(), "slug") {
				t.Errorf("slug %q: %v", slug, err)
			}
		}
		list, _ := f.store.ListInstitutions(f.ctx)
		if len(list) != 1 {
			t.Errorf("refused institutions were created: %d", len(list))
		}
	})
}

func TestUpdateInstitutionRefusesOutOfBounds(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.institution(t, "opera")
		short, long, tiny := time.Second, 100*24*time.Hour, 4
		empty := ""
		_, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{
			ResetLinkTTL: &short, ActivationLinkTTL: &long, PasswordMinLength: &tiny, Name: &empty}, flows.ActorCLI)
		if err == nil {
			t.Fatal("accepted")
		}
		for _, want := range []string{"reset link", "activation link", "minimum length", "name"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not report %q", err, want)
			}
		}
		inst, _ := f.store.GetInstitutionBySlug(f.ctx, "opera")
		if inst.Version != 1 {
			t.Errorf("refused update changed the institution (version %d)", inst.Version)
		}
	})
}

// Concurrent updates of different settings all land: Update rereads and
// retries on a version conflict.
func TestUpdateInstitutionConcurrently(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.institution(t, "opera")
		on := true
		changes := []flows.InstitutionChanges{
			{TwoFactor: &on}, {ManualPassword: &on}, {PasswordUpper: &on}, {PasswordDigit: &on},
		}
		var wg sync.WaitGroup
		errs := make([]error, len(changes))
		for i, ch := range changes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.institutions.Update(f.ctx, "opera", ch, flows.ActorCLI)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		inst, _ := f.store.GetInstitutionBySlug(f.ctx, "opera")
		s := inst.Settings
		if !s.TwoFactor || !s.ManualPassword || !s.Password.RequireUpper || !s.Password.RequireDigit || inst.Version != 5 {
			t.Errorf("lost an update: version %d, %+v", inst.Version, s)
		}
	})
}

// A change of settings is recorded with who made it and what it changed.
func TestUpdateInstitutionIsAudited(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		inst := f.institution(t, "opera")
		on, ttl := true, 30*time.Minute
		_, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{ManualPassword: &on, TemporaryPasswordTTL: &ttl},
			flows.ClientActor("box-office"))
		if err != nil {
			t.Fatal(err)
		}
		events, err := f.store.In(inst.ID).ListAudit(f.ctx, storage.AuditFilter{Action: "settings_changed"})
		if err != nil || len(events) != 1 || events[0].Actor != "client:box-office" ||
			events[0].Details["changed"] != "manual_password temporary_password_ttl" {
			t.Errorf("audit: %+v %v", events, err)
		}
	})
}
