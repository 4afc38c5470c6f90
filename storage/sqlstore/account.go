package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usher-idp/usher/storage"
)

const accountColumns = `id, institution_id, kind, email, email_verified, given_name, family_name, locale, external_ref, status,
	password_hash, password_changed_at, password_expires_at, must_change_password, two_factor_required,
	totp_secret, totp_confirmed_at, totp_last_step, failed_sign_ins, last_failed_sign_in_at, locked_until,
	version, created_at, updated_at`

// accountInsertColumns are the columns an account is written with: those it
// is read from, and the key its email is compared by.
const accountInsertColumns = accountColumns + `, email_key`

// accountRow is what CreateAccount and bulk loads write: the values of
// accountInsertColumns, in order.
func accountRow(a *storage.Account) []any {
	return []any{a.ID, a.InstitutionID, a.Kind, a.Email, a.EmailVerified, a.GivenName, a.FamilyName, a.Locale, a.ExternalRef, a.Status,
		a.PasswordHash, a.PasswordChangedAt, a.PasswordExpiresAt, a.MustChangePassword, a.TwoFactorRequired,
		a.TOTPSecret, a.TOTPConfirmedAt, a.TOTPLastStep, a.FailedSignIns, a.LastFailedSignIn, a.LockedUntil,
		a.Version, a.CreatedAt, a.UpdatedAt, emailKey(a.Email)}
}

// emailKey is how emails are compared: case-insensitively.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// containsPattern is the LIKE pattern (with ESCAPE '\') of the lower-cased
// values that contain text: its own %, _ and \ match only themselves.
func containsPattern(text string) string {
	escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(text))
	return "%" + escaped + "%"
}

// CreateAccount implements storage.AccountStore.
func (s *scoped) CreateAccount(ctx context.Context, a *storage.Account) error {
	now := s.clock()
	if a.ID == "" {
		a.ID = NewID(now)
	}
	a.InstitutionID, a.Version, a.CreatedAt, a.UpdatedAt = s.inst, 1, now, now
	err := s.insert(ctx, `INSERT INTO accounts (`+accountInsertColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, accountRow(a)...)
	if errors.Is(err, storage.ErrDuplicate) {
		err = s.takenKeys(ctx, a)
	}
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	normAccount(a)
	return nil
}

// normAccount makes the caller's copy equal to what was stored.
func normAccount(a *storage.Account) {
	a.PasswordChangedAt = normTime(a.PasswordChangedAt)
	a.PasswordExpiresAt = normTime(a.PasswordExpiresAt)
	a.TOTPConfirmedAt = normTime(a.TOTPConfirmedAt)
	a.LastFailedSignIn = normTime(a.LastFailedSignIn)
	a.LockedUntil = normTime(a.LockedUntil)
}

// GetAccount implements storage.AccountStore.
func (s *scoped) GetAccount(ctx context.Context, id string) (*storage.Account, error) {
	var a storage.Account
	err := s.get(ctx, &a, `SELECT `+accountColumns+` FROM accounts WHERE institution_id = ? AND id = ?`, s.inst, id)
	if err != nil {
		return nil, fmt.Errorf("get account: %w", err)
	}
	return &a, nil
}

// GetAccountByEmail implements storage.AccountStore.
func (s *scoped) GetAccountByEmail(ctx context.Context, kind storage.AccountKind, email string) (*storage.Account, error) {
	var a storage.Account
	err := s.get(ctx, &a, `SELECT `+accountColumns+` FROM accounts
		WHERE institution_id = ? AND kind = ? AND email_key = ?`, s.inst, kind, emailKey(email))
	if err != nil {
		return nil, fmt.Errorf("get account by email: %w", err)
	}
	return &a, nil
}

