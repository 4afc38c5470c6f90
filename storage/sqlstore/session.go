package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

const sessionColumns = `id, institution_id, account_id, data, created_at, updated_at, expires_at`

// SaveSession implements storage.SessionStore.
func (s *scoped) SaveSession(ctx context.Context, bs *storage.BrowserSession) error {
	now := s.clock()
	if bs.CreatedAt.IsZero() {
		bs.CreatedAt = now
	}
	bs.InstitutionID, bs.UpdatedAt = s.inst, now
	bs.CreatedAt, bs.ExpiresAt = norm(bs.CreatedAt), norm(bs.ExpiresAt)
	if bs.Data == nil {
		bs.Data = []byte{}
	}
	// The WHERE keeps one institution from overwriting another's session.
	var created time.Time
	err := s.get(ctx, &created, `INSERT INTO browser_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, data = excluded.data, updated_at = excluded.updated_at, expires_at = excluded.expires_at
		WHERE browser_sessions.institution_id = excluded.institution_id
		RETURNING created_at`,
		bs.ID, bs.InstitutionID, bs.AccountID, bs.Data, bs.CreatedAt, bs.UpdatedAt, bs.ExpiresAt)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("save session: %w", storage.ErrConflict) // the ID is another institution's
	}
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	bs.CreatedAt = created
	return nil
}

// UpdateSession implements storage.SessionStore.
func (s *scoped) UpdateSession(ctx context.Context, bs *storage.BrowserSession) error {
	now := s.clock()
	if bs.Data == nil {
		bs.Data = []byte{}
	}
	err := s.updateOne(ctx, "update session", `UPDATE browser_sessions SET account_id = ?, data = ?,
		updated_at = ?, expires_at = ? WHERE institution_id = ? AND id = ?`,
		bs.AccountID, bs.Data, now, bs.ExpiresAt, s.inst, bs.ID)
	if err != nil {
		return err
	}
	bs.InstitutionID, bs.UpdatedAt = s.inst, now
	bs.ExpiresAt = norm(bs.ExpiresAt)
	return nil
}

// GetSession implements storage.SessionStore.
func (s *scoped) GetSession(ctx context.Context, id string) (*storage.BrowserSession, error) {
	var bs storage.BrowserSession
	err := s.get(ctx, &bs, `SELECT `+sessionColumns+` FROM browser_sessions
		WHERE institution_id = ? AND id = ? AND expires_at > ?`, s.inst, id, s.clock())
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	return &bs, nil
}

// DeleteSession implements storage.SessionStore.
func (s *scoped) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, `DELETE FROM browser_sessions WHERE institution_id = ? AND id = ?`, s.inst, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// ListAccountSessions implements storage.SessionStore.
func (s *scoped) ListAccountSessions(ctx context.Context, accountID string) ([]storage.BrowserSession, error) {
	var list []storage.BrowserSession
	err := s.all(ctx, &list, `SELECT `+sessionColumns+` FROM browser_sessions
		WHERE institution_id = ? AND account_id = ? AND expires_at > ? ORDER BY updated_at DESC, id`, s.inst, accountID, s.clock())
	if err != nil {
		return nil, fmt.Errorf("list account sessions: %w", err)
	}
	return list, nil
}

// DeleteAccountSessions implements storage.SessionStore.
func (s *scoped) DeleteAccountSessions(ctx context.Context, accountID, exceptID string) (int, error) {
	if accountID == "" {
		return 0, fmt.Errorf("delete account sessions: empty account ID")
	}
	n, err := s.execN(ctx, `DELETE FROM browser_sessions WHERE institution_id = ? AND account_id = ? AND id <> ?`,
		s.inst, accountID, exceptID)
	if err != nil {
		return 0, fmt.Errorf("delete account sessions: %w", err)
	}
	return n, nil
}
