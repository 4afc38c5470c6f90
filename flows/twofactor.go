package flows

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/templates"
)

// maxCodeAttempts is how many wrong codes one sign-in may give; then the
// password step starts again.
const maxCodeAttempts = 5

// TwoFactorStore is what the second factor needs of an institution's
// records.
type TwoFactorStore interface {
	SignInStore
	AccountGetter
	AdvanceTOTPStep(ctx context.Context, id string, step int64) error
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte) error
	UseRecoveryCode(ctx context.Context, accountID string, hash []byte) error
}

// TwoFactor is the second factor of signing in: the code (GET and POST
// /login/2fa), asked after the password or to step up a sign-in that used
// the password only, and the enrolment (GET and POST /2fa/setup) of an
// account that must use a second factor and has none, which shows the
// recovery codes once.
type TwoFactor struct {
	Site        *Site
	SignIn      *SignIn
	In          func(institutionID string) TwoFactorStore
	Tx          storage.Transactor
	Secrets     *seal.Sealer // TOTP secrets at rest
	RecoveryKey []byte       // the key of the recovery codes' stored form
	Mailer      Mailer
}

// factorStep is a browser at a step of the second factor: its session and
// state, the account, and the request to resume.
type factorStep struct {
	b    browserState
	acct *storage.Account
	rt   returnTo
}

// step finds the browser's step of the second factor: pending after the
// password (want), or signed in (a step-up, whose request is raw). Any
// other browser is sent to sign in, and false returned.
func (h *TwoFactor) step(w http.ResponseWriter, r *http.Request, inst *storage.Institution, want SignInState, raw string) (factorStep, bool) {
	b, err := h.SignIn.Sessions.load(r, inst)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return factorStep{}, false
	}
	st := b.state.current(h.Site.now())
	rt, _ := parseReturnTo(inst.Slug, raw)
	if st == want {
		rt, _ = parseReturnTo(inst.Slug, b.state.ReturnTo)
	}
	if st != want && st != SignedIn {
		redirect(w, r, loginURL(inst.Slug, rt))
		return factorStep{}, false
	}
	acct, err := h.In(inst.ID).GetAccount(r.Context(), b.state.Account)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && acct.Status != storage.Active) {
		redirect(w, r, loginURL(inst.Slug, rt))
		return factorStep{}, false
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return factorStep{}, false
	}
	return factorStep{b: b, acct: acct, rt: rt}, true
}

// getChallenge asks for a code.
func (h *TwoFactor) getChallenge(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	f, ok := h.step(w, r, inst, TwoFactorPending, r.URL.Query().Get(issuer.ReturnToParam))
	if !ok {
		return
	}
	if f.acct.TOTPConfirmedAt == nil {
		redirect(w, r, stepURL(inst.Slug, issuer.EnrolmentPath, f.rt))
		return
	}
	h.renderChallenge(w, r, inst, f, http.StatusOK, nil)
}

// postChallenge checks a code, or a recovery code. The attempt is counted
// before the code is checked; the fifth wrong one ends the sign-in, and
// every wrong one counts towards the account's lock like a wrong password.
func (h *TwoFactor) postChallenge(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	f, ok := h.step(w, r, inst, TwoFactorPending, r.PostForm.Get(issuer.ReturnToParam))
	if !ok {
		return
	}
	if f.acct.TOTPConfirmedAt == nil {
		redirect(w, r, stepURL(inst.Slug, issuer.EnrolmentPath, f.rt))
		return
	}
	code, recovery := r.PostForm.Get("code"), r.PostForm.Get("recovery_code")
	if strings.TrimSpace(code) == "" && strings.TrimSpace(recovery) == "" {
		h.renderChallenge(w, r, inst, f, http.StatusBadRequest, []templates.Problem{{Field: "code", ID: "two_factor.code_required"}})
		return
	}
	if !h.attempt(w, r, inst, f) {
		return
	}
	method, err := h.verify(r.Context(), inst, f.acct, code, recovery)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if method == "" {
		h.wrongCode(w, r, inst, f, recovery != "")
		return
	}
	if err := h.verified(r, inst, f, method); err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.SignIn.advance(w, r, inst, f.b, codeVerified, f.acct, f.rt)
}

// attempt counts a code attempt of this sign-in (its session) before the
// code is checked, and reports whether it is within the limit; beyond it
// the sign-in has ended. The count is atomic: of concurrent attempts, no
// more than the limit are checked.
func (h *TwoFactor) attempt(w http.ResponseWriter, r *http.Request, inst *storage.Institution, f factorStep) bool {
	n, err := h.In(inst.ID).HitThrottle(r.Context(), attemptsKey(f.b), pendingStepTTL)
	if err != nil {
		h.Site.fail(w, r, inst, fmt.Errorf("code attempts: %w", err))
		return false
	}
	if n > maxCodeAttempts {
		h.exhausted(w, r, inst, f)
		return false
	}
	return true
}

// attemptsKey is the throttle key of a sign-in's code attempts.
func attemptsKey(b browserState) string { return "2fa:attempts:" + b.sess.ID }

