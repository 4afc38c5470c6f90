package flows

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/storage"
)

// Disable stops the account from signing in: its status becomes disabled,
// and its browser sessions, grants (refresh and access tokens) and pending
// links end, with an audit event, atomically. A disabled account is a
// StateError.
func (x *Accounts) Disable(ctx context.Context, inst *storage.Institution, accountID string, actor Actor) error {
	return x.Tx.InTx(ctx, func(ctx context.Context) error {
		s := x.In(inst.ID)
		a, err := s.GetAccount(ctx, accountID)
		if err != nil {
			return fmt.Errorf("disable account: %w", err)
		}
		if a.Status == storage.Disabled {
			return &StateError{ID: "account.already_disabled"}
		}
		was := a.Status
		a.Status = storage.Disabled
		if err := s.UpdateAccount(ctx, a); err != nil {
			return fmt.Errorf("disable account: %w", err)
		}
		if err := endAccess(ctx, s, a.ID); err != nil {
			return fmt.Errorf("disable account: %w", err)
		}
		return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: a.ID, Actor: string(actor), Action: "account_disabled",
			Details: storage.Details{"previous_status": string(was)}})
	})
}

// Enable lets a disabled account sign in again: it becomes active, or
// pending when it has no password yet. An account that is not disabled is
// a StateError.
func (x *Accounts) Enable(ctx context.Context, inst *storage.Institution, accountID string, actor Actor) error {
	return x.Tx.InTx(ctx, func(ctx context.Context) error {
		s := x.In(inst.ID)
		a, err := s.GetAccount(ctx, accountID)
		if err != nil {
			return fmt.Errorf("enable account: %w", err)
		}
		if a.Status != storage.Disabled {
			return &StateError{ID: "account.not_disabled"}
		}
		a.Status = storage.Active
		if a.PasswordHash == "" {
			a.Status = storage.Pending
		}
		if err := s.UpdateAccount(ctx, a); err != nil {
			return fmt.Errorf("enable account: %w", err)
		}
		return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: a.ID, Actor: string(actor), Action: "account_enabled",
			Details: storage.Details{"status": string(a.Status)}})
	})
}
