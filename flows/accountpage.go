package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// AccountPageStore is what the account page needs of an institution's
// records.
type AccountPageStore interface {
	AccountGetter
	auditRecorder
	UpdateAccount(ctx context.Context, a *storage.Account) error
	ListAccountSessions(ctx context.Context, accountID string) ([]storage.BrowserSession, error)
	DeleteAccountSessions(ctx context.Context, accountID, exceptID string) (int, error)
	RevokeOAuth2Subject(ctx context.Context, subject string) (int, error)
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte) error
	CountRecoveryCodes(ctx context.Context, accountID string) (int, error)
	clientLister // the points of sale the signed-out page offers
}

// AccountPage is the page of the signed-in person (GET /account): who is
// signed in; a change of password (POST /account/password); the second
// factor: turn it on (/2fa/setup), off when not required (POST
// /account/2fa/disable), new recovery codes (POST /account/recovery-codes);
// the browsers signed in, and signing out of all of them (POST
// /account/sessions/end).
type AccountPage struct {
	Site        *Site
	SignIn      *SignIn // the sessions, and a wrong current password counted like a failed sign-in
	In          func(institutionID string) AccountPageStore
	Tx          storage.Transactor
	Hasher      *password.Hasher
	Policy      *password.Checker
	RecoveryKey []byte // the key of the recovery codes' stored form
	Mailer      Mailer
}

// holder is the signed-in person of a request to the account page.
type holder struct {
	acct *storage.Account
	who  *issuer.SignedIn
}

// signedIn finds the person; nobody signed in is sent to sign in, and
// false returned.
func (h *AccountPage) signedIn(w http.ResponseWriter, r *http.Request, inst *storage.Institution) (holder, bool) {
	who, err := h.SignIn.Sessions.Authenticated(r, inst)
	var acct *storage.Account
	if err == nil && who != nil {
		acct, err = h.SignIn.Sessions.account(r, inst, h.In(inst.ID))
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return holder{}, false
	}
	if acct == nil {
		redirect(w, r, pagePath(inst.Slug, issuer.LoginPath))
		return holder{}, false
	}
	return holder{acct: acct, who: who}, true
}

// get shows the page.
func (h *AccountPage) get(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	p, ok := h.signedIn(w, r, inst)
	if !ok {
		return
	}
	h.render(w, r, inst, p, http.StatusOK, nil, nil)
}

// render writes the page of p with a notice or the password form's
// problems.
func (h *AccountPage) render(w http.ResponseWriter, r *http.Request, inst *storage.Institution, p holder, status int,
	notice *templates.Text, problems []templates.Problem) {
	page, err := h.page(r, inst, p)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	page.Notice, page.Problems = notice, problems
	h.Site.render(w, r, func() error { return h.Site.Pages.SignedIn(w, status, page) })
}

// page is what the page shows of p.
func (h *AccountPage) page(r *http.Request, inst *storage.Institution, p holder) (templates.SignedInPage, error) {
	s, a := h.In(inst.ID), p.acct
	page := templates.SignedInPage{Frame: h.Site.frame(r, inst, a.Locale), Email: a.Email}
	page.TwoFactor = templates.FactorInfo{Enrolled: a.TOTPConfirmedAt != nil,
		CanTurnOn:  a.TOTPConfirmedAt == nil && (a.Kind == storage.Operator || inst.Settings.CustomerTwoFactor),
		CanTurnOff: a.TOTPConfirmedAt != nil && !a.TwoFactorRequired}
	if page.TwoFactor.Enrolled {
		n, err := s.CountRecoveryCodes(r.Context(), a.ID)
		if err != nil {
			return page, fmt.Errorf("account page: %w", err)
		}
		page.TwoFactor.CodesLeft = n
	}
	sessions, err := s.ListAccountSessions(r.Context(), a.ID)
	if err != nil {
		return page, fmt.Errorf("account page: %w", err)
	}
	for _, bs := range sessions {
		page.Sessions = append(page.Sessions, templates.SessionRow{Started: bs.CreatedAt, LastUsed: bs.UpdatedAt,
			Current: bs.ID == p.who.SessionID})
	}
	return page, nil
}

