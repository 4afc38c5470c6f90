package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/usher-idp/usher/storage"
)

// GrantConsent implements storage.ConsentStore. The account's row lock makes
// concurrent grants merge instead of overwriting each other.
func (s *scoped) GrantConsent(ctx context.Context, accountID, clientID string, scopes []string) error {
	return s.atomic(ctx, func(ctx context.Context) error {
		if err := s.lockAccount(ctx, accountID); err != nil {
			return fmt.Errorf("grant consent: %w", err)
		}
		merged := storage.List{}
		old, err := s.GetConsent(ctx, accountID, clientID)
		switch {
		case err == nil:
			merged = old.Scopes
		case !errors.Is(err, storage.ErrNotFound):
			return fmt.Errorf("grant consent: %w", err)
		}
		for _, sc := range scopes {
			if !slices.Contains(merged, sc) {
				merged = append(merged, sc)
			}
		}
		_, err = s.exec(ctx, `INSERT INTO consents (institution_id, account_id, client_id, scopes, granted_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (institution_id, account_id, client_id) DO UPDATE SET
				scopes = excluded.scopes, granted_at = excluded.granted_at`,
			s.inst, accountID, clientID, merged, s.clock())
		if err != nil {
			return fmt.Errorf("grant consent: %w", err)
		}
		return nil
	})
}

// GetConsent implements storage.ConsentStore.
func (s *scoped) GetConsent(ctx context.Context, accountID, clientID string) (*storage.Consent, error) {
	var c storage.Consent
	err := s.get(ctx, &c, `SELECT account_id, client_id, scopes, granted_at FROM consents
		WHERE institution_id = ? AND account_id = ? AND client_id = ?`, s.inst, accountID, clientID)
	if err != nil {
		return nil, fmt.Errorf("get consent: %w", err)
	}
	return &c, nil
}

// RevokeConsent implements storage.ConsentStore.
func (s *scoped) RevokeConsent(ctx context.Context, accountID, clientID string) error {
	_, err := s.exec(ctx, `DELETE FROM consents WHERE institution_id = ? AND account_id = ? AND client_id = ?`,
		s.inst, accountID, clientID)
	if err != nil {
		return fmt.Errorf("revoke consent: %w", err)
	}
	return nil
}
