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
	return x.changeAccount(ctx, inst, accountID, "disable account",
		func(ctx context.Context, s AccountsStore, a *storage.Account) (*storage.AuditEvent, error) {
			if a.Status == storage.Disabled {
				return nil, &StateError{ID: "account.already_disabled"}
			}
			was := a.Status
			a.Status = storage.Disabled
			if err := endAccess(ctx, s, a.ID); err != nil {
				return nil, fmt.Errorf("disable account: %w", err)
			}
			return &storage.AuditEvent{Actor: string(actor), Action: "account_disabled",
				Details: storage.Details{"previous_status": string(was)}}, nil
		})
}

// Enable lets a disabled account sign in again: it becomes active, or
// pending when it has no password yet. An account that is not disabled is
// a StateError.
func (x *Accounts) Enable(ctx context.Context, inst *storage.Institution, accountID string, actor Actor) error {
	return x.changeAccount(ctx, inst, accountID, "enable account",
		func(_ context.Context, _ AccountsStore, a *storage.Account) (*storage.AuditEvent, error) {
			if a.Status != storage.Disabled {
				return nil, &StateError{ID: "account.not_disabled"}
			}
			a.Status = storage.Active
			if a.PasswordHash == "" {
				a.Status = storage.Pending
			}
			return &storage.AuditEvent{Actor: string(actor), Action: "account_enabled",
				Details: storage.Details{"status": string(a.Status)}}, nil
		})
}

// changeAccount reads the account in a transaction and lets change alter
// it, or refuse; it then writes the account and records the event change
// returns (nil: nothing changed, nothing is written).
func (x *Accounts) changeAccount(ctx context.Context, inst *storage.Institution, accountID, what string,
	change func(ctx context.Context, s AccountsStore, a *storage.Account) (*storage.AuditEvent, error)) error {
	return x.Tx.InTx(ctx, func(ctx context.Context) error {
		s := x.In(inst.ID)
		a, err := s.GetAccount(ctx, accountID)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		event, err := change(ctx, s, a)
		if err != nil || event == nil {
			return err
		}
		if err := s.UpdateAccount(ctx, a); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		event.AccountID = a.ID
		return s.RecordAudit(ctx, event)
	})
}