// verify checks a TOTP code (its time step accepted once: a replay, even a
// concurrent one, is a wrong code) or a recovery code (used once), and
// returns the method that passed ("totp", "recovery_code"), or "".
func (h *TwoFactor) verify(ctx context.Context, inst *storage.Institution, acct *storage.Account, code, recovery string) (string, error) {
	s := h.In(inst.ID)
	if strings.TrimSpace(recovery) != "" {
		err := s.UseRecoveryCode(ctx, acct.ID, recoveryHash(h.RecoveryKey, recovery))
		switch {
		case errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrAlreadyUsed):
			return "", nil
		case err != nil:
			return "", fmt.Errorf("recovery code: %w", err)
		}
		return "recovery_code", nil
	}
	ok, err := h.checkTOTP(ctx, s, inst, acct, code)
	if err != nil || !ok {
		return "", err
	}
	return "totp", nil
}

// checkTOTP checks a code of the account's secret and records its step.
func (h *TwoFactor) checkTOTP(ctx context.Context, s TwoFactorStore, inst *storage.Institution, acct *storage.Account, code string) (bool, error) {
	if len(acct.TOTPSecret) == 0 { // no secret yet (the enrolment form posted before its page was shown): no code matches
		return false, nil
	}
	secret, err := h.secret(inst, acct)
	if err != nil {
		return false, err
	}
	step, ok := totpStep(secret, code, h.Site.now())
	if !ok {
		return false, nil
	}
	err = s.AdvanceTOTPStep(ctx, acct.ID, step)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("TOTP step: %w", err)
	}
	return true, nil
}

// verified records a passed code and forgets the sign-in's attempts.
func (h *TwoFactor) verified(r *http.Request, inst *storage.Institution, f factorStep, method string) error {
	s := h.In(inst.ID)
	if err := s.ResetThrottle(r.Context(), attemptsKey(f.b)); err != nil {
		return fmt.Errorf("code attempts: %w", err)
	}
	action := "two_factor_verified"
	if method == "recovery_code" {
		action = "recovery_code_used"
	}
	return audit(r.Context(), s, r, f.acct.ID, action, storage.Details{"client_id": f.rt.clientID()})
}

// wrongCode answers a wrong code: it counts towards the account's lock, and
// the form is shown again.
func (h *TwoFactor) wrongCode(w http.ResponseWriter, r *http.Request, inst *storage.Institution, f factorStep, recovery bool) {
	locked, err := h.SignIn.countFailure(r, inst, f.acct, f.rt)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if locked {
		h.exhausted(w, r, inst, f)
		return
	}
	field, id := "code", "two_factor.code_wrong"
	if recovery {
		field, id = "recovery_code", "two_factor.recovery_code_wrong"
	}
	h.renderChallenge(w, r, inst, f, http.StatusBadRequest, []templates.Problem{{Field: field, ID: id}})
}

// exhausted ends a sign-in that gave too many wrong codes (or whose
// account locked meanwhile): the browser is signed out and starts again
// with the password.
func (h *TwoFactor) exhausted(w http.ResponseWriter, r *http.Request, inst *storage.Institution, f factorStep) {
	if err := h.SignIn.Sessions.SignOut(w, r, inst); err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	page := signInPage(h.Site, r, inst, f.rt)
	page.Problems = []templates.Problem{{ID: "two_factor.too_many"}}
	h.Site.render(w, r, func() error { return h.Site.Pages.SignIn(w, http.StatusTooManyRequests, page) })
}

// renderChallenge writes the code form.
func (h *TwoFactor) renderChallenge(w http.ResponseWriter, r *http.Request, inst *storage.Institution, f factorStep,
	status int, problems []templates.Problem) {
	page := templates.TwoFactorPage{Frame: h.Site.stepFrame(r, inst, f.rt, f.rt.uiLocales(), f.acct.Locale),
		Form: templates.Form{ReturnTo: f.rt.raw, Problems: problems}}
	if f.b.state.current(h.Site.now()) == TwoFactorPending {
		page.ReturnTo = "" // kept in the session
	}
	h.Site.render(w, r, func() error { return h.Site.Pages.TwoFactor(w, status, page) })
}

// secret opens the account's TOTP secret.
func (h *TwoFactor) secret(inst *storage.Institution, acct *storage.Account) (string, error) {
	raw, err := h.Secrets.Open(acct.TOTPSecret, secretBinding(inst, acct))
	if err != nil {
		return "", fmt.Errorf("TOTP secret of %s: %w", acct.ID, err)
	}
	return string(raw), nil
}

// secretBinding ties a sealed secret to its account: a secret moved to
// another account does not open.
func secretBinding(inst *storage.Institution, acct *storage.Account) []byte {
	return []byte("totp/" + inst.ID + "/" + acct.ID)
}

// stepURL is a step's page, resuming rt.
func stepURL(slug, page string, rt returnTo) string {
	if !rt.valid() {
		return pagePath(slug, page)
	}
	return pagePath(slug, page) + "?" + issuer.ReturnToParam + "=" + url.QueryEscape(rt.raw)
}

// totpURL is the otpauth:// URL of the account's secret, for the QR code.
func totpURL(inst *storage.Institution, acct *storage.Account, secret string) (string, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("TOTP secret: %w", err)
	}
	k, err := totp.Generate(totp.GenerateOpts{Issuer: inst.ShownName(), AccountName: acct.Email, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Secret: raw})
	if err != nil {
		return "", fmt.Errorf("TOTP URL: %w", err)
	}
	return k.URL(), nil
}

// queueTwoFactorEnabled tells the account holder a second factor was
// enrolled, in the transaction of ctx.
func (h *TwoFactor) queueTwoFactorEnabled(ctx context.Context, inst *storage.Institution, acct *storage.Account, at time.Time) error {
	_, err := h.Mailer.Queue(ctx, inst, mail.To(acct), templates.TwoFactorEnabledEmail{At: at})
	return err
}
