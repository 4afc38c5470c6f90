package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

// PurgePendingAccounts implements storage.Janitor: the accounts are chosen
// (and locked: concurrent janitors skip each other's), their audit events
// written, their sessions deleted, then they are deleted (links, recovery
// codes and consents go with them: ON DELETE CASCADE), in one transaction.
func (s *Store) PurgePendingAccounts(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := s.InTx(ctx, func(ctx context.Context) error {
		var gone []struct {
			ID            string `db:"id"`
			InstitutionID string `db:"institution_id"`
		}
		q := `SELECT id, institution_id FROM accounts WHERE status = ? AND created_at < ? ORDER BY created_at LIMIT ?` +
			s.dialect.skipLocked()
		if err := s.all(ctx, &gone, q, string(storage.Pending), norm(before), limitOr(limit, 1000)); err != nil {
			return err
		}
		for _, a := range gone {
			e := &storage.AuditEvent{AccountID: a.ID, Actor: "system", Action: "account_purged",
				Details: storage.Details{"reason": "never activated"}}
			if err := s.In(a.InstitutionID).RecordAudit(ctx, e); err != nil {
				return err
			}
			if _, err := s.exec(ctx, `DELETE FROM browser_sessions WHERE institution_id = ? AND account_id = ?`,
				a.InstitutionID, a.ID); err != nil {
				return err
			}
			if _, err := s.exec(ctx, `DELETE FROM accounts WHERE id = ? AND status = ?`, a.ID, string(storage.Pending)); err != nil {
				return err
			}
		}
		n = len(gone)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge pending accounts: %w", err)
	}
	return n, nil
}
