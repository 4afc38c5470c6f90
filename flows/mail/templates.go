package mail

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Templates manages the institutions' overrides of the email templates:
// `usher template` uses it, and so will the admin API.
type Templates struct {
	Store  Store
	Emails *templates.Emails
}

// Set checks src as the override of class in locale (parsed, then rendered
// with the class's sample document) and stores it, replacing any previous
// one. A broken override is refused with a *templates.TemplateError (the
// parser's message) and nothing is stored.
func (t *Templates) Set(ctx context.Context, inst *storage.Institution, class templates.EmailClass, locale string, src templates.EmailSource) error {
	if err := t.Emails.Check(class, locale, src); err != nil {
		return err
	}
	return t.Store.In(inst.ID).PutEmailTemplate(ctx, &storage.EmailTemplate{Class: string(class), Locale: locale,
		Subject: src.Subject, TextBody: src.Text, HTMLBody: src.HTML})
}

// Delete removes an override: the built-in templates apply again.
// storage.ErrNotFound when there is none.
func (t *Templates) Delete(ctx context.Context, inst *storage.Institution, class templates.EmailClass, locale string) error {
	return t.Store.In(inst.ID).DeleteEmailTemplate(ctx, string(class), "", locale)
}

// List returns the institution's overrides, by class then locale.
func (t *Templates) List(ctx context.Context, inst *storage.Institution) ([]storage.EmailTemplate, error) {
	return t.Store.In(inst.ID).ListEmailTemplates(ctx)
}

// Effective returns the templates the institution's emails of class in
// locale are drawn with: the override's parts where it has them, the
// built-in ones elsewhere. overridden tells whether there is an override.
func (t *Templates) Effective(ctx context.Context, inst *storage.Institution, class templates.EmailClass, locale string) (src templates.EmailSource, overridden bool, err error) {
	builtin, ok := t.Emails.Source(class)
	if !ok {
		return src, false, fmt.Errorf("unknown email class %q", class)
	}
	ov, err := override(ctx, t.Store.In(inst.ID), class, locale)
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
