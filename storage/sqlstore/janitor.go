package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

// spentRetention is how long used links are kept after their use, so a
// second click says "already used" for a while.
const spentRetention = 24 * time.Hour

// PurgeExpired implements storage.Janitor. Each call is one DELETE of at most
// limit rows chosen by primary key through an index on the expiry, the same
// statement on both dialects.
func (s *Store) PurgeExpired(ctx context.Context, what storage.Purge, limit int) (int, error) {
	now := s.clock()
	limit = limitOr(limit, 1000)
	var q string
	var args []any
	switch what {
	case storage.PurgeOAuth2:
		q = `DELETE FROM oauth2_tokens WHERE (signature, kind) IN
			(SELECT signature, kind FROM oauth2_tokens WHERE expires_at < ? LIMIT ?)`
		args = []any{now, limit}
	case storage.PurgeSessions:
		q = `DELETE FROM browser_sessions WHERE id IN
			(SELECT id FROM browser_sessions WHERE expires_at < ? LIMIT ?)`
		args = []any{now, limit}
	case storage.PurgeActionTokens:
		q = `DELETE FROM action_tokens WHERE id IN
			(SELECT id FROM action_tokens WHERE expires_at < ? OR used_at < ? LIMIT ?)`
		args = []any{now, now.Add(-spentRetention), limit}
	case storage.PurgeJTIs:
		q = `DELETE FROM oauth2_jtis WHERE (institution_id, jti) IN
			(SELECT institution_id, jti FROM oauth2_jtis WHERE expires_at < ? LIMIT ?)`
		args = []any{now, limit}
	case storage.PurgeThrottles:
		q = `DELETE FROM throttles WHERE (institution_id, key) IN
			(SELECT institution_id, key FROM throttles WHERE window_end < ? LIMIT ?)`
		args = []any{now, limit}
	case storage.PurgeOutbox:
		q = `DELETE FROM outbox_emails WHERE id IN
			(SELECT id FROM outbox_emails WHERE created_at < ? AND status IN (?, ?) LIMIT ?)`
		args = []any{now.Add(-s.outbox), storage.EmailSent, storage.EmailFailed, limit}
	case storage.PurgeSigningKeys:
		q = `DELETE FROM signing_keys WHERE id IN
			(SELECT id FROM signing_keys WHERE expires_at < ? LIMIT ?)`
		args = []any{now, limit}
	default:
		return 0, fmt.Errorf("purge: unknown kind %q", what)
	}
	n, err := s.execN(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("purge %s: %w", what, err)
	}
	return n, nil
}