// postPassword changes the password: the current one, then the new one
// twice. A wrong current password counts like a failed sign-in. The other
// browsers are signed out and the account's grants revoked.
func (h *AccountPage) postPassword(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	p, ok := h.signedIn(w, r, inst)
	if !ok {
		return
	}
	current, pw, confirm := r.PostForm.Get("current_password"), r.PostForm.Get("password"), r.PostForm.Get("password_confirm")
	right, _, err := h.Hasher.Verify(r.Context(), current, p.acct.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) && !errors.Is(err, password.ErrTooLong) {
		h.Site.fail(w, r, inst, err)
		return
	}
	if !right {
		if _, err := h.SignIn.countFailure(r, inst, p.acct, returnTo{}); err != nil {
			h.Site.fail(w, r, inst, err)
			return
		}
		h.render(w, r, inst, p, http.StatusBadRequest, nil,
			[]templates.Problem{{Field: "current_password", ID: "account.current_password_wrong"}})
		return
	}
	if problems := newPasswordProblems(h.Policy, inst.Settings.Password, p.acct.Email, pw, confirm); len(problems) > 0 {
		h.render(w, r, inst, p, http.StatusBadRequest, nil, problems)
		return
	}
	if err := h.changePassword(r, inst, p, pw); err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.render(w, r, inst, p, http.StatusOK, &templates.Text{ID: "password_change.done"}, nil)
}

// changePassword stores the new password, ends the other sessions and
// revokes the grants, atomically.
func (h *AccountPage) changePassword(r *http.Request, inst *storage.Institution, p holder, pw string) error {
	hash, err := h.Hasher.Hash(r.Context(), pw)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	now, s := h.Site.now(), h.In(inst.ID)
	return h.Tx.InTx(r.Context(), func(ctx context.Context) error {
		a := p.acct
		a.PasswordHash, a.PasswordChangedAt, a.PasswordExpiresAt, a.MustChangePassword = hash, &now, nil, false
		if err := s.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if _, err := s.DeleteAccountSessions(ctx, a.ID, p.who.SessionID); err != nil {
			return err
		}
		if _, err := s.RevokeOAuth2Subject(ctx, a.ID); err != nil {
			return err
		}
		return audit(ctx, s, r, a.ID, "password_changed", nil)
	})
}

// usedSecondFactor reports whether this browser signed in with the second
// factor: what turning it off or renewing the codes needs.
func (p holder) usedSecondFactor() bool { return slices.Contains(p.who.Methods, "otp") }

