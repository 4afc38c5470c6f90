package flows

import (
	"context"
	"fmt"
	"strings"

	"github.com/usher-idp/usher/storage"
)

// List returns the institution's accounts that f selects, ordered by ID:
// f.After and f.Limit page through them. The searched email, name and
// external reference are trimmed; an unknown kind or status is refused.
func (x *Accounts) List(ctx context.Context, inst *storage.Institution, f storage.AccountFilter) ([]storage.Account, error) {
	var v invalid
	if f.Kind != "" && !f.Kind.Valid() {
		v.add("kind", "account.kind_invalid", nil)
	}
	if f.Status != "" && !f.Status.Valid() {
		v.add("status", "account.status_invalid", nil)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	f.Email, f.Name, f.ExternalRef = strings.TrimSpace(f.Email), strings.TrimSpace(f.Name), strings.TrimSpace(f.ExternalRef)
	list, err := x.In(inst.ID).ListAccounts(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return list, nil
}

// Get returns the institution's account with this ID; storage.ErrNotFound
// when it has none.
func (x *Accounts) Get(ctx context.Context, inst *storage.Institution, accountID string) (*storage.Account, error) {
	a, err := x.In(inst.ID).GetAccount(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("get account: %w", err)
	}
	return a, nil
}

// Events returns the account's audit events, newest first: at most limit
// (0: 100) older than the event with ID before ("": from the newest).
// storage.ErrNotFound when the institution has no such account.
func (x *Accounts) Events(ctx context.Context, inst *storage.Institution, accountID, before string, limit int) ([]storage.AuditEvent, error) {
	s := x.In(inst.ID)
	if _, err := s.GetAccount(ctx, accountID); err != nil {
		return nil, fmt.Errorf("account events: %w", err)
	}
	list, err := s.ListAudit(ctx, storage.AuditFilter{AccountID: accountID, Before: before, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("account events: %w", err)
	}
	return list, nil
}

// RecordRead records that actor read data through the admin API, so that
// the audit trail names every call of the API, reads included: accountID
// is the account read ("" for a read of no single account: a search, the
// settings, the documents), action what was read ("account_viewed",
// "accounts_searched", …), address where the call came from, details what
// selected it (never secrets).
func (x *Accounts) RecordRead(ctx context.Context, inst *storage.Institution, accountID, action string, actor Actor,
	address string, details storage.Details) error {
	err := x.In(inst.ID).RecordAudit(ctx, &storage.AuditEvent{AccountID: accountID, Actor: string(actor), Action: action,
		Address: address, Details: details})
	if err != nil {
		return fmt.Errorf("record %s: %w", action, err)
	}
	return nil
}
