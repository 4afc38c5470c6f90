package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

const emailColumns = `id, institution_id, account_id, class, locale, recipient, sender, subject, text_body,
	html_body, content, status, attempts, next_attempt_at, last_error, created_at, sent_at`

// EnqueueEmail implements storage.OutboxStore.
func (s *scoped) EnqueueEmail(ctx context.Context, e *storage.OutboxEmail) error {
	now := s.clock()
	e.ID, e.InstitutionID, e.CreatedAt = NewID(now), s.inst, now
	e.Status, e.Attempts, e.LastError, e.SentAt = storage.EmailQueued, 0, "", nil
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = now
	}
	e.NextAttemptAt = norm(e.NextAttemptAt)
	_, err := s.exec(ctx, `INSERT INTO outbox_emails (`+emailColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.InstitutionID, e.AccountID, e.Class, e.Locale, e.Recipient, e.Sender, e.Subject, e.TextBody,
		e.HTMLBody, nullBytes(e.Content), e.Status, e.Attempts, e.NextAttemptAt, e.LastError, e.CreatedAt, e.SentAt)
	if err != nil {
		return fmt.Errorf("enqueue email: %w", err)
	}
	return nil
}

// GetEmail implements storage.OutboxStore.
func (s *scoped) GetEmail(ctx context.Context, id string) (*storage.OutboxEmail, error) {
	var e storage.OutboxEmail
	if err := s.get(ctx, &e, `SELECT `+emailColumns+` FROM outbox_emails WHERE institution_id = ? AND id = ?`, s.inst, id); err != nil {
		return nil, fmt.Errorf("get email: %w", err)
	}
	return &e, nil
}

// ListEmails implements storage.OutboxStore.
func (s *scoped) ListEmails(ctx context.Context, f storage.OutboxFilter) ([]storage.OutboxEmail, error) {
	q := `SELECT ` + emailColumns + ` FROM outbox_emails WHERE institution_id = ?`
	args := []any{s.inst}
	if f.AccountID != "" {
		q += ` AND account_id = ?`
		args = append(args, f.AccountID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limitOr(f.Limit, 100))
	var list []storage.OutboxEmail
	if err := s.all(ctx, &list, q, args...); err != nil {
		return nil, fmt.Errorf("list emails: %w", err)
	}
	return list, nil
}

// RetryEmail implements storage.OutboxStore.
func (s *scoped) RetryEmail(ctx context.Context, id string) error {
	n, err := s.execN(ctx, `UPDATE outbox_emails SET status = ?, next_attempt_at = ?
		WHERE institution_id = ? AND id = ? AND status <> ?`,
		storage.EmailQueued, s.clock(), s.inst, id, storage.EmailSent)
	if err != nil {
		return fmt.Errorf("retry email: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("retry email: %w",
			s.missingOrStale(ctx, `outbox_emails WHERE institution_id = ? AND id = ?`, s.inst, id))
	}
	return nil
}

// ClaimEmails implements storage.OutboxQueue. On PostgreSQL, SKIP LOCKED lets
// concurrent workers pass over rows another is claiming; on SQLite the
// immediate transaction admits one claimer at a time.
func (s *Store) ClaimEmails(ctx context.Context, limit int, lease time.Duration) ([]storage.OutboxEmail, error) {
	now := s.clock()
	var list []storage.OutboxEmail
	err := s.all(ctx, &list, `UPDATE outbox_emails SET next_attempt_at = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox_emails WHERE status = ? AND next_attempt_at <= ?
			ORDER BY next_attempt_at LIMIT ?`+s.dialect.skipLocked()+`)
		RETURNING `+emailColumns, now.Add(lease), storage.EmailQueued, now, limitOr(limit, 10))
	if err != nil {
		return nil, fmt.Errorf("claim emails: %w", err)
	}
	return list, nil
}

// RenewEmailClaims implements storage.OutboxQueue: one short statement per
// claim (a batch is a few emails, renewed every few seconds).
func (s *Store) RenewEmailClaims(ctx context.Context, claims []storage.EmailClaim, lease time.Duration) ([]string, error) {
	until := s.clock().Add(lease)
	var renewed []string
	for _, c := range claims {
		n, err := s.execN(ctx, `UPDATE outbox_emails SET next_attempt_at = ?
			WHERE id = ? AND attempts = ? AND status = ?`, until, c.ID, c.Attempts, storage.EmailQueued)
		if err != nil {
			return renewed, fmt.Errorf("renew email claims: %w", err)
		}
		if n == 1 {
			renewed = append(renewed, c.ID)
		}
	}
	return renewed, nil
}

// MarkEmailSent implements storage.OutboxQueue: what the email said goes in
// the same statement as its status changes.
func (s *Store) MarkEmailSent(ctx context.Context, id string) error {
	return s.updateOne(ctx, "mark email sent", `UPDATE outbox_emails SET status = ?, sent_at = ?, last_error = '',
		subject = '', text_body = '', html_body = '', content = NULL
		WHERE id = ?`, storage.EmailSent, s.clock(), id)
}

// MarkEmailRetry implements storage.OutboxQueue.
func (s *Store) MarkEmailRetry(ctx context.Context, id string, next time.Time, lastError string) error {
	return s.markUnsent(ctx, "mark email retry", id, `UPDATE outbox_emails SET status = ?, next_attempt_at = ?, last_error = ?
		WHERE id = ? AND status <> ?`, storage.EmailQueued, next, lastError, id, storage.EmailSent)
}

// MarkEmailFailed implements storage.OutboxQueue.
func (s *Store) MarkEmailFailed(ctx context.Context, id string, lastError string) error {
	return s.markUnsent(ctx, "mark email failed", id, `UPDATE outbox_emails SET status = ?, last_error = ?
		WHERE id = ? AND status <> ?`, storage.EmailFailed, lastError, id, storage.EmailSent)
}

// markUnsent runs an update of the email id that must not have been sent.
func (s *Store) markUnsent(ctx context.Context, what, id, query string, args ...any) error {
	n, err := s.execN(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, s.missingOrStale(ctx, `outbox_emails WHERE id = ?`, id))
	}
	return nil
}

// nullBytes is b as a column value: NULL when empty, on both drivers.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
