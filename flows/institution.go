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
	// Tx and In record every change of settings in the institution's audit
	// trail, and store an uploaded logo or favicon with the settings that
	// name it, in the change's transaction; cmd/usher wires
	// func(id string) flows.InstitutionRecords { return store.In(id) }.
	// Without them changes are not recorded and uploads are refused.
	Tx storage.Transactor
	In func(institutionID string) InstitutionRecords
}

// InstitutionRecords is what a change of settings writes beside the
// institution: its audit event, its uploaded logo and favicon.
type InstitutionRecords interface {
	RecordAudit(ctx context.Context, e *storage.AuditEvent) error
	PutAsset(ctx context.Context, a *storage.Asset) error
	DeleteAsset(ctx context.Context, name string) error
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
//
// Branding: an empty DisplayName, LogoURL, AccentColour, SupportURL or
// FooterText removes it, and so does an empty Logo or Favicon. A logo URL
// replaces an uploaded logo and the other way round. An accent colour that
// would make controls fail WCAG AA contrast is refused with the reason
// (templates.CheckAccent).
type InstitutionChanges struct {
	Name                 *string
	DisplayName          *string
	LogoURL              *string // an https URL
	Logo                 []byte  // an uploaded logo (PNG, JPEG, GIF, WebP, SVG; at most 256 KiB); nil: unchanged
	Favicon              []byte  // an uploaded favicon (the same, or ICO; at most 64 KiB); nil: unchanged
	AccentColour         *string // "#RRGGBB"
	SupportURL           *string // an https URL
	FooterText           *string
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
	images, err := ch.validate()
	if err != nil {
		return nil, err
	}
	if len(images) > 0 && (x.Tx == nil || x.In == nil) {
		return nil, errors.New("institutions: no store for uploaded images (Tx and In)")
	}
	for attempt := 0; ; attempt++ {
		inst, err := x.Store.GetInstitutionBySlug(ctx, slug)
		if err != nil {
			return nil, err
		}
		ch.apply(inst, images)
		err = x.store(ctx, inst, ch, images, actor)
		if errors.Is(err, storage.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return inst, nil
	}
}

// store writes the changed institution with its uploaded images (nil:
// removed) and its audit event, in one transaction.
func (x *Institutions) store(ctx context.Context, inst *storage.Institution, ch InstitutionChanges,
	images map[string]*brandImage, actor Actor) error {
	if x.Tx == nil || x.In == nil {
		return x.Store.UpdateInstitution(ctx, inst)
	}
	return x.Tx.InTx(ctx, func(ctx context.Context) error {
		records := x.In(inst.ID)
		if err := storeImages(ctx, records, images); err != nil {
			return err
		}
		if err := x.Store.UpdateInstitution(ctx, inst); err != nil {
			return err
		}
		return records.RecordAudit(ctx, &storage.AuditEvent{Actor: string(actor), Action: "settings_changed",
			Details: storage.Details{"changed": strings.Join(ch.names(), " ")}})
	})
}

// Empty reports whether ch changes nothing.
func (ch InstitutionChanges) Empty() bool { return len(ch.names()) == 0 }

// names lists the settings ch changes.
func (ch InstitutionChanges) names() []string {
	var out []string
	given := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	given("name", ch.Name != nil)
	given("display_name", ch.DisplayName != nil)
	given("logo", ch.LogoURL != nil || ch.Logo != nil)
	given("favicon", ch.Favicon != nil)
	given("accent_colour", ch.AccentColour != nil)
	given("support_url", ch.SupportURL != nil)
	given("footer_text", ch.FooterText != nil)
	given("two_factor", ch.TwoFactor != nil)
	given("customer_two_factor", ch.CustomerTwoFactor != nil)
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
// admin API lists them) and an English line (the command line prints them),
// and returns the checked uploads by asset name (nil: removed).
func (ch InstitutionChanges) validate() (map[string]*brandImage, error) {
	var v invalid
	var lines []error
	var refuse refuser = func(field, id string, args map[string]string, line error) {
		v.add(field, id, args)
		lines = append(lines, line)
	}
	if ch.Name != nil && (*ch.Name == "" || len(*ch.Name) > 200) {
		refuse("name", "institution.name_invalid", nil, errors.New("name: required, at most 200 bytes"))
	}
	ch.validateBrand(refuse)
	images := ch.checkImages(refuse)
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
		return images, nil
	}
	return nil, &InvalidError{Problems: v.problems, detail: errors.Join(lines...).Error()}
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

// apply changes inst's settings; images are the checked uploads by asset
// name (nil: removed).
func (ch InstitutionChanges) apply(inst *storage.Institution, images map[string]*brandImage) {
	s := &inst.Settings
	if ch.Name != nil {
		inst.Name = *ch.Name
	}
	ch.applyBrand(s, images)
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
