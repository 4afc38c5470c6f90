package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/usher-idp/usher/storage"
)

const oauth2Columns = `signature, kind, institution_id, request_id, requested_at, client_id, subject,
	requested_scopes, granted_scopes, requested_audience, granted_audience, form, session, access_signature,
	active, expires_at, used_at`

// CreateOAuth2 implements storage.OAuth2Store.
func (s *scoped) CreateOAuth2(ctx context.Context, r *storage.OAuth2Record) error {
	s.asStoredOAuth2(r)
	err := s.insert(ctx, `INSERT INTO oauth2_tokens (`+oauth2Columns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, oauth2Row(r)...)
	if err != nil {
		return fmt.Errorf("create %s: %w", r.Kind, err)
	}
	return nil
}

// CreateOAuth2s implements storage.OAuth2Store.
func (s *scoped) CreateOAuth2s(ctx context.Context, rs []*storage.OAuth2Record) error {
	if len(rs) == 0 {
		return nil
	}
	args := make([]any, 0, len(rs)*len(oauth2Names))
	for _, r := range rs {
		s.asStoredOAuth2(r)
		args = append(args, oauth2Row(r)...)
	}
	_, err := s.exec(ctx, `INSERT INTO oauth2_tokens (`+oauth2Columns+`) VALUES `+valuesSQL(len(oauth2Names), len(rs)),
		args...)
	if err != nil {
		return fmt.Errorf("create %d records: %w", len(rs), err)
	}
	return nil
}

// asStoredOAuth2 makes r what is stored: the institution's, its times
// normalised, a session (maybe empty).
func (s *scoped) asStoredOAuth2(r *storage.OAuth2Record) {
	r.InstitutionID = s.inst
	r.RequestedAt, r.ExpiresAt, r.UsedAt = norm(r.RequestedAt), norm(r.ExpiresAt), normTime(r.UsedAt)
	if r.Session == nil {
		r.Session = []byte{}
	}
}

// oauth2Row is what CreateOAuth2 and bulk loads write: the values of
// oauth2Columns, in order.
func oauth2Row(r *storage.OAuth2Record) []any {
	return []any{r.Signature, r.Kind, r.InstitutionID, r.RequestID, r.RequestedAt, r.ClientID, r.Subject,
		r.RequestedScopes, r.GrantedScopes, r.RequestedAudience, r.GrantedAudience, r.Form, r.Session,
		r.AccessSignature, r.Active, r.ExpiresAt, r.UsedAt}
}

// GetOAuth2 implements storage.OAuth2Store.
func (s *scoped) GetOAuth2(ctx context.Context, kind storage.OAuth2Kind, signature string) (*storage.OAuth2Record, error) {
	var r storage.OAuth2Record
	err := s.get(ctx, &r, `SELECT `+oauth2Columns+` FROM oauth2_tokens
		WHERE signature = ? AND kind = ? AND institution_id = ?`, signature, kind, s.inst)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", kind, err)
	}
	return &r, nil
}

// getOAuth2CodeSQL reads a code with its PKCE record (the same signature)
// and its OpenID Connect record (the same request ID, of any institution:
// GetOAuth2Code keeps its institution's).
var getOAuth2CodeSQL = `SELECT ` + oauth2Columns + ` FROM oauth2_tokens
	WHERE signature = ? AND kind IN (?, ?) AND institution_id = ?
	UNION ALL
	SELECT a.` + strings.Join(oauth2Names, ", a.") + ` FROM oauth2_tokens c JOIN oauth2_tokens a ON a.request_id = c.request_id
	WHERE c.signature = ? AND c.kind = ? AND c.institution_id = ? AND a.kind = ?`

// GetOAuth2Code implements storage.OAuth2Store: the code and its PKCE
// record by their primary key, the OpenID Connect record by the code's
// request ID (oauth2_tokens_request).
func (s *scoped) GetOAuth2Code(ctx context.Context, signature string) ([]*storage.OAuth2Record, error) {
	var recs []*storage.OAuth2Record
	err := s.all(ctx, &recs, getOAuth2CodeSQL,
		signature, storage.KindCode, storage.KindPKCE, s.inst, signature, storage.KindCode, s.inst, storage.KindOIDC)
	if err != nil {
		return nil, fmt.Errorf("get code: %w", err)
	}
	// The joined records are scoped here: with the institution in the
	// join's condition, PostgreSQL's generic plan intersected the request
	// index with a scan of every token of the institution.
	recs = slices.DeleteFunc(recs, func(r *storage.OAuth2Record) bool { return r.InstitutionID != s.inst })
	if !slices.ContainsFunc(recs, func(r *storage.OAuth2Record) bool { return r.Kind == storage.KindCode }) {
		return nil, fmt.Errorf("get code: %w", storage.ErrNotFound)
	}
	return recs, nil
}

// DeactivateOAuth2 implements storage.OAuth2Store.
func (s *scoped) DeactivateOAuth2(ctx context.Context, kind storage.OAuth2Kind, signature string) error {
	n, err := s.execN(ctx, `UPDATE oauth2_tokens SET active = FALSE, used_at = COALESCE(used_at, ?)
		WHERE signature = ? AND kind = ? AND institution_id = ? AND active = TRUE`, s.clock(), signature, kind, s.inst)
	if err != nil {
		return fmt.Errorf("deactivate %s: %w", kind, err)
	}
	if n == 1 {
		return nil
	}
	return s.notDeactivated(ctx, kind, signature)
}

// notDeactivated tells why a deactivation changed no row: ErrNotFound or,
// the record being there, ErrAlreadyUsed.
func (s *scoped) notDeactivated(ctx context.Context, kind storage.OAuth2Kind, signature string) error {
	if _, err := s.GetOAuth2(ctx, kind, signature); err != nil {
		return fmt.Errorf("deactivate %s: %w", kind, err)
	}
	return fmt.Errorf("deactivate %s: %w", kind, storage.ErrAlreadyUsed)
}

