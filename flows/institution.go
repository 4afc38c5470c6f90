package flows

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/usher-idp/usher/storage"
)

// InstitutionStore is what configuring institutions needs of the storage.
type InstitutionStore interface {
	InstitutionFinder
	CreateInstitution(ctx context.Context, inst *storage.Institution) error
	UpdateInstitution(ctx context.Context, inst *storage.Institution) error
}

// Institutions is how the service team creates and configures institutions.
type Institutions struct {
	Store InstitutionStore
}

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// ErrInstitutionExists: the slug is taken.
var ErrInstitutionExists = errors.New("an institution with this slug exists")

// Create creates an institution with the default settings.
func (x *Institutions) Create(ctx context.Context, slug, name string) (*storage.Institution, error) {
	var problems []error
	if !slugPattern.MatchString(slug) {
		problems = append(problems, fmt.Errorf("slug %q: use 1-63 lower-case letters, digits and inner hyphens", slug))
	}
	if name == "" || len(name) > 200 {
		problems = append(problems, errors.New("name: required, at most 200 bytes"))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	inst := &storage.Institution{Slug: slug, Name: name, Settings: storage.DefaultSettings()}
	inst.Settings.DisplayName = name
	err := x.Store.CreateInstitution(ctx, inst)
	if errors.Is(err, storage.ErrDuplicate) {
		return nil, fmt.Errorf("institution %q: %w", slug, ErrInstitutionExists)
	}
	if err != nil {
		return nil, err
	}
	return inst, nil
}

// InstitutionChanges are the settings to change; nil fields stay as they are.
type InstitutionChanges struct {
	Name                 *string
	TwoFactor            *bool
	CustomerTwoFactor    *bool
	ManualPassword       *bool
	Registration         *bool
	TemporaryPasswordTTL *time.Duration
	ResetLinkTTL         *time.Duration
	ActivationLinkTTL    *time.Duration
	PasswordMinLength    *int
	PasswordUpper        *bool
	PasswordDigit        *bool
	PasswordSpecial      *bool
	PasswordRefuseCommon *bool
}

// Update applies changes to the institution with this slug. It rereads and
// retries when another change landed in between, so no change is lost.
func (x *Institutions) Update(ctx context.Context, slug string, ch InstitutionChanges) (*storage.Institution, error) {
	if err := ch.validate(); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		inst, err := x.Store.GetInstitutionBySlug(ctx, slug)
		if err != nil {
			return nil, err
		}
		ch.apply(inst)
		err = x.Store.UpdateInstitution(ctx, inst)
		if errors.Is(err, storage.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return inst, nil
	}
}

func (ch InstitutionChanges) validate() error {
	var problems []error
	if ch.Name != nil && (*ch.Name == "" || len(*ch.Name) > 200) {
		problems = append(problems, errors.New("name: required, at most 200 bytes"))
	}
	within := func(field string, d *time.Duration, lo, hi time.Duration) {
		if d != nil && (*d < lo || *d > hi) {
			problems = append(problems, fmt.Errorf("%s: must be between %s and %s, got %s", field, lo, hi, *d))
		}
	}
	within("temporary password lifetime", ch.TemporaryPasswordTTL, time.Minute, 30*24*time.Hour)
	within("reset link lifetime", ch.ResetLinkTTL, 5*time.Minute, 30*24*time.Hour)
	within("activation link lifetime", ch.ActivationLinkTTL, time.Hour, 90*24*time.Hour)
	if ch.PasswordMinLength != nil && (*ch.PasswordMinLength < 8 || *ch.PasswordMinLength > 128) {
		problems = append(problems, fmt.Errorf("password minimum length: must be between 8 and 128, got %d", *ch.PasswordMinLength))
	}
	return errors.Join(problems...)
}

func (ch InstitutionChanges) apply(inst *storage.Institution) {
	s := &inst.Settings
	if ch.Name != nil {
		inst.Name = *ch.Name
	}
	set(&s.TwoFactor, ch.TwoFactor)
	set(&s.CustomerTwoFactor, ch.CustomerTwoFactor)
	set(&s.ManualPassword, ch.ManualPassword)
	set(&s.Registration, ch.Registration)
	setDuration(&s.TemporaryPasswordTTL, ch.TemporaryPasswordTTL)
	setDuration(&s.ResetLinkTTL, ch.ResetLinkTTL)
	setDuration(&s.ActivationLinkTTL, ch.ActivationLinkTTL)
	set(&s.Password.MinLength, ch.PasswordMinLength)
	set(&s.Password.RequireUpper, ch.PasswordUpper)
	set(&s.Password.RequireDigit, ch.PasswordDigit)
	set(&s.Password.RequireSpecial, ch.PasswordSpecial)
	set(&s.Password.RefuseCommon, ch.PasswordRefuseCommon)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func setDuration(dst *storage.Duration, v *time.Duration) {
	if v != nil {
		*dst = storage.Duration(*v)
	}
}
