package mail

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Templates manages the institutions' overrides of the email templates, in
// their documents (see documents.go): `usher template` uses it.
type Templates struct {
	// In returns the overrides of one institution; cmd/usher wires
	// func(id string) storage.TemplateStore { return store.In(id) }.
	In     func(institutionID string) storage.TemplateStore
	Emails *templates.Emails
}

// Set checks src as the override of class in locale, in the document (""
// for the default one; a new name creates the document), and stores it,
// replacing any previous one. A broken override is refused with a
// *templates.TemplateError (the parser's message, or the bound it exceeds)
// and nothing is stored; so is a document name that is not valid.
func (t *Templates) Set(ctx context.Context, inst *storage.Institution, class templates.EmailClass, document, locale string,
	src templates.EmailSource) error {
	key, err := documentKey(document)
	if err != nil {
		return err
	}
	if err := t.Emails.Check(class, locale, src); err != nil {
		return err
	}
	return t.In(inst.ID).PutEmailTemplate(ctx, &storage.EmailTemplate{Class: string(class), Document: key, Locale: locale,
		Subject: src.Subject, TextBody: src.Text, HTMLBody: src.HTML})
}

// Delete removes an override of a document: the built-in templates apply
// again in that locale (a document left with no locale no longer exists).
// storage.ErrNotFound when there is none.
func (t *Templates) Delete(ctx context.Context, inst *storage.Institution, class templates.EmailClass, document, locale string) error {
	key, err := documentKey(document)
	if err != nil {
		return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	}
	return t.In(inst.ID).DeleteEmailTemplate(ctx, string(class), key, locale)
}

// List returns the institution's overrides, by class, document and locale.
func (t *Templates) List(ctx context.Context, inst *storage.Institution) ([]storage.EmailTemplate, error) {
	return t.In(inst.ID).ListEmailTemplates(ctx)
}

// Effective returns the templates the institution's emails of class in
// locale are drawn with when they name document: the override's parts where
// it has them, the built-in ones elsewhere. overridden tells whether there
// is an override. ErrUnknownDocument for a named document the institution
// does not have.
func (t *Templates) Effective(ctx context.Context, inst *storage.Institution, class templates.EmailClass, document, locale string) (src templates.EmailSource, overridden bool, err error) {
	builtin, ok := t.Emails.Source(class)
	if !ok {
		return src, false, fmt.Errorf("unknown email class %q", class)
	}
	key, err := documentKey(document)
	if err != nil {
		return src, false, fmt.Errorf("%w: %w", ErrUnknownDocument, err)
	}
	ov, err := findOverride(ctx, t.In(inst.ID), class, key, locale)
	if err != nil {
		return src, false, err
	}
	if ov == nil {
		return builtin, false, nil
	}
	src = *ov
	if src.Subject == "" {
		src.Subject = builtin.Subject
	}
	if src.Text == "" {
		src.Text = builtin.Text
	}
	if src.HTML == "" {
		src.HTML = builtin.HTML
	}
	return src, true, nil
}