// ListAccounts implements storage.AccountStore.
func (s *scoped) ListAccounts(ctx context.Context, f storage.AccountFilter) ([]storage.Account, error) {
	q := `SELECT ` + accountColumns + ` FROM accounts WHERE institution_id = ? AND id > ?`
	args := []any{s.inst, f.After}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Email != "" {
		q += ` AND email_key LIKE ? ESCAPE '\'`
		args = append(args, containsPattern(f.Email))
	}
	if f.Name != "" {
		q += ` AND LOWER(given_name || ' ' || family_name) LIKE ? ESCAPE '\'`
		args = append(args, containsPattern(f.Name))
	}
	if f.ExternalRef != "" {
		q += ` AND external_ref = ? AND external_ref <> ''` // the condition of the index that serves it
		args = append(args, f.ExternalRef)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limitOr(f.Limit, 100))
	var list []storage.Account
	if err := s.all(ctx, &list, q, args...); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return list, nil
}

// UpdateAccount implements storage.AccountStore. The new email may be taken:
// the statement runs guarded, so that ErrDuplicate leaves a transaction usable.
func (s *scoped) UpdateAccount(ctx context.Context, a *storage.Account) error {
	now := s.clock()
	var n int
	err := s.guard(ctx, func() (err error) {
		n, err = s.execN(ctx, `UPDATE accounts SET kind = ?, email = ?, email_key = ?, email_verified = ?,
		given_name = ?, family_name = ?, locale = ?, external_ref = ?, status = ?, password_hash = ?, password_changed_at = ?,
		password_expires_at = ?, must_change_password = ?, two_factor_required = ?, totp_secret = ?,
		totp_confirmed_at = ?, version = version + 1, updated_at = ?
		WHERE institution_id = ? AND id = ? AND version = ?`,
			a.Kind, a.Email, emailKey(a.Email), a.EmailVerified, a.GivenName, a.FamilyName, a.Locale, a.ExternalRef, a.Status,
			a.PasswordHash, a.PasswordChangedAt, a.PasswordExpiresAt, a.MustChangePassword, a.TwoFactorRequired,
			a.TOTPSecret, a.TOTPConfirmedAt, now, s.inst, a.ID, a.Version)
		return err
	})
	if errors.Is(err, storage.ErrDuplicate) {
		err = s.takenKeys(ctx, a)
	}
	if err != nil {
		return fmt.Errorf("update account: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("update account: %w",
			s.missingOrStale(ctx, `accounts WHERE institution_id = ? AND id = ?`, s.inst, a.ID))
	}
	a.Version++
	a.UpdatedAt = now
	normAccount(a)
	return nil
}

// takenKeys tells which unique keys of a another account of the
// institution holds, once a write of a met a taken key: ErrDuplicate for
// the email, ErrExternalRefTaken for the external reference, both joined;
// ErrDuplicate when it is neither (the ID, or an account gone meanwhile).
func (s *scoped) takenKeys(ctx context.Context, a *storage.Account) error {
	var email, ref int
	err := s.get(ctx, &email, `SELECT COUNT(*) FROM accounts WHERE institution_id = ? AND kind = ? AND email_key = ? AND id <> ?`,
		s.inst, a.Kind, emailKey(a.Email), a.ID)
	if err == nil && a.ExternalRef != "" {
		err = s.get(ctx, &ref, `SELECT COUNT(*) FROM accounts
			WHERE institution_id = ? AND kind = ? AND external_ref = ? AND external_ref <> '' AND id <> ?`,
			s.inst, a.Kind, a.ExternalRef, a.ID)
	}
	switch {
	case err != nil:
		return errors.Join(storage.ErrDuplicate, err)
	case ref > 0 && email > 0:
		return errors.Join(storage.ErrDuplicate, storage.ErrExternalRefTaken)
	case ref > 0:
		return storage.ErrExternalRefTaken
	}
	return storage.ErrDuplicate
}

// RecordSignInFailure implements storage.AccountStore.
func (s *scoped) RecordSignInFailure(ctx context.Context, id string) (int, error) {
	var n int
	err := s.get(ctx, &n, `UPDATE accounts SET failed_sign_ins = failed_sign_ins + 1, last_failed_sign_in_at = ?
		WHERE institution_id = ? AND id = ? RETURNING failed_sign_ins`, s.clock(), s.inst, id)
	if err != nil {
		return 0, fmt.Errorf("record sign-in failure: %w", err)
	}
	return n, nil
}

