package sqlstore

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/storage"
)

const institutionColumns = `id, slug, name, settings, version, created_at, updated_at`

// CreateInstitution implements storage.InstitutionStore.
func (s *Store) CreateInstitution(ctx context.Context, inst *storage.Institution) error {
	now := s.clock()
	if inst.ID == "" {
		inst.ID = NewID(now)
	}
	inst.Version, inst.CreatedAt, inst.UpdatedAt = 1, now, now
	err := s.insert(ctx, `INSERT INTO institutions (`+institutionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		inst.ID, inst.Slug, inst.Name, inst.Settings, inst.Version, inst.CreatedAt, inst.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create institution %q: %w", inst.Slug, err)
	}
	return nil
}

// GetInstitution implements storage.InstitutionStore.
func (s *Store) GetInstitution(ctx context.Context, id string) (*storage.Institution, error) {
	var inst storage.Institution
	if err := s.get(ctx, &inst, `SELECT `+institutionColumns+` FROM institutions WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("get institution: %w", err)
	}
	return &inst, nil
}

// GetInstitutionBySlug implements storage.InstitutionStore.
func (s *Store) GetInstitutionBySlug(ctx context.Context, slug string) (*storage.Institution, error) {
	var inst storage.Institution
	if err := s.get(ctx, &inst, `SELECT `+institutionColumns+` FROM institutions WHERE slug = ?`, slug); err != nil {
		return nil, fmt.Errorf("get institution %q: %w", slug, err)
	}
	return &inst, nil
}

// ListInstitutions implements storage.InstitutionStore.
func (s *Store) ListInstitutions(ctx context.Context) ([]storage.Institution, error) {
	var list []storage.Institution
	if err := s.all(ctx, &list, `SELECT `+institutionColumns+` FROM institutions ORDER BY slug`); err != nil {
		return nil, fmt.Errorf("list institutions: %w", err)
	}
	return list, nil
}

// UpdateInstitution implements storage.InstitutionStore.
func (s *Store) UpdateInstitution(ctx context.Context, inst *storage.Institution) error {
	now := s.clock()
	n, err := s.execN(ctx, `UPDATE institutions SET name = ?, settings = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, inst.Name, inst.Settings, now, inst.ID, inst.Version)
	if err != nil {
		return fmt.Errorf("update institution %q: %w", inst.Slug, err)
	}
	if n == 0 {
		return fmt.Errorf("update institution %q: %w", inst.Slug, s.missingOrStale(ctx, `institutions WHERE id = ?`, inst.ID))
	}
	inst.Version++
	inst.UpdatedAt = now
	return nil
}

// TouchInstitution implements storage.InstitutionStore.
func (s *Store) TouchInstitution(ctx context.Context, id string) error {
	n, err := s.execN(ctx, `UPDATE institutions SET version = version + 1, updated_at = ? WHERE id = ?`, s.clock(), id)
	if err != nil {
		return fmt.Errorf("touch institution: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("touch institution: %w", storage.ErrNotFound)
	}
	return nil
}

// InstitutionVersion implements storage.InstitutionStore.
func (s *Store) InstitutionVersion(ctx context.Context, id string) (int64, error) {
	var v int64
	if err := s.get(ctx, &v, `SELECT version FROM institutions WHERE id = ?`, id); err != nil {
		return 0, fmt.Errorf("institution version: %w", err)
	}
	return v, nil
}

// missingOrStale explains an optimistic update that changed nothing: the row
// is gone (ErrNotFound) or was changed by someone else (ErrConflict). from is
// "table WHERE condition".
func (s *Store) missingOrStale(ctx context.Context, from string, args ...any) error {
	var n int
	if err := s.get(ctx, &n, `SELECT COUNT(*) FROM `+from, args...); err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return storage.ErrConflict
}
