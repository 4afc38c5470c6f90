package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

const assetColumns = `institution_id, name, content_type, data, digest, created_at, updated_at`

// PutAsset implements storage.AssetStore.
func (s *scoped) PutAsset(ctx context.Context, a *storage.Asset) error {
	now := s.clock()
	var created time.Time
	err := s.get(ctx, &created, `INSERT INTO institution_assets (`+assetColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (institution_id, name) DO UPDATE SET
			content_type = excluded.content_type, data = excluded.data, digest = excluded.digest,
			updated_at = excluded.updated_at
		RETURNING created_at`,
		s.inst, a.Name, a.ContentType, a.Data, a.Digest, now, now)
	if err != nil {
		return fmt.Errorf("put asset: %w", err)
	}
	a.InstitutionID, a.CreatedAt, a.UpdatedAt = s.inst, norm(created), now
	return nil
}

// GetAsset implements storage.AssetStore.
func (s *scoped) GetAsset(ctx context.Context, name string) (*storage.Asset, error) {
	var a storage.Asset
	err := s.get(ctx, &a, `SELECT `+assetColumns+` FROM institution_assets
		WHERE institution_id = ? AND name = ?`, s.inst, name)
	if err != nil {
		return nil, fmt.Errorf("get asset: %w", err)
	}
	return &a, nil
}

// DeleteAsset implements storage.AssetStore.
func (s *scoped) DeleteAsset(ctx context.Context, name string) error {
	return s.updateOne(ctx, "delete asset", `DELETE FROM institution_assets
		WHERE institution_id = ? AND name = ?`, s.inst, name)
}
