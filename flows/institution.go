package flows

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// InstitutionStore is what configuring institutions needs of the storage.
type InstitutionStore interface {
	InstitutionFinder
	CreateInstitution(ctx context.Context, inst *storage.Institution) error
	UpdateInstitution(ctx context.Context, inst *storage.Institution) error
}

// Institutions is how the service team creates and configures institutions
// (and operators, through the admin API, some of the settings).
type Institutions struct {
	Store InstitutionStore
	// Tx and Audit record every change of settings in the institution's
	// audit trail, in the change's transaction (either nil: not recorded).
	Tx    storage.Transactor
	Audit func(institutionID string) AuditTrail
}

// AuditTrail is where changes are recorded: an institution's audit events.
type AuditTrail interface {
	RecordAudit(ctx context.Context, e *storage.AuditEvent) error
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
	// InvitationEmail is the email class of invitations: account_invitation
	// or password_reset (the reset's document, as some box offices want).
	InvitationEmail *string
}

// Update applies changes to the institution with this slug, recorded as
// done by actor. It rereads and retries when another change landed in
// between, so no change is lost.
func (x *Institutions) Update(ctx context.Context, slug string, ch InstitutionChanges, actor Actor) (*storage.Institution, error) {
	if err := ch.validate(); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		inst, err := x.Store.GetInstitutionBySlug(ctx, slug)
		if err != nil {
			return nil, err
		}
		ch.apply(inst)
		err = x.store(ctx, inst, ch, actor)
		if errors.Is(err, storage.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return inst, nil
	}
}

// store writes the changed institution with its audit event.
func (x *Institutions) store(ctx context.Context, inst *storage.Institution, ch InstitutionChanges, actor Actor) error {
	if x.Tx == nil || x.Audit == nil {
		return x.Store.UpdateInstitution(ctx, inst)
	}
	return x.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := x.Store.UpdateInstitution(ctx, inst); err != nil {
			return err
		}
		return x.Audit(inst.ID).RecordAudit(ctx, &storage.AuditEvent{Actor: string(actor), Action: "settings_changed",
			Details: storage.Details{"changed": strings.Join(ch.names(), " ")}})
	})
}

// names lists the settings ch changes.
func (ch InstitutionChanges) names() []string {
	var out []string
	given := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	given("name", ch.Name != nil)
	given("two_factor", ch.TwoFactor != nil)
	given("manual_password", ch.ManualPassword != nil)
	given("registration", ch.Registration != nil)
	given("temporary_password_ttl", ch.TemporaryPasswordTTL != nil)
	given("reset_link_ttl", ch.ResetLinkTTL != nil)
	given("activation_link_ttl", ch.ActivationLinkTTL != nil)
	given("password.min_length", ch.PasswordMinLength != nil)
	given("password.require_upper", ch.PasswordUpper != nil)
	given("password.require_digit", ch.PasswordDigit != nil)
	given("password.require_special", ch.PasswordSpecial != nil)
	given("password.refuse_common", ch.PasswordRefuseCommon != nil)
	given("invitation_email", ch.InvitationEmail != nil)
	return out
}

// validate refuses the changes out of bounds, each with its problem (the
// admin API lists them) and an English line (the command line prints them).
func (ch InstitutionChanges) validate() error {
	var v invalid
	var lines []error
	refuse := func(field, id string, args map[string]string, line error) {
		v.add(field, id, args)
		lines = append(lines, line)
	}
	if ch.Name != nil && (*ch.Name == "" || len(*ch.Name) > 200) {
		refuse("name", "institution.name_invalid", nil, errors.New("name: required, at most 200 bytes"))
	}
	within := func(field, what string, d *time.Duration, lo, hi time.Duration) {
		if d != nil && (*d < lo || *d > hi) {
			refuse(field, "institution.lifetime_range", map[string]string{"min": shortDuration(lo), "max": shortDuration(hi)},
				fmt.Errorf("%s: must be between %s and %s, got %s", what, lo, hi, *d))
		}
	}
	within("temporary_password_ttl", "temporary password lifetime", ch.TemporaryPasswordTTL, time.Minute, 30*24*time.Hour)
	within("reset_link_ttl", "reset link lifetime", ch.ResetLinkTTL, 5*time.Minute, 30*24*time.Hour)
	within("activation_link_ttl", "activation link lifetime", ch.ActivationLinkTTL, time.Hour, 90*24*time.Hour)
	if ch.PasswordMinLength != nil && (*ch.PasswordMinLength < 8 || *ch.PasswordMinLength > 128) {
		refuse("password.min_length", "institution.min_length_range", map[string]string{"min": "8", "max": "128"},
			fmt.Errorf("password minimum length: must be between 8 and 128, got %d", *ch.PasswordMinLength))
	}
	if e := ch.InvitationEmail; e != nil && *e != string(templates.ClassAccountInvitation) && *e != string(templates.ClassPasswordReset) {
		refuse("invitation_email", "institution.invitation_email_invalid", nil,
			fmt.Errorf("invitation email: must be account_invitation or password_reset, got %q", *e))
	}
	if len(v.problems) == 0 {
		return nil
	}
	return &InvalidError{Problems: v.problems, detail: errors.Join(lines...).Error()}
}

// shortDuration writes d without its zero units: "1m", "48h", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
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
	set(&s.InvitationEmail, ch.InvitationEmail)
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
