package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/usher-idp/usher/storage"
)

// RequireTwoFactor says whether an operator must use a second factor (one
// without enrols at the next sign-in). Only operators are required one by
// one (a customer is a StateError); a change is recorded, no change is no
// event.
func (x *Accounts) RequireTwoFactor(ctx context.Context, inst *storage.Institution, accountID string, required bool, actor Actor) error {
	return x.changeAccount(ctx, inst, accountID, "require two-factor",
		func(_ context.Context, _ AccountsStore, a *storage.Account) (*storage.AuditEvent, error) {
			if a.Kind != storage.Operator {
				return nil, &StateError{ID: "account.not_operator"}
			}
			if a.TwoFactorRequired == required {
				return nil, nil
			}
			a.TwoFactorRequired = required
			return &storage.AuditEvent{Actor: string(actor), Action: "two_factor_requirement_changed",
				Details: storage.Details{"required": strconv.FormatBool(required)}}, nil
		})
}

// RemoveSecondFactor removes the account's second factor and its recovery
// codes (a lost phone): the holder is told by email, the change recorded,
// atomically. An account without a confirmed one is a StateError. One that must use a
// second factor enrols again at its next sign-in.
func (x *Accounts) RemoveSecondFactor(ctx context.Context, inst *storage.Institution, accountID string, actor Actor) error {
	s := x.In(inst.ID)
	a, err := s.GetAccount(ctx, accountID)
	if err != nil {
		return fmt.Errorf("remove second factor: %w", err)
	}
	if a.TOTPConfirmedAt == nil {
		return &StateError{ID: "account.two_factor_not_enrolled"}
	}
	if x.Mailer == nil {
		return errors.New("remove second factor: no mailer")
	}
	err = removeSecondFactor(ctx, s, x.Tx, x.Mailer, inst, a, x.Now(), storage.AuditEvent{Actor: string(actor)})
	if err != nil {
		return fmt.Errorf("remove second factor: %w", err)
	}
	return nil
}
