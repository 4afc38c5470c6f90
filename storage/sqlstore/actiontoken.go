package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/usher-idp/usher/storage"
)

const actionTokenColumns = `id, institution_id, account_id, purpose, secret_hash, point_of_sale, created_by,
	created_at, expires_at, used_at`

// CreateActionToken implements storage.ActionTokenStore.
func (s *scoped) CreateActionToken(ctx context.Context, t *storage.ActionToken) error {
	return s.atomic(ctx, func(ctx context.Context) error {
		if err := s.lockAccount(ctx, t.AccountID); err != nil {
			return fmt.Errorf("create action token: %w", err)
		}
		now := s.clock()
		if t.ID == "" {
			t.ID = NewID(now)
		}
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now
		}
		t.InstitutionID = s.inst
		t.CreatedAt, t.ExpiresAt, t.UsedAt = norm(t.CreatedAt), norm(t.ExpiresAt), normTime(t.UsedAt)
		if _, err := s.InvalidateActionTokens(ctx, t.AccountID, t.Purpose); err != nil {
			return fmt.Errorf("create action token: %w", err)
		}
		err := s.insert(ctx, `INSERT INTO action_tokens (`+actionTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.InstitutionID, t.AccountID, t.Purpose, t.SecretHash, t.PointOfSale, t.CreatedBy,
			t.CreatedAt, t.ExpiresAt, t.UsedAt)
		if err != nil {
			return fmt.Errorf("create action token: %w", err)
		}
		return nil
	})
}

// GetActionToken implements storage.ActionTokenStore.
func (s *scoped) GetActionToken(ctx context.Context, purpose storage.ActionPurpose, secretHash []byte) (*storage.ActionToken, error) {
	t, err := s.findActionToken(ctx, purpose, secretHash)
	if err != nil {
		return t, fmt.Errorf("get action token: %w", err)
	}
	return t, nil
}

// findActionToken returns the token and, if it cannot be used, why.
func (s *scoped) findActionToken(ctx context.Context, purpose storage.ActionPurpose, secretHash []byte) (*storage.ActionToken, error) {
	var t storage.ActionToken
	err := s.get(ctx, &t, `SELECT `+actionTokenColumns+` FROM action_tokens
		WHERE institution_id = ? AND purpose = ? AND secret_hash = ?`, s.inst, purpose, secretHash)
	switch {
	case err != nil:
		return nil, err
	case t.UsedAt != nil:
		return &t, storage.ErrAlreadyUsed
	case !t.ExpiresAt.After(s.clock()):
		return &t, storage.ErrExpired
	}
	return &t, nil
}

// ConsumeActionToken implements storage.ActionTokenStore.
func (s *scoped) ConsumeActionToken(ctx context.Context, purpose storage.ActionPurpose, secretHash []byte) (*storage.ActionToken, error) {
	now := s.clock()
	var t storage.ActionToken
	err := s.get(ctx, &t, `UPDATE action_tokens SET used_at = ?
		WHERE institution_id = ? AND purpose = ? AND secret_hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING `+actionTokenColumns, now, s.inst, purpose, secretHash, now)
	if err == nil {
		return &t, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("consume action token: %w", err)
	}
	// Nothing consumed: say why.
	found, why := s.findActionToken(ctx, purpose, secretHash)
	if why == nil {
		why = storage.ErrAlreadyUsed // consumed between the two statements
	}
	return found, fmt.Errorf("consume action token: %w", why)
}

// InvalidateActionTokens implements storage.ActionTokenStore.
func (s *scoped) InvalidateActionTokens(ctx context.Context, accountID string, purpose storage.ActionPurpose) (int, error) {
	q := `UPDATE action_tokens SET used_at = ? WHERE institution_id = ? AND account_id = ? AND used_at IS NULL`
	args := []any{s.clock(), s.inst, accountID}
	if purpose != "" {
		q += ` AND purpose = ?`
		args = append(args, purpose)
	}
	n, err := s.execN(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("invalidate action tokens: %w", err)
	}
	return n, nil
}
