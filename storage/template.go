package storage

import (
	"context"
	"time"
)

// EmailTemplate is an institution's replacement for the built-in templates of
// one email document class in one locale. A part left empty keeps the
// built-in one. Overrides are checked (parsed and rendered against sample
// data) before they are stored: the store keeps what it is given.
type EmailTemplate struct {
	InstitutionID string    `db:"institution_id"`
	Class         string    `db:"class"`  // document class, e.g. "password_reset"
	Locale        string    `db:"locale"` // "en", "fr", "de" or "it"
	Subject       string    `db:"subject"`
	TextBody      string    `db:"text_body"`
	HTMLBody      string    `db:"html_body"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

// TemplateStore keeps an institution's email template overrides.
type TemplateStore interface {
	// PutEmailTemplate creates the override of t.Class and t.Locale, or
	// replaces every part of the existing one. InstitutionID and the
	// timestamps are assigned (CreatedAt is kept on replacement).
	PutEmailTemplate(ctx context.Context, t *EmailTemplate) error
	// GetEmailTemplate returns the override of a class in a locale, or
	// ErrNotFound.
	GetEmailTemplate(ctx context.Context, class, locale string) (*EmailTemplate, error)
	// ListEmailTemplates returns the institution's overrides ordered by
	// class, then locale.
	ListEmailTemplates(ctx context.Context) ([]EmailTemplate, error)
	// DeleteEmailTemplate removes an override; ErrNotFound when there is none.
	DeleteEmailTemplate(ctx context.Context, class, locale string) error
}
