package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

const keyColumns = `id, institution_id, algorithm, state, private_key, public_key, created_at, activated_at,
	retired_at, expires_at`

// CreateSigningKey implements storage.KeyStore.
func (s *scoped) CreateSigningKey(ctx context.Context, k *storage.SigningKey) error {
	k.InstitutionID, k.CreatedAt = s.inst, s.clock()
	k.ActivatedAt, k.RetiredAt, k.ExpiresAt = normTime(k.ActivatedAt), normTime(k.RetiredAt), normTime(k.ExpiresAt)
	err := s.insert(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.InstitutionID, k.Algorithm, k.State, k.PrivateKey, k.PublicKey, k.CreatedAt, k.ActivatedAt,
		k.RetiredAt, k.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// ListSigningKeys implements storage.KeyStore.
func (s *scoped) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	var list []storage.SigningKey
	err := s.all(ctx, &list, `SELECT `+keyColumns+` FROM signing_keys
		WHERE institution_id = ? AND (expires_at IS NULL OR expires_at > ?)
		ORDER BY created_at DESC, id DESC`, s.inst, s.clock())
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return list, nil
}

// TransitionSigningKey implements storage.KeyStore.
func (s *scoped) TransitionSigningKey(ctx context.Context, id string, from, to storage.KeyState, expiresAt *time.Time) error {
	now := s.clock()
	var q string
	args := []any{to}
	switch to {
	case storage.KeyCurrent:
		q = `, activated_at = ?`
		args = append(args, now)
	case storage.KeyRetired:
		q = `, retired_at = ?, expires_at = ?`
		args = append(args, now, expiresAt)
	}
	args = append(args, s.inst, id, from)
	n, err := s.execN(ctx, `UPDATE signing_keys SET state = ?`+q+` WHERE institution_id = ? AND id = ? AND state = ?`, args...)
	if err != nil {
		return fmt.Errorf("signing key %s → %s: %w", from, to, err)
	}
	if n == 0 {
		return fmt.Errorf("signing key %s → %s: %w", from, to,
			s.missingOrStale(ctx, `signing_keys WHERE institution_id = ? AND id = ?`, s.inst, id))
	}
	return nil
}
