package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// errLinkSpent: the link was used (or superseded, or expired) between the
// check and the consumption; its state says which.
type errLinkSpent struct{ state LinkState }

func (e errLinkSpent) Error() string { return "link " + string(e.state) }

// getReset shows the form a reset link opens. Opening it consumes nothing.
func (h *Recovery) getReset(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	req, ok := h.resetRequest(w, r, inst, r.URL.Query().Get("token"))
	if !ok {
		return
	}
	h.Site.render(w, r, func() error { return h.Site.Pages.ResetPassword(w, http.StatusOK, h.resetPage(r, inst, req, nil)) })
}

// postReset sets the new password with the link, atomically, then signs
// the person in and shows the way on.
func (h *Recovery) postReset(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	req, ok := h.resetRequest(w, r, inst, r.PostForm.Get("token"))
	if !ok {
		return
	}
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("password_confirm")
	if problems := newPasswordProblems(h.Policy, inst.Settings.Password, req.acct.Email, pw, confirm); len(problems) > 0 {
		page := h.resetPage(r, inst, req, problems)
		h.Site.render(w, r, func() error { return h.Site.Pages.ResetPassword(w, http.StatusBadRequest, page) })
		return
	}
	pos, err := h.reset(r, inst, req, pw)
	var spent errLinkSpent
	if errors.As(err, &spent) {
		h.linkProblem(w, r, inst, spent.state)
		return
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.Site.log().InfoContext(r.Context(), "password reset", "institution", inst.Slug, "account", req.acct.ID)
	signInAfterLink(w, r, h.Site, h.Sessions, inst, req.acct, pos, passwordReset, "reset.done_title", "password_change.done")
}

// resetRequest reads the link of secret and its account. A link that does
// not work gets its page, and false.
func (h *Recovery) resetRequest(w http.ResponseWriter, r *http.Request, inst *storage.Institution, secret string) (linkUse, bool) {
	q, state, err := openLink(r.Context(), h.In(inst.ID), secret, storage.PurposeReset)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return linkUse{}, false
	}
	if state != LinkValid {
		h.linkProblem(w, r, inst, state)
		return linkUse{}, false
	}
	return q, true
}

// reset sets the password with the link, in one transaction: the link is
// consumed (of concurrent resets, one wins), the password replaced, every
// session of the account ended and its grants revoked, a lock lifted, the
// address proven; the password_reset_done email is queued and the reset
// recorded. It returns the link's point of sale (nil when it is gone).
func (h *Recovery) reset(r *http.Request, inst *storage.Institution, req linkUse, pw string) (*storage.Client, error) {
	hash, err := h.Hasher.Hash(r.Context(), pw)
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	s, now := h.In(inst.ID), h.Site.now()
	var pos *storage.Client
	err = h.Tx.InTx(r.Context(), func(ctx context.Context) error {
		t, state, err := consumeLink(ctx, s, storage.PurposeReset, req.secret)
		if err != nil {
			return err
		}
		if state != LinkValid {
			return errLinkSpent{state}
		}
		acct, err := s.GetAccount(ctx, t.AccountID)
		if err != nil {
			return err
		}
		acct.PasswordHash, acct.PasswordChangedAt, acct.PasswordExpiresAt = hash, &now, nil
		acct.MustChangePassword, acct.EmailVerified = false, true
		if acct.Status == storage.Pending {
			acct.Status = storage.Active
		}
		if err := s.UpdateAccount(ctx, acct); err != nil {
			return err
		}
		if err := endSignIns(ctx, s, h.Site.ThrottleKey, inst, acct); err != nil {
			return err
		}
		if pos, err = findClient(ctx, s, t.PointOfSale); err != nil {
			return err
		}
		doc := templates.PasswordResetDoneEmail{At: now}
		if pos != nil {
			doc.PointOfSale, doc.PointOfSaleURL = pos.Name, pos.HomeURL
		}
		if _, err := h.Mailer.Queue(ctx, inst, mail.To(acct), doc); err != nil {
			return err
		}
		if err := audit(ctx, s, r, acct.ID, "password_reset", storage.Details{"link_id": t.ID, "point_of_sale": t.PointOfSale}); err != nil {
			return err
		}
		return audit(ctx, s, r, acct.ID, "sign_in", storage.Details{"amr": "pwd", "via": "password_reset"})
	})
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	return pos, nil
}

// signInEnder ends what let an account in.
type signInEnder interface {
	throttleResetter
	DeleteAccountSessions(ctx context.Context, accountID, exceptID string) (int, error)
	RevokeOAuth2Subject(ctx context.Context, subject string) (int, error)
	ResetSignInFailures(ctx context.Context, id string) error
}

// endSignIns ends every browser session of the account, revokes its
// tokens, and lifts a lock (the account's counters and the throttles of
// its email): after a new password, the old one let nobody in.
func endSignIns(ctx context.Context, s signInEnder, throttleKey []byte, inst *storage.Institution, acct *storage.Account) error {
	if _, err := s.DeleteAccountSessions(ctx, acct.ID, ""); err != nil {
		return err
	}
	if _, err := s.RevokeOAuth2Subject(ctx, acct.ID); err != nil {
		return err
	}
	if err := s.ResetSignInFailures(ctx, acct.ID); err != nil {
		return err
	}
	return resetSignInKeys(ctx, s, throttleKey, inst, acct.Kind, acct.Email)
}

// resetPage is the form of a reset link.
func (h *Recovery) resetPage(r *http.Request, inst *storage.Institution, req linkUse, problems []templates.Problem) templates.ResetPasswordPage {
	return templates.ResetPasswordPage{Frame: h.Site.frame(r, inst, req.acct.Locale), Form: templates.Form{Problems: problems},
		Token: req.secret, Email: req.acct.Email, Rules: policyRules(inst.Settings.Password)}
}

// linkProblem answers a link that does not work, with the way to a new one.
func (h *Recovery) linkProblem(w http.ResponseWriter, r *http.Request, inst *storage.Institution, state LinkState) {
	status, message := http.StatusNotFound, "reset.link_unknown"
	switch state {
	case LinkUsed:
		status, message = http.StatusGone, "reset.link_used"
	case LinkExpired:
		status, message = http.StatusGone, "reset.link_expired"
	}
	page := templates.MessagePage{Frame: h.Site.frame(r, inst), Title: "reset.link_invalid_title", Message: message,
		Next: &templates.Link{URL: pagePath(inst.Slug, "/password/forgot"), Text: templates.Text{ID: "reset.request_new"}}}
	h.Site.render(w, r, func() error { return h.Site.Pages.Message(w, status, page) })
}
