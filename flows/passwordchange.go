package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// pendingChange is a browser in state PasswordChangePending, with what it
// needs: its session, the account and the request to resume.
type pendingChange struct {
	sess *sessions.Session
	acct *storage.Account
	rt   returnTo
}

// getPasswordChange shows the form that replaces a temporary password.
func (x *Web) getPasswordChange(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	p, ok := x.pendingChange(w, r, inst)
	if !ok {
		return
	}
	page := x.changePasswordPage(r, inst, p, nil)
	x.render(w, r, func() error { return x.Pages.ChangePassword(w, http.StatusOK, page) })
}

// postPasswordChange sets the new password and completes the sign-in.
func (x *Web) postPasswordChange(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !x.parseForm(w, r, inst) {
		return
	}
	p, ok := x.pendingChange(w, r, inst)
	if !ok {
		return
	}
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("password_confirm")
	problems, err := x.newPasswordProblems(r.Context(), inst, p.acct, pw, confirm)
	if err != nil {
		x.fail(w, r, inst, err)
		return
	}
	if len(problems) > 0 {
		page := x.changePasswordPage(r, inst, p, problems)
		x.render(w, r, func() error { return x.Pages.ChangePassword(w, http.StatusBadRequest, page) })
		return
	}
	if err := x.replacePassword(r, inst, p, pw); err != nil {
		x.fail(w, r, inst, err)
		return
	}
	x.completeSignIn(w, r, inst, p.sess, p.acct, p.rt, passwordChanged)
}

// pendingChange returns the browser's pending password change. Without one
// it has sent the browser to the sign-in page (with a message when the step
// expired or the account may no longer sign in) and returns false.
func (x *Web) pendingChange(w http.ResponseWriter, r *http.Request, inst *storage.Institution) (pendingChange, bool) {
	sess, err := x.Sessions.For(inst).Get(r, CookieName)
	if err != nil {
		x.fail(w, r, inst, err)
		return pendingChange{}, false
	}
	if stateOf(sess) != PasswordChangePending {
		redirect(w, r, issuerPath(inst.Slug)+"/login")
		return pendingChange{}, false
	}
	p := pendingChange{sess: sess}
	p.rt, _ = parseReturnTo(inst.Slug, stringValue(sess, ValueReturnTo))
	message, err := x.pendingProblem(r.Context(), inst, &p)
	if err != nil {
		x.fail(w, r, inst, err)
		return pendingChange{}, false
	}
	if message == "" {
		return p, true
	}
	if err := x.Sessions.SignOut(w, r, inst); err != nil {
		x.fail(w, r, inst, err)
		return pendingChange{}, false
	}
	page := x.signInPage(r, inst, p.rt, nil)
	page.Problems = []templates.Problem{{ID: message, Args: map[string]string{"institution": page.Brand.Name}}}
	x.render(w, r, func() error { return x.Pages.SignIn(w, http.StatusForbidden, page) })
	return pendingChange{}, false
}

// pendingProblem loads the pending account into p and returns the message
// id that ends the step, or "" when it may go on.
func (x *Web) pendingProblem(ctx context.Context, inst *storage.Institution, p *pendingChange) (string, error) {
	now := x.now()
	if at, ok := p.sess.Values[ValueStepAt].(time.Time); !ok || !now.Before(at.Add(pendingStepTTL)) {
		return "signin.step_expired", nil
	}
	acct, err := x.Store.In(inst.ID).GetAccount(ctx, stringValue(p.sess, ValuePending))
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

// newPasswordProblems lists everything wrong with a new password: every
// unmet rule of the policy, a confirmation that differs, the temporary
// password given again.
func (x *Web) newPasswordProblems(ctx context.Context, inst *storage.Institution, acct *storage.Account, pw, confirm string) ([]templates.Problem, error) {
	var problems []templates.Problem
	if pw == "" {
		problems = append(problems, templates.Problem{Field: "password", ID: "signin.password_required"})
	} else {
		local, _, _ := strings.Cut(acct.Email, "@")
		args := map[string]string{"min_length": strconv.Itoa(password.MinLength(inst.Settings.Password))}
		for _, id := range x.Policy.Check(inst.Settings.Password, pw, acct.Email, local) {
			problems = append(problems, templates.Problem{Field: "password", ID: id, Args: args})
		}
	}
	switch {
	case confirm == "":
		problems = append(problems, templates.Problem{Field: "password_confirm", ID: "password_change.confirm_required"})
	case confirm != pw:
		problems = append(problems, templates.Problem{Field: "password_confirm", ID: "password_change.mismatch"})
	}
	if len(problems) > 0 {
		return problems, nil
	}
	same, _, err := x.Hasher.Verify(ctx, pw, acct.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) {
		return nil, fmt.Errorf("password change: %w", err)
	}
	if same {
		problems = append(problems, templates.Problem{Field: "password", ID: "password_change.same_as_old"})
	}
	return problems, nil
}

// replacePassword stores the new password, clears the temporary one, ends
// the account's other sessions and records the change, atomically.
func (x *Web) replacePassword(r *http.Request, inst *storage.Institution, p pendingChange, pw string) error {
	hash, err := x.Hasher.Hash(r.Context(), pw)
	if err != nil {
		return fmt.Errorf("password change: %w", err)
	}
	now := x.now()
	a := p.acct
	a.PasswordHash, a.PasswordChangedAt, a.PasswordExpiresAt, a.MustChangePassword = hash, &now, nil, false
	s := x.Store.In(inst.ID)
	return x.Store.InTx(r.Context(), func(ctx context.Context) error {
		if err := s.UpdateAccount(ctx, a); err != nil {
			return fmt.Errorf("password change: %w", err)
		}
		if _, err := s.DeleteAccountSessions(ctx, a.ID, p.sess.ID); err != nil {
			return fmt.Errorf("password change: %w", err)
		}
		return x.audit(ctx, s, r, a.ID, "password_changed", storage.Details{"temporary_replaced": "true"})
	})
}

// changePasswordPage is the form with the institution's rules.
func (x *Web) changePasswordPage(r *http.Request, inst *storage.Institution, p pendingChange, problems []templates.Problem) templates.ChangePasswordPage {
	return templates.ChangePasswordPage{
		Frame: x.frame(inst, x.locale(r, inst, p.rt.uiLocales(), p.acct.Locale)),
		Form:  templates.Form{Problems: problems},
		Rules: policyRules(inst.Settings.Password),
	}
}

// policyRules explains a password policy, one rule per item.
func policyRules(p storage.PasswordPolicy) []templates.Text {
	rules := []templates.Text{{ID: password.TooShort,
		Args: map[string]string{"min_length": strconv.Itoa(password.MinLength(p))}}}
	for _, rule := range []struct {
		on bool
		id string
	}{
		{p.RequireUpper, password.NeedsUpper},
		{p.RequireDigit, password.NeedsDigit},
		{p.RequireSpecial, password.NeedsSpecial},
		{p.RefuseCommon, "password_change.rule_common"},
		{true, password.SameAsIdentity},
	} {
		if rule.on {
			rules = append(rules, templates.Text{ID: rule.id})
		}
	}
	return rules
}

// stringValue is a string value of the session, or "".
func stringValue(sess *sessions.Session, key string) string {
	s, _ := sess.Values[key].(string)
	return s
}