// ResetSignInFailures implements storage.AccountStore.
func (s *scoped) ResetSignInFailures(ctx context.Context, id string) error {
	return s.updateOne(ctx, "reset sign-in failures",
		`UPDATE accounts SET failed_sign_ins = 0, last_failed_sign_in_at = NULL, locked_until = NULL
		WHERE institution_id = ? AND id = ?`, s.inst, id)
}

// LockAccount implements storage.AccountStore.
func (s *scoped) LockAccount(ctx context.Context, id string, until *time.Time) error {
	return s.updateOne(ctx, "lock account",
		`UPDATE accounts SET locked_until = ? WHERE institution_id = ? AND id = ?`, until, s.inst, id)
}

// AdvanceTOTPStep implements storage.AccountStore.
func (s *scoped) AdvanceTOTPStep(ctx context.Context, id string, step int64) error {
	n, err := s.execN(ctx, `UPDATE accounts SET totp_last_step = ?
		WHERE institution_id = ? AND id = ? AND totp_last_step < ?`, step, s.inst, id, step)
	if err != nil {
		return fmt.Errorf("advance TOTP step: %w", err)
	}
	if n == 0 {
		if _, err := s.GetAccount(ctx, id); err != nil {
			return fmt.Errorf("advance TOTP step: %w", err)
		}
		return fmt.Errorf("advance TOTP step: %w", storage.ErrAlreadyUsed)
	}
	return nil
}

// updateOne runs an UPDATE that must change exactly one row.
func (s *Store) updateOne(ctx context.Context, what, query string, args ...any) error {
	n, err := s.execN(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	return nil
}

// lockAccount takes the account's row lock until the transaction ends, so
// that concurrent changes to what hangs off the account (links, recovery
// codes) happen one after the other. It is also the check that the account
// is this institution's. The no-op UPDATE locks the row in both dialects.
func (s *scoped) lockAccount(ctx context.Context, accountID string) error {
	n, err := s.execN(ctx, `UPDATE accounts SET version = version WHERE institution_id = ? AND id = ?`, s.inst, accountID)
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// ReplaceRecoveryCodes implements storage.AccountStore.
func (s *scoped) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte) error {
	return s.atomic(ctx, func(ctx context.Context) error {
		if err := s.lockAccount(ctx, accountID); err != nil {
			return fmt.Errorf("replace recovery codes: %w", err)
		}
		if _, err := s.exec(ctx, `DELETE FROM recovery_codes WHERE account_id = ?`, accountID); err != nil {
			return fmt.Errorf("replace recovery codes: %w", err)
		}
		for _, h := range hashes {
			if _, err := s.exec(ctx, `INSERT INTO recovery_codes (account_id, code_hash) VALUES (?, ?)`, accountID, h); err != nil {
				return fmt.Errorf("replace recovery codes: %w", err)
			}
		}
		return nil
	})
}

// UseRecoveryCode implements storage.AccountStore.
func (s *scoped) UseRecoveryCode(ctx context.Context, accountID string, hash []byte) error {
	n, err := s.execN(ctx, `UPDATE recovery_codes SET used_at = ?
		WHERE account_id = ? AND code_hash = ? AND used_at IS NULL
		AND account_id IN (SELECT id FROM accounts WHERE institution_id = ?)`, s.clock(), accountID, hash, s.inst)
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	if n == 1 {
		return nil
	}
	var used int
	err = s.get(ctx, &used, `SELECT COUNT(*) FROM recovery_codes
		WHERE account_id = ? AND code_hash = ? AND account_id IN (SELECT id FROM accounts WHERE institution_id = ?)`,
		accountID, hash, s.inst)
	switch {
	case err != nil:
		return fmt.Errorf("use recovery code: %w", err)
	case used > 0:
		return fmt.Errorf("use recovery code: %w", storage.ErrAlreadyUsed)
	}
	return fmt.Errorf("use recovery code: %w", storage.ErrNotFound)
}

// CountRecoveryCodes implements storage.AccountStore.
func (s *scoped) CountRecoveryCodes(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.get(ctx, &n, `SELECT COUNT(*) FROM recovery_codes
		WHERE account_id = ? AND used_at IS NULL AND account_id IN (SELECT id FROM accounts WHERE institution_id = ?)`,
		accountID, s.inst)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return n, nil
}