// RedeemOAuth2 implements storage.OAuth2Store. On PostgreSQL it is one
// statement: the UPDATE in a WITH, the DELETE and the INSERT each
// conditioned on the UPDATE having changed the row. SQLite, in the process,
// runs the three in a transaction.
func (s *scoped) RedeemOAuth2(ctx context.Context, kind storage.OAuth2Kind, signature, access string, rs []*storage.OAuth2Record) error {
	if s.dialect != postgres {
		return s.InTx(ctx, func(ctx context.Context) error {
			if err := s.DeactivateOAuth2(ctx, kind, signature); err != nil {
				return err
			}
			if access != "" {
				if err := s.DeleteOAuth2(ctx, storage.KindAccess, access); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("redeem %s: %w", kind, err)
				}
			}
			return s.CreateOAuth2s(ctx, rs)
		})
	}
	args := make([]any, 0, 7+len(rs)*len(oauth2Names))
	args = append(args, s.clock(), signature, kind, s.inst, access, storage.KindAccess, s.inst)
	for _, r := range rs {
		s.asStoredOAuth2(r)
		args = append(args, oauth2Row(r)...)
	}
	var n int
	if err := s.get(ctx, &n, redeemSQL(len(rs)), args...); err != nil {
		return fmt.Errorf("redeem %s: %w", kind, err)
	}
	if n == 1 {
		return nil
	}
	return s.notDeactivated(ctx, kind, signature)
}

// typedOAuth2Row is a row of placeholders for oauth2Columns, cast to their
// PostgreSQL types: rows inserted from a VALUES list in a subquery need the
// types of the first row, PostgreSQL infers them only for INSERT … VALUES.
const typedOAuth2Row = `(?::text, ?::text, ?::text, ?::text, ?::timestamptz, ?::text, ?::text, ?::text, ?::text,
	?::text, ?::text, ?::text, ?::bytea, ?::text, ?::boolean, ?::timestamptz, ?::timestamptz)`

// redeemSQL is RedeemOAuth2's statement on PostgreSQL for n records.
func redeemSQL(n int) string {
	q := `WITH used AS (UPDATE oauth2_tokens SET active = FALSE, used_at = COALESCE(used_at, ?)
			WHERE signature = ? AND kind = ? AND institution_id = ? AND active = TRUE RETURNING 1),
		ended AS (DELETE FROM oauth2_tokens WHERE signature = ? AND kind = ? AND institution_id = ?
			AND EXISTS (SELECT 1 FROM used))`
	if n > 0 {
		values := typedOAuth2Row
		if n > 1 {
			values += ", " + valuesSQL(len(oauth2Names), n-1)
		}
		q += `, created AS (INSERT INTO oauth2_tokens (` + oauth2Columns + `)
			SELECT v.* FROM (VALUES ` + values + `) v, used)`
	}
	return q + ` SELECT COUNT(*) FROM used`
}

// DeleteOAuth2 implements storage.OAuth2Store.
func (s *scoped) DeleteOAuth2(ctx context.Context, kind storage.OAuth2Kind, signature string) error {
	return s.updateOne(ctx, "delete "+string(kind), `DELETE FROM oauth2_tokens
		WHERE signature = ? AND kind = ? AND institution_id = ?`, signature, kind, s.inst)
}

// RevokeOAuth2Family implements storage.OAuth2Store.
func (s *scoped) RevokeOAuth2Family(ctx context.Context, kind storage.OAuth2Kind, requestID string) (int, error) {
	n, err := s.execN(ctx, `DELETE FROM oauth2_tokens WHERE request_id = ? AND kind = ? AND institution_id = ?`,
		requestID, kind, s.inst)
	if err != nil {
		return 0, fmt.Errorf("revoke %s family: %w", kind, err)
	}
	return n, nil
}

// RevokeOAuth2Subject implements storage.OAuth2Store.
func (s *scoped) RevokeOAuth2Subject(ctx context.Context, subject string) (int, error) {
	if subject == "" {
		return 0, fmt.Errorf("revoke grants: empty subject")
	}
	n, err := s.execN(ctx, `DELETE FROM oauth2_tokens WHERE institution_id = ? AND subject = ? AND kind IN (?, ?, ?, ?)`,
		s.inst, subject, storage.KindCode, storage.KindAccess, storage.KindRefresh, storage.KindSuccessor)
	if err != nil {
		return 0, fmt.Errorf("revoke grants: %w", err)
	}
	return n, nil
}

// CheckJTI implements storage.OAuth2Store.
func (s *scoped) CheckJTI(ctx context.Context, jti string) error {
	var n int
	err := s.get(ctx, &n, `SELECT COUNT(*) FROM oauth2_jtis WHERE institution_id = ? AND jti = ? AND expires_at > ?`,
		s.inst, jti, s.clock())
	if err != nil {
		return fmt.Errorf("check jti: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("check jti: %w", storage.ErrAlreadyUsed)
	}
	return nil
}

// UseJTI implements storage.OAuth2Store. An expired record of the same JWT ID
// is replaced; the upsert's WHERE makes a live one win over the newcomer.
func (s *scoped) UseJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	n, err := s.execN(ctx, `INSERT INTO oauth2_jtis (institution_id, jti, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (institution_id, jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE oauth2_jtis.expires_at <= ?`, s.inst, jti, expiresAt, s.clock())
	if err != nil {
		return fmt.Errorf("use jti: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("use jti: %w", storage.ErrAlreadyUsed)
	}
	return nil
}
