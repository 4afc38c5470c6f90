package storage

import (
	"context"
	"time"
)

// EmailTemplate is an institution's replacement for the built-in templates of
// one email document class in one locale. A part left empty keeps the
// built-in one. Overrides are checked (parsed and rendered against sample
// data) before they are stored: the store keeps what it is given.
//
// An institution may keep several documents of one class ("document types",
// e.g. a password_reset for each of two brands), each named and written in
// any of the locales. The document named "" is the class's default document:
// the one an email uses unless it names another. The key of an override is
// institution, class, document and locale.
type EmailTemplate struct {
	InstitutionID string    `db:"institution_id"`
	Class         string    `db:"class"`    // document class, e.g. "password_reset"
	Document      string    `db:"document"` // the document's name, "" for the default one
	Locale        string    `db:"locale"`   // "en", "fr", "de" or "it"
	Subject       string    `db:"subject"`
	TextBody      string    `db:"text_body"`
	HTMLBody      string    `db:"html_body"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

// TemplateStore keeps an institution's email template overrides.
type TemplateStore interface {
	// PutEmailTemplate creates the override of t.Class, t.Document and
	// t.Locale, or replaces every part of the existing one. InstitutionID
	// and the timestamps are assigned (CreatedAt is kept on replacement).
	PutEmailTemplate(ctx context.Context, t *EmailTemplate) error
	// GetEmailTemplate returns the override of a class's document in a
	// locale, or ErrNotFound.
	GetEmailTemplate(ctx context.Context, class, document, locale string) (*EmailTemplate, error)
	// ListEmailTemplates returns the institution's overrides ordered by
	// class, then document, then locale.
	ListEmailTemplates(ctx context.Context) ([]EmailTemplate, error)
	// DeleteEmailTemplate removes an override; ErrNotFound when there is none.
	DeleteEmailTemplate(ctx context.Context, class, document, locale string) error
}
