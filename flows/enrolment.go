package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// getSetup shows the enrolment of a second factor: the QR code of a new
// secret, the secret in text, and the field of the first code. The secret
// is kept (sealed) on the account until a code confirms it; opening the
// page again shows the same one.
func (h *TwoFactor) getSetup(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	f, ok := h.enrolling(w, r, inst, r.URL.Query().Get(issuer.ReturnToParam))
	if !ok {
		return
	}
	page, err := h.setupPage(r, inst, f, nil)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.Site.render(w, r, func() error { return h.Site.Pages.TwoFactorSetup(w, http.StatusOK, page) })
}

// postSetup confirms the enrolment with a first code: the secret is
// confirmed, ten recovery codes replace any earlier ones, the account
// holder is told by email, the browser is signed in with both factors, and
// the recovery codes are shown, this once.
func (h *TwoFactor) postSetup(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	f, ok := h.enrolling(w, r, inst, r.PostForm.Get(issuer.ReturnToParam))
	if !ok {
		return
	}
	if !h.attempt(w, r, inst, f) {
		return
	}
	ok, err := h.checkTOTP(r.Context(), h.In(inst.ID), inst, f.acct, r.PostForm.Get("code"))
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if !ok {
		page, err := h.setupPage(r, inst, f, []templates.Problem{{Field: "code", ID: "two_factor.code_wrong"}})
		if err != nil {
			h.Site.fail(w, r, inst, err)
			return
		}
		h.Site.render(w, r, func() error { return h.Site.Pages.TwoFactorSetup(w, http.StatusBadRequest, page) })
		return
	}
	codes, err := h.confirm(r, inst, f)
	if err == nil {
		_, err = h.SignIn.Sessions.enter(w, r, inst, f.b, enrolled, noSecondFactor, f.acct.ID, f.rt)
	}
	if err == nil {
		err = audit(r.Context(), h.In(inst.ID), r, f.acct.ID, "sign_in",
			storage.Details{"client_id": f.rt.clientID(), "amr": "pwd otp"})
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	page := templates.RecoveryCodesPage{Frame: h.Site.stepFrame(r, inst, f.rt, f.rt.uiLocales(), f.acct.Locale), Codes: codes,
		Next: templates.Link{URL: f.rt.after(inst.Slug), Text: templates.Text{ID: "reset.continue"}}}
	page.LanguageLinks = nil // the codes are shown once: no link may leave the page
	h.Site.render(w, r, func() error { return h.Site.Pages.RecoveryCodes(w, http.StatusOK, page) })
}

// enrolling finds a browser that may enrol: pending enrolment after the
// password, or signed in without a second factor (a step-up that needs
// one). An account that has one already goes to the code instead.
func (h *TwoFactor) enrolling(w http.ResponseWriter, r *http.Request, inst *storage.Institution, raw string) (factorStep, bool) {
	f, ok := h.step(w, r, inst, EnrolmentPending, raw)
	if !ok {
		return f, false
	}
	if f.acct.TOTPConfirmedAt != nil {
		redirect(w, r, stepURL(inst.Slug, issuer.TwoFactorPath, f.rt))
		return f, false
	}
	return f, true
}

// setupPage is the enrolment page of the account's pending secret, made
// and stored (sealed) when it has none.
func (h *TwoFactor) setupPage(r *http.Request, inst *storage.Institution, f factorStep, problems []templates.Problem) (templates.TwoFactorSetupPage, error) {
	secret, err := h.pendingSecret(r.Context(), inst, f.acct)
	if err != nil {
		return templates.TwoFactorSetupPage{}, err
	}
	u, err := totpURL(inst, f.acct, secret)
	if err != nil {
		return templates.TwoFactorSetupPage{}, err
	}
	path, size, err := qrPath(u)
	if err != nil {
		return templates.TwoFactorSetupPage{}, err
	}
	page := templates.TwoFactorSetupPage{Frame: h.Site.stepFrame(r, inst, f.rt, f.rt.uiLocales(), f.acct.Locale),
		Form: templates.Form{ReturnTo: f.rt.raw, Problems: problems}, QRPath: path, QRSize: size,
		Key: groupKey(secret), Account: f.acct.Email}
	if f.b.state.current(h.Site.now()) == EnrolmentPending {
		page.ReturnTo = "" // kept in the session
	}
	return page, nil
}

// pendingSecret returns the account's secret awaiting confirmation,
// making and storing one when there is none.
func (h *TwoFactor) pendingSecret(ctx context.Context, inst *storage.Institution, acct *storage.Account) (string, error) {
	if len(acct.TOTPSecret) > 0 {
		return h.secret(inst, acct)
	}
	k, err := totpKey(inst, acct.Email)
	if err != nil {
		return "", err
	}
	acct.TOTPSecret = h.Secrets.Seal([]byte(k.Secret()), secretBinding(inst, acct))
	acct.TOTPConfirmedAt, acct.TOTPLastStep = nil, 0
	err = h.In(inst.ID).UpdateAccount(ctx, acct)
	if errors.Is(err, storage.ErrConflict) { // another request stored one meanwhile: use it
		fresh, err := h.In(inst.ID).GetAccount(ctx, acct.ID)
		if err != nil {
			return "", fmt.Errorf("TOTP secret: %w", err)
		}
		*acct = *fresh
		return h.secret(inst, acct)
	}
	if err != nil {
		return "", fmt.Errorf("TOTP secret: %w", err)
	}
	return k.Secret(), nil
}

// confirm ends the enrolment, atomically: the secret is confirmed, the
// recovery codes replaced, the email queued, the enrolment recorded. It
// returns the codes, to show once.
func (h *TwoFactor) confirm(r *http.Request, inst *storage.Institution, f factorStep) ([]string, error) {
	codes, hashes, err := newRecoveryCodes(h.RecoveryKey)
	if err != nil {
		return nil, err
	}
	now, s := h.Site.now(), h.In(inst.ID)
	err = h.Tx.InTx(r.Context(), func(ctx context.Context) error {
		acct, err := s.GetAccount(ctx, f.acct.ID)
		if err != nil {
			return err
		}
		acct.TOTPConfirmedAt = &now
		if err := s.UpdateAccount(ctx, acct); err != nil {
			return err
		}
		if err := s.ReplaceRecoveryCodes(ctx, acct.ID, hashes); err != nil {
			return err
		}
		if err := h.queueTwoFactorEnabled(ctx, inst, acct, now); err != nil {
			return err
		}
		return audit(ctx, s, r, acct.ID, "two_factor_enrolled", storage.Details{"recovery_codes": strconv.Itoa(len(codes))})
	})
	if err != nil {
		return nil, fmt.Errorf("confirm enrolment: %w", err)
	}
	return codes, nil
}
