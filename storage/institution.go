package storage

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"time"
)

// Institution is the tenant: a theatre, a museum, a club. Every other record
// belongs to exactly one institution.
type Institution struct {
	ID        string    `db:"id"`
	Slug      string    `db:"slug"` // lower-case letters, digits and '-', unique
	Name      string    `db:"name"`
	Settings  Settings  `db:"settings"`
	Version   int64     `db:"version"` // raised by every change, keys included; caches compare it
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// ShownName is the name people see: the display name, else the name.
func (i *Institution) ShownName() string {
	if i.Settings.DisplayName != "" {
		return i.Settings.DisplayName
	}
	return i.Name
}

// Settings are an institution's branding and policies. They are stored as one
// JSON document, so adding a setting needs no migration; DefaultSettings
// gives every field its product default.
type Settings struct {
	DisplayName string `json:"display_name,omitempty"`
	LogoURL     string `json:"logo_url,omitempty"` // an https URL; an uploaded logo (Logo) takes precedence
	// Logo and Favicon are the digests of the uploaded logo and favicon
	// (the institution's assets, see AssetStore), "" when there is none.
	Logo       string `json:"logo,omitempty"`
	Favicon    string `json:"favicon,omitempty"`
	Colour     string `json:"colour,omitempty"`      // the accent colour, "#1a2b3c"
	SupportURL string `json:"support_url,omitempty"` // an https link to the institution's help
	FooterText string `json:"footer_text,omitempty"` // a line at the foot of every page and email

	Locales        []string `json:"locales"`         // offered languages; the first is the default
	TwoFactor      bool     `json:"two_factor"`      // operators must use TOTP
	Registration   bool     `json:"registration"`    // customers may register themselves
	ManualPassword bool     `json:"manual_password"` // operators may set a customer's password
	// CustomerTwoFactor lets customers turn a second factor on from their
	// account page (operators always may).
	CustomerTwoFactor bool `json:"customer_two_factor"`
	// InvitationEmail is the document class of invitations:
	// "account_invitation" (the default, when empty) or "password_reset",
	// the same document as a reset, as some box offices want.
	InvitationEmail string `json:"invitation_email,omitempty"`
	// DevDemo marks the demo institution that `usher serve --dev` created:
	// dev mode never puts its demo accounts into an institution without it.
	DevDemo bool `json:"dev_demo,omitempty"`

	TemporaryPasswordTTL Duration `json:"temporary_password_ttl"`
	ResetLinkTTL         Duration `json:"reset_link_ttl"`
	ActivationLinkTTL    Duration `json:"activation_link_ttl"` // activation and invitation links

	Password PasswordPolicy `json:"password"`
	Lockout  LockoutPolicy  `json:"lockout"`
	Session  SessionPolicy  `json:"session"`
	Email    EmailSender    `json:"email"`
}

// PasswordPolicy is what a new password must satisfy.
type PasswordPolicy struct {
	MinLength      int  `json:"min_length"`
	RequireUpper   bool `json:"require_upper"`
	RequireDigit   bool `json:"require_digit"`
	RequireSpecial bool `json:"require_special"`
	RefuseCommon   bool `json:"refuse_common"` // refuse the 10,000 most common passwords
}

// LockoutPolicy bounds password guessing, per account and per source address.
type LockoutPolicy struct {
	FreeFailures    int      `json:"free_failures"`    // failures answered without delay
	LockAfter       int      `json:"lock_after"`       // failures that lock the account
	LockDuration    Duration `json:"lock_duration"`    // the lock lifts itself after this
	AddressFailures int      `json:"address_failures"` // failures per source address per LockDuration
}

// SessionPolicy sets how long a browser session at Usher lasts.
type SessionPolicy struct {
	Lifetime    Duration `json:"lifetime"`     // absolute, from sign-in
	IdleTimeout Duration `json:"idle_timeout"` // since the last request
}

// EmailSender is the From of the institution's emails; empty fields fall back
// to the server's configuration.
type EmailSender struct {
	From    string `json:"from,omitempty"`
	Name    string `json:"name,omitempty"`
	ReplyTo string `json:"reply_to,omitempty"`
}

// DefaultSettings returns the product defaults of a new institution.
func DefaultSettings() Settings {
	return Settings{
		Locales:              []string{"en", "fr", "de", "it"},
		Registration:         true,
		TemporaryPasswordTTL: Duration(60 * time.Minute),
		ResetLinkTTL:         Duration(48 * time.Hour),
		ActivationLinkTTL:    Duration(7 * 24 * time.Hour),
		Password: PasswordPolicy{
			MinLength:    10,
			RefuseCommon: true,
		},
		Lockout: LockoutPolicy{
			FreeFailures:    5,
			LockAfter:       20,
			LockDuration:    Duration(15 * time.Minute),
			AddressFailures: 100,
		},
		Session: SessionPolicy{
			Lifetime:    Duration(24 * time.Hour),
			IdleTimeout: Duration(8 * time.Hour),
		},
	}
}

// DefaultLocale is the institution's first locale, or "en".
func (s Settings) DefaultLocale() string {
	if len(s.Locales) > 0 {
		return s.Locales[0]
	}
	return "en"
}

// Value implements driver.Valuer.
func (s Settings) Value() (driver.Value, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// Scan implements sql.Scanner. Fields missing from the stored document keep
// their defaults, so settings added later need no data migration.
func (s *Settings) Scan(src any) error {
	*s = DefaultSettings()
	return scanJSON(src, s)
}

// InstitutionStore keeps institutions. It is not scoped: it is how a request
// finds the institution it addresses.
type InstitutionStore interface {
	// CreateInstitution stores inst, assigning ID (when empty), Version 1 and
	// the timestamps. ErrDuplicate when the slug is taken.
	CreateInstitution(ctx context.Context, inst *Institution) error
	// GetInstitution returns the institution with this ID, or ErrNotFound.
	GetInstitution(ctx context.Context, id string) (*Institution, error)
	// GetInstitutionBySlug returns the institution with this slug, or ErrNotFound.
	GetInstitutionBySlug(ctx context.Context, slug string) (*Institution, error)
	// ListInstitutions returns every institution, ordered by slug.
	ListInstitutions(ctx context.Context) ([]Institution, error)
	// UpdateInstitution writes Name and Settings if inst.Version is still the
	// stored version (ErrConflict otherwise), then raises inst.Version and
	// UpdatedAt. ErrNotFound when there is no such institution.
	UpdateInstitution(ctx context.Context, inst *Institution) error
	// TouchInstitution raises the version without other change (keys
	// rotated), so every replica rebuilds what it derived from the institution.
	TouchInstitution(ctx context.Context, id string) error
	// InstitutionVersion returns the current version: one cheap read that
	// tells a cache whether it is stale.
	InstitutionVersion(ctx context.Context, id string) (int64, error)
}
