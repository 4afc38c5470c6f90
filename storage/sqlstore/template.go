package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

const templateColumns = `institution_id, class, document, locale, subject, text_body, html_body, created_at, updated_at`

// PutEmailTemplate implements storage.TemplateStore.
func (s *scoped) PutEmailTemplate(ctx context.Context, t *storage.EmailTemplate) error {
	now := s.clock()
	var created time.Time
	err := s.get(ctx, &created, `INSERT INTO email_templates (`+templateColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (institution_id, class, document, locale) DO UPDATE SET
			subject = excluded.subject, text_body = excluded.text_body, html_body = excluded.html_body,
			updated_at = excluded.updated_at
		RETURNING created_at`,
		s.inst, t.Class, t.Document, t.Locale, t.Subject, t.TextBody, t.HTMLBody, now, now)
	if err != nil {
		return fmt.Errorf("put email template: %w", err)
	}
	t.InstitutionID, t.CreatedAt, t.UpdatedAt = s.inst, norm(created), now
	return nil
}

// GetEmailTemplate implements storage.TemplateStore.
func (s *scoped) GetEmailTemplate(ctx context.Context, class, document, locale string) (*storage.EmailTemplate, error) {
	var t storage.EmailTemplate
	err := s.get(ctx, &t, `SELECT `+templateColumns+` FROM email_templates
		WHERE institution_id = ? AND class = ? AND document = ? AND locale = ?`, s.inst, class, document, locale)
	if err != nil {
		return nil, fmt.Errorf("get email template: %w", err)
	}
	return &t, nil
}

// ListEmailTemplates implements storage.TemplateStore.
func (s *scoped) ListEmailTemplates(ctx context.Context) ([]storage.EmailTemplate, error) {
	var list []storage.EmailTemplate
	err := s.all(ctx, &list, `SELECT `+templateColumns+` FROM email_templates
		WHERE institution_id = ? ORDER BY class, document, locale`, s.inst)
	if err != nil {
		return nil, fmt.Errorf("list email templates: %w", err)
	}
	return list, nil
}

// DeleteEmailTemplate implements storage.TemplateStore.
func (s *scoped) DeleteEmailTemplate(ctx context.Context, class, document, locale string) error {
	return s.updateOne(ctx, "delete email template", `DELETE FROM email_templates
		WHERE institution_id = ? AND class = ? AND document = ? AND locale = ?`, s.inst, class, document, locale)
}
