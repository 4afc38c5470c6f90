package sqlstore

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/storage"
)

const auditColumns = `id, institution_id, account_id, actor, action, address, details, created_at`

// RecordAudit implements storage.AuditStore.
func (s *scoped) RecordAudit(ctx context.Context, e *storage.AuditEvent) error {
	now := s.clock()
	e.ID, e.InstitutionID, e.CreatedAt = NewID(now), s.inst, now
	_, err := s.exec(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.InstitutionID, e.AccountID, e.Actor, e.Action, e.Address, e.Details, e.CreatedAt)
	if err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	return nil
}

// ListAudit implements storage.AuditStore.
func (s *scoped) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE institution_id = ?`
	args := []any{s.inst}
	if f.AccountID != "" {
		q += ` AND account_id = ?`
		args = append(args, f.AccountID)
	}
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.Before != "" {
		q += ` AND (created_at, id) < (SELECT created_at, id FROM audit_events WHERE institution_id = ? AND id = ?)`
		args = append(args, s.inst, f.Before)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limitOr(f.Limit, 100))
	var list []storage.AuditEvent
	if err := s.all(ctx, &list, q, args...); err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return list, nil
}
