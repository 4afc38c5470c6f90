package admin

import (
	"net/url"
	"strconv"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// AccountView is an account as the API (and usher account list --json)
// shows it: never a secret (no password hash, no second-factor secret).
type AccountView struct {
	ID                 string     `json:"id"`
	Kind               string     `json:"kind"`
	Email              string     `json:"email"`
	EmailVerified      bool       `json:"email_verified"`
	GivenName          string     `json:"given_name"`
	FamilyName         string     `json:"family_name"`
	Locale             string     `json:"locale"`
	ExternalRef        string     `json:"external_ref"` // the box office's reference, "" none
	Status             string     `json:"status"`
	HasPassword        bool       `json:"has_password"`
	PasswordChangedAt  *time.Time `json:"password_changed_at"`
	PasswordExpiresAt  *time.Time `json:"password_expires_at"` // a temporary password's expiry
	MustChangePassword bool       `json:"must_change_password"`
	TwoFactorRequired  bool       `json:"two_factor_required"`
	TwoFactorEnrolled  bool       `json:"two_factor_enrolled"`
	FailedSignIns      int        `json:"failed_sign_ins"`
	Locked             bool       `json:"locked"`
	LockedUntil        *time.Time `json:"locked_until"` // only while locked
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// ViewAccount shows a; it is locked when its lock lasts beyond now.
func ViewAccount(a *storage.Account, now time.Time) AccountView {
	v := AccountView{ID: a.ID, Kind: string(a.Kind), Email: a.Email, EmailVerified: a.EmailVerified,
		GivenName: a.GivenName, FamilyName: a.FamilyName, Locale: a.Locale, ExternalRef: a.ExternalRef, Status: string(a.Status),
		HasPassword: a.PasswordHash != "", PasswordChangedAt: a.PasswordChangedAt, PasswordExpiresAt: a.PasswordExpiresAt,
		MustChangePassword: a.MustChangePassword, TwoFactorRequired: a.TwoFactorRequired,
		TwoFactorEnrolled: a.TOTPConfirmedAt != nil, FailedSignIns: a.FailedSignIns,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if a.LockedUntil != nil && a.LockedUntil.After(now) {
		v.Locked, v.LockedUntil = true, a.LockedUntil
	}
	return v
}

// accountPage is a page of a list of accounts; NextCursor, when set, asks
// for the next one.
type accountPage struct {
	Accounts   []AccountView `json:"accounts"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// eventView is an audit event as the API shows it.
type eventView struct {
	ID        string            `json:"id"`
	Action    string            `json:"action"`
	Actor     string            `json:"actor"`
	Address   string            `json:"address"`
	Details   map[string]string `json:"details"`
	CreatedAt time.Time         `json:"created_at"`
}

// eventPage is a page of an account's audit events, newest first.
type eventPage struct {
	Events     []eventView `json:"events"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

func viewEvent(e *storage.AuditEvent) eventView {
	details := map[string]string(e.Details)
	if details == nil {
		details = map[string]string{}
	}
	return eventView{ID: e.ID, Action: e.Action, Actor: e.Actor, Address: e.Address, Details: details, CreatedAt: e.CreatedAt}
}

// Paging: a page holds limit items (default and maximum below); the
// cursor of the next page is the last item's ID (cut).
const (
	defaultLimit = 50
	maxLimit     = 200
)

// pageLimit reads the limit parameter of q.
func pageLimit(q url.Values) (int, []flows.Problem) {
	raw := q.Get("limit")
	if raw == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		return 0, []flows.Problem{{Field: "limit", ID: "admin.limit_range", Args: map[string]string{"max": strconv.Itoa(maxLimit)}}}
	}
	return n, nil
}

// cut keeps the first limit items of a list read with limit+1, and returns
// the cursor of the next page: the ID of the last item kept, "" when the
// list ends here.
func cut[T any](list []T, limit int, id func(*T) string) ([]T, string) {
	if len(list) <= limit {
		return list, ""
	}
	return list[:limit], id(&list[limit-1])
}
