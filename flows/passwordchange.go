package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// PasswordChangeStore is what the forced password change needs of an
// institution's records.
type PasswordChangeStore interface {
	AccountGetter
	auditRecorder
	UpdateAccount(ctx context.Context, a *storage.Account) error
	DeleteAccountSessions(ctx context.Context, accountID, exceptID string) (int, error)
}

// PasswordChange is the step of signing in that replaces a temporary
// password (GET and POST /password/change): the browser is in state
// PasswordChangePending, and goes on through SignIn once the password is
// replaced.
type PasswordChange struct {
	Site   *Site
	SignIn *SignIn
	In     func(institutionID string) PasswordChangeStore
	Tx     storage.Transactor
	Hasher *password.Hasher
	Policy *password.Checker
}

// pendingChange is a browser in state PasswordChangePending, with what it
// needs: its session, the account and the request to resume.
type pendingChange struct {
	b    browserState
	acct *storage.Account
	rt   returnTo
}

// getPasswordChange shows the form that replaces a temporary password.
func (h *PasswordChange) get(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	p, ok := h.pending(w, r, inst)
	if !ok {
		return
	}
	page := h.page(r, inst, p, nil)
	h.Site.render(w, r, func() error { return h.Site.Pages.ChangePassword(w, http.StatusOK, page) })
}

// postPasswordChange sets the new password and completes the sign-in.
func (h *PasswordChange) post(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	p, ok := h.pending(w, r, inst)
	if !ok {
		return
	}
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("password_confirm")
	problems, err := h.problems(r.Context(), inst, p.acct, pw, confirm)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if len(problems) > 0 {
		page := h.page(r, inst, p, problems)
		h.Site.render(w, r, func() error { return h.Site.Pages.ChangePassword(w, http.StatusBadRequest, page) })
		return
	}
	if err := h.replace(r, inst, p, pw); err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.SignIn.advance(w, r, inst, p.b, passwordChanged, p.acct, p.rt)
}

// pending returns the browser's pending password change. Without one it
// has sent the browser to the sign-in page (with a message when the step
// expired or the account may no longer sign in) and returns false.
func (h *PasswordChange) pending(w http.ResponseWriter, r *http.Request, inst *storage.Institution) (pendingChange, bool) {
	b, err := h.SignIn.Sessions.load(r, inst)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return pendingChange{}, false
	}
	if b.state.State != PasswordChangePending || b.state.Account == "" {
		redirect(w, r, pagePath(inst.Slug, issuer.LoginPath))
		return pendingChange{}, false
	}
	p := pendingChange{b: b}
	p.rt, _ = parseReturnTo(inst.Slug, b.state.ReturnTo)
	message, err := h.problem(r.Context(), inst, &p)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return pendingChange{}, false
	}
	if message == "" {
		return p, true
	}
	if err := h.SignIn.Sessions.SignOut(w, r, inst); err != nil {
		h.Site.fail(w, r, inst, err)
		return pendingChange{}, false
	}
	page := signInPage(h.Site, r, inst, p.rt)
	page.Problems = []templates.Problem{{ID: message, Args: map[string]string{"institution": page.Brand.Name}}}
	h.Site.render(w, r, func() error { return h.Site.Pages.SignIn(w, http.StatusForbidden, page) })
	return pendingChange{}, false
}

// problem loads the pending account into p and returns the message id
// that ends the step, or "" when it may go on.
func (h *PasswordChange) problem(ctx context.Context, inst *storage.Institution, p *pendingChange) (string, error) {
	now := h.Site.now()
	if p.b.state.current(now) != PasswordChangePending {
		return "signin.step_expired", nil
	}
	acct, err := h.In(inst.ID).GetAccount(ctx, p.b.state.Account)
	if errors.Is(err, storage.ErrNotFound) {
		return "signin.step_expired", nil
	}
	if err != nil {
		return "", fmt.Errorf("password change: %w", err)
	}
	p.acct = acct
	switch {
	case acct.Status != storage.Active || !acct.MustChangePassword:
		return "signin.step_expired", nil
	case acct.PasswordExpiresAt != nil && !now.Before(*acct.PasswordExpiresAt):
		return "signin.password_expired", nil
	}
	return "", nil
}

// problems lists everything wrong with a new password: every unmet rule of
// the policy, a confirmation that differs, the temporary password given
// again.
func (h *PasswordChange) problems(ctx context.Context, inst *storage.Institution, acct *storage.Account, pw, confirm string) ([]templates.Problem, error) {
	problems := newPasswordProblems(h.Policy, inst.Settings.Password, acct.Email, pw, confirm)
	if len(problems) > 0 {
		return problems, nil
	}
	same, _, err := h.Hasher.Verify(ctx, pw, acct.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) {
		return nil, fmt.Errorf("password change: %w", err)
	}
	if same {
		problems = append(problems, templates.Problem{Field: "password", ID: "password_change.same_as_old"})
	}
	return problems, nil
}

// replace stores the new password, clears the temporary one, ends the
// account's other sessions and records the change, atomically.
func (h *PasswordChange) replace(r *http.Request, inst *storage.Institution, p pendingChange, pw string) error {
	hash, err := h.Hasher.Hash(r.Context(), pw)
	if err != nil {
		return fmt.Errorf("password change: %w", err)
	}
	now := h.Site.now()
	a := p.acct
	a.PasswordHash, a.PasswordChangedAt, a.PasswordExpiresAt, a.MustChangePassword = hash, &now, nil, false
	s := h.In(inst.ID)
	return h.Tx.InTx(r.Context(), func(ctx context.Context) error {
		if err := s.UpdateAccount(ctx, a); err != nil {
			return fmt.Errorf("password change: %w", err)
		}
		if _, err := s.DeleteAccountSessions(ctx, a.ID, p.b.sess.ID); err != nil {
			return fmt.Errorf("password change: %w", err)
		}
		return audit(ctx, s, r, a.ID, "password_changed", storage.Details{"temporary_replaced": "true"})
	})
}

// page is the form with the institution's rules.
func (h *PasswordChange) page(r *http.Request, inst *storage.Institution, p pendingChange, problems []templates.Problem) templates.ChangePasswordPage {
	return templates.ChangePasswordPage{
		Frame: h.Site.stepFrame(r, inst, p.rt, p.rt.uiLocales(), p.acct.Locale),
		Form:  templates.Form{Problems: problems},
		Rules: policyRules(inst.Settings.Password),
	}
}
