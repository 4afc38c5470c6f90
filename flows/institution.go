package flows

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// InstitutionStore is what configuring institutions needs of the storage.
type InstitutionStore interface {
	InstitutionFinder
	CreateInstitution(ctx context.Context, inst *storage.Institution) error
	UpdateInstitution(ctx context.Context, inst *storage.Institution) error
}

// InstitutionAssetStore keeps an institution's uploaded logo and favicon.
type InstitutionAssetStore interface {
	PutAsset(ctx context.Context, a *storage.Asset) error
	DeleteAsset(ctx context.Context, name string) error
}

// Institutions is how the service team creates and configures institutions.
type Institutions struct {
	Store InstitutionStore
	// Tx and In store an uploaded logo or favicon with the settings that
	// name it, atomically; cmd/usher wires
	// func(id string) flows.InstitutionAssetStore { return store.In(id) }.
	Tx storage.Transactor
	In func(institutionID string) InstitutionAssetStore
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
	DisplayName  *string
	LogoURL      *string // an https URL
	Logo         []byte  // an uploaded logo (PNG, JPEG, GIF, WebP, SVG; at most 256 KiB); nil: unchanged
	Favicon      []byte  // an uploaded favicon (the same, or ICO; at most 64 KiB); nil: unchanged
	AccentColour *string // "#RRGGBB"
	SupportURL   *string // an https URL
	FooterText   *string

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
		err = x.update(ctx, inst, images)
		if errors.Is(err, storage.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return inst, nil
	}
}

// update writes the institution and, in the same transaction, its
// uploaded images (an empty one is removed).
func (x *Institutions) update(ctx context.Context, inst *storage.Institution, images map[string]*brandImage) error {
	if len(images) == 0 {
		return x.Store.UpdateInstitution(ctx, inst)
	}
	return x.Tx.InTx(ctx, func(ctx context.Context) error {
		s := x.In(inst.ID)
		for name, img := range images {
			var err error
			if img == nil {
				err = s.DeleteAsset(ctx, name)
				if errors.Is(err, storage.ErrNotFound) {
					err = nil
				}
			} else {
				err = s.PutAsset(ctx, &storage.Asset{Name: name, ContentType: img.contentType, Data: img.data, Digest: img.digest})
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return x.Store.UpdateInstitution(ctx, inst)
	})
}

// validate checks the changes, reporting every problem at once, and
// returns the uploaded images by asset name (nil: removed).
func (ch InstitutionChanges) validate() (map[string]*brandImage, error) {
	var problems []error
	if ch.Name != nil && (*ch.Name == "" || len(*ch.Name) > 200) {
		problems = append(problems, errors.New("name: required, at most 200 bytes"))
	}
	problems = append(problems, ch.validateBrand()...)
	images := map[string]*brandImage{}
	for _, u := range []struct {
		name, what string
		data       []byte
		max        int
		icon       bool
	}{{storage.AssetLogo, "logo", ch.Logo, maxLogoBytes, false}, {storage.AssetFavicon, "favicon", ch.Favicon, maxFaviconBytes, true}} {
		switch {
		case u.data == nil:
		case len(u.data) == 0:
			images[u.name] = nil
		default:
			img, err := checkBrandImage(u.what, u.data, u.max, u.icon)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			images[u.name] = &img
		}
	}
	return images, ch.validateRest(problems)
}

// validateBrand checks the branding texts, links and colour.
func (ch InstitutionChanges) validateBrand() []error {
	var problems []error
	text := func(field string, v *string, max int) {
		if v != nil && (len(*v) > max || strings.IndexFunc(*v, unicode.IsControl) >= 0) {
			problems = append(problems, fmt.Errorf("%s: at most %d bytes on one line", field, max))
		}
	}
	text("display name", ch.DisplayName, 200)
	text("footer text", ch.FooterText, 300)
	link := func(field string, v *string) {
		if v == nil || *v == "" {
			return
		}
		if u, err := url.Parse(*v); err != nil || u.Scheme != "https" || u.Host == "" || len(*v) > 2048 {
			problems = append(problems, fmt.Errorf("%s: an https URL of at most 2048 bytes, got %q", field, *v))
		}
	}
	link("logo URL", ch.LogoURL)
	link("support URL", ch.SupportURL)
	if ch.LogoURL != nil && *ch.LogoURL != "" && len(ch.Logo) > 0 {
		problems = append(problems, errors.New("logo: give a URL or a file, not both"))
	}
	if ch.AccentColour != nil && *ch.AccentColour != "" {
		c, ok := templates.ParseColour(*ch.AccentColour)
		switch {
		case !ok:
			problems = append(problems, fmt.Errorf("accent colour: use #RRGGBB, got %q", *ch.AccentColour))
		case templates.CheckAccent(c) != nil:
			problems = append(problems, fmt.Errorf("accent colour: %w", templates.CheckAccent(c)))
		}
	}
	return problems
}

func (ch InstitutionChanges) validateRest(problems []error) error {
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

// apply changes inst's settings; images are the checked uploads by asset
// name (nil: removed).
func (ch InstitutionChanges) apply(inst *storage.Institution, images map[string]*brandImage) {
	s := &inst.Settings
	if ch.Name != nil {
		inst.Name = *ch.Name
	}
	set(&s.DisplayName, ch.DisplayName)
	set(&s.SupportURL, ch.SupportURL)
	set(&s.FooterText, ch.FooterText)
	if ch.AccentColour != nil {
		s.Colour = ""
		if c, ok := templates.ParseColour(*ch.AccentColour); ok {
			s.Colour = c.String()
		}
	}
	if ch.LogoURL != nil {
		s.LogoURL, s.Logo = *ch.LogoURL, ""
	}
	if img, ok := images[storage.AssetLogo]; ok {
		s.Logo = img.digestOrNone()
		if s.Logo != "" {
			s.LogoURL = ""
		}
	}
	if img, ok := images[storage.AssetFavicon]; ok {
		s.Favicon = img.digestOrNone()
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