// postRecoveryCodes replaces the recovery codes (the old ones stop
// working) and shows the new ones, once.
func (h *AccountPage) postRecoveryCodes(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	p, ok := h.secondFactorAction(w, r, inst)
	if !ok {
		return
	}
	codes, hashes, err := newRecoveryCodes(h.RecoveryKey)
	if err == nil {
		s := h.In(inst.ID)
		err = h.Tx.InTx(r.Context(), func(ctx context.Context) error {
			if err := s.ReplaceRecoveryCodes(ctx, p.acct.ID, hashes); err != nil {
				return err
			}
			return audit(ctx, s, r, p.acct.ID, "recovery_codes_renewed", nil)
		})
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	page := templates.RecoveryCodesPage{Frame: h.Site.frame(r, inst, p.acct.Locale), Codes: codes,
		Next: templates.Link{URL: pagePath(inst.Slug, "/account"), Text: templates.Text{ID: "reset.continue"}}}
	page.LanguageLinks = nil // the codes are shown once: no link may leave the page
	h.Site.render(w, r, func() error { return h.Site.Pages.RecoveryCodes(w, http.StatusOK, page) })
}

// postDisableTwoFactor turns the second factor off, when the account is
// not required to use it: the secret and the recovery codes are removed,
// and the account holder told by email.
func (h *AccountPage) postDisableTwoFactor(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	p, ok := h.secondFactorAction(w, r, inst)
	if !ok {
		return
	}
	if p.acct.TwoFactorRequired {
		h.Site.Error(w, r, inst, http.StatusForbidden, "two_factor.title", "account.two_factor_required")
		return
	}
	if err := removeSecondFactor(r.Context(), h.In(inst.ID), h.Tx, h.Mailer, inst, p.acct, h.Site.now(),
		storage.AuditEvent{Actor: string(ActorSelf), Address: clientIP(r)}); err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.render(w, r, inst, p, http.StatusOK, &templates.Text{ID: "account.two_factor_removed"}, nil)
}

// secondFactorAction finds a signed-in person who may act on the second
// factor: enrolled, and signed in with it in this browser.
func (h *AccountPage) secondFactorAction(w http.ResponseWriter, r *http.Request, inst *storage.Institution) (holder, bool) {
	if !h.Site.parseForm(w, r, inst) {
		return holder{}, false
	}
	p, ok := h.signedIn(w, r, inst)
	if !ok {
		return holder{}, false
	}
	if p.acct.TOTPConfirmedAt == nil || !p.usedSecondFactor() {
		h.Site.Error(w, r, inst, http.StatusForbidden, "two_factor.title", "account.two_factor_needs_code")
		return holder{}, false
	}
	return p, true
}

// factorRemover removes a second factor.
type factorRemover interface {
	auditRecorder
	AccountGetter
	UpdateAccount(ctx context.Context, a *storage.Account) error
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte) error
}

// removeSecondFactor removes the account's second factor and its recovery
// codes, queues two_factor_removed and records it (by the actor and from
// the address of event), atomically.
func removeSecondFactor(ctx context.Context, s factorRemover, tx storage.Transactor, mailer Mailer,
	inst *storage.Institution, acct *storage.Account, now time.Time, event storage.AuditEvent) error {
	return tx.InTx(ctx, func(ctx context.Context) error {
		a, err := s.GetAccount(ctx, acct.ID)
		if err != nil {
			return err
		}
		a.TOTPSecret, a.TOTPConfirmedAt, a.TOTPLastStep = nil, nil, 0
		if err := s.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if err := s.ReplaceRecoveryCodes(ctx, a.ID, nil); err != nil {
			return err
		}
		doc := templates.TwoFactorRemovedEmail{At: now, ByOperator: event.Actor != string(ActorSelf)}
		if _, err := mailer.Queue(ctx, inst, mail.To(a), doc); err != nil {
			return err
		}
		*acct = *a
		event.AccountID, event.Action = a.ID, "two_factor_removed"
		return s.RecordAudit(ctx, &event)
	})
}

// postEndSessions signs the account out of every browser, this one too.
func (h *AccountPage) postEndSessions(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	p, ok := h.signedIn(w, r, inst)
	if !ok {
		return
	}
	s := h.In(inst.ID)
	err := h.Tx.InTx(r.Context(), func(ctx context.Context) error {
		n, err := s.DeleteAccountSessions(ctx, p.acct.ID, "")
		if err != nil {
			return err
		}
		return audit(ctx, s, r, p.acct.ID, "signed_out_everywhere", storage.Details{"sessions": fmt.Sprint(n)})
	})
	if err == nil {
		err = h.SignIn.Sessions.SignOut(w, r, inst)
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	page := templates.SignedOutPage{Frame: h.Site.frame(r, inst, p.acct.Locale)}
	if page.PointsOfSale, err = pointsOfSale(r, h.In(inst.ID)); err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.Site.render(w, r, func() error { return h.Site.Pages.SignedOut(w, http.StatusOK, page) })
}
