package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// activationResendPath is the page of an account not activated yet, which
// sends its activation email again.
const activationResendPath = "/activate/resend"

// Resending an activation email: one every 5 minutes, at most 5 a day.
const (
	resendEvery  = 5 * time.Minute
	resendPerDay = 5
)

// ActivationStore is what activation needs of an institution's records.
type ActivationStore interface {
	LinkStore
	AccountGetter
	clientGetter
	clientLister
	auditRecorder
	storage.ThrottleStore
	UpdateAccount(ctx context.Context, a *storage.Account) error
}

// Activation is the page of activation and invitation links (GET and POST
// /activate): an activation link activates a self-registered account; an
// invitation link asks for the first password, then activates. Either way
// the address is proven, account_activated is queued, and the person is
// signed in and taken on. The links are those of links.go: only the hash
// stored, GET consumes nothing, the POST consumes atomically, the newest
// only. It also serves the page of a pending account that gave the right
// password (/activate/resend), which sends the activation email again.
type Activation struct {
	Site   *Site
	SignIn *SignIn
	In     func(institutionID string) ActivationStore
	Tx     storage.Transactor
	Hasher *password.Hasher
	Policy *password.Checker
	Mailer Mailer
}

// isInvitation reports whether the link is an invitation (a first password).
func isInvitation(q linkUse) bool { return q.token.Purpose == storage.PurposeInvite }

// get shows the link's page. Opening it consumes nothing.
func (h *Activation) get(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	q, ok := h.request(w, r, inst, r.URL.Query().Get("token"))
	if !ok {
		return
	}
	h.Site.render(w, r, func() error { return h.Site.Pages.Activate(w, http.StatusOK, h.page(r, inst, q, nil)) })
}

// post activates, atomically, then signs the person in.
func (h *Activation) post(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	q, ok := h.request(w, r, inst, r.PostForm.Get("token"))
	if !ok {
		return
	}
	var hash string
	if isInvitation(q) {
		pw := r.PostForm.Get("password")
		if problems := newPasswordProblems(h.Policy, inst.Settings.Password, q.acct.Email, pw, r.PostForm.Get("password_confirm")); len(problems) > 0 {
			h.Site.render(w, r, func() error {
				return h.Site.Pages.Activate(w, http.StatusBadRequest, h.page(r, inst, q, problems))
			})
			return
		}
		var err error
		if hash, err = h.Hasher.Hash(r.Context(), pw); err != nil {
			h.Site.fail(w, r, inst, err)
			return
		}
	}
	acct, pos, err := h.activate(r, inst, q, hash)
	var spent errLinkSpent
	if errors.As(err, &spent) {
		h.linkProblem(w, r, inst, spent.state)
		return
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	signInAfterLink(w, r, h.Site, h.SignIn.Sessions, inst, acct, pos, activated, "activate.done_title", "activate.done")
}

// request reads the link of secret (an activation or an invitation) and
// its account. A link that does not work gets its page, and false.
func (h *Activation) request(w http.ResponseWriter, r *http.Request, inst *storage.Institution, secret string) (linkUse, bool) {
	q, state, err := openLink(r.Context(), h.In(inst.ID), secret, storage.PurposeActivate, storage.PurposeInvite)
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

// activate uses the link, in one transaction: consumed (of concurrent
// uses, one wins), the account active with its address proven (and, for an
// invitation, its first password), account_activated queued, the
// activation recorded. It returns the account and the link's point of sale.
func (h *Activation) activate(r *http.Request, inst *storage.Institution, q linkUse, hash string) (*storage.Account, *storage.Client, error) {
	s, now := h.In(inst.ID), h.Site.now()
	var acct *storage.Account
	var pos *storage.Client
	err := h.Tx.InTx(r.Context(), func(ctx context.Context) error {
		t, state, err := consumeLink(ctx, s, q.token.Purpose, q.secret)
		if err != nil {
			return err
		}
		if state != LinkValid {
			return errLinkSpent{state}
		}
		if acct, err = s.GetAccount(ctx, t.AccountID); err != nil {
			return err
		}
		acct.Status, acct.EmailVerified = storage.Active, true
		if hash != "" {
			acct.PasswordHash, acct.PasswordChangedAt, acct.PasswordExpiresAt, acct.MustChangePassword = hash, &now, nil, false
		}
		if err := s.UpdateAccount(ctx, acct); err != nil {
			return err
		}
		if pos, err = findClient(ctx, s, t.PointOfSale); err != nil {
			return err
		}
		doc := templates.AccountActivatedEmail{}
		if pos != nil {
			doc.PointOfSale, doc.PointOfSaleURL = pos.Name, pos.HomeURL
		}
		if _, err := h.Mailer.Queue(ctx, inst, mail.To(acct), doc); err != nil {
			return err
		}
		return audit(ctx, s, r, acct.ID, "account_activated", storage.Details{"link_id": t.ID, "purpose": string(t.Purpose)})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("activate: %w", err)
	}
	return acct, pos, nil
}

// page is the page of the link q.
func (h *Activation) page(r *http.Request, inst *storage.Institution, q linkUse, problems []templates.Problem) templates.ActivatePage {
	page := templates.ActivatePage{Frame: h.Site.frame(r, inst, q.acct.Locale), Form: templates.Form{Problems: problems},
		Token: q.secret, Email: q.acct.Email, SetPassword: isInvitation(q)}
	if page.SetPassword {
		page.Rules = policyRules(inst.Settings.Password)
	}
	return page
}

// linkProblem answers a link that does not work, with the way to sign in
// (which sends a new activation email to a pending account).
func (h *Activation) linkProblem(w http.ResponseWriter, r *http.Request, inst *storage.Institution, state LinkState) {
	status, message := http.StatusNotFound, "activate.link_unknown"
	switch state {
	case LinkUsed:
		status, message = http.StatusGone, "activate.link_used"
	case LinkExpired:
		status, message = http.StatusGone, "activate.link_expired"
	}
	page := templates.MessagePage{Frame: h.Site.frame(r, inst), Title: "reset.link_invalid_title", Message: message,
		Next: &templates.Link{URL: pagePath(inst.Slug, issuer.LoginPath), Text: templates.Text{ID: "activate.go_sign_in"}}}
	h.Site.render(w, r, func() error { return h.Site.Pages.Message(w, status, page) })
}

// pending finds the browser of a pending account that gave its password;
// any other is sent to sign in, and false returned.
func (h *Activation) pending(w http.ResponseWriter, r *http.Request, inst *storage.Institution) (browserState, *storage.Account, bool) {
	b, err := h.SignIn.Sessions.load(r, inst)
	var acct *storage.Account
	if err == nil && b.state.current(h.Site.now()) == ActivationPending {
		acct, err = h.In(inst.ID).GetAccount(r.Context(), b.state.Account)
		if errors.Is(err, storage.ErrNotFound) {
			acct, err = nil, nil
		}
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return b, nil, false
	}
	if acct == nil || acct.Status != storage.Pending {
		rt, _ := parseReturnTo(inst.Slug, b.state.ReturnTo)
		redirect(w, r, loginURL(inst.Slug, rt))
		return b, nil, false
	}
	return b, acct, true
}

// getPending says that the account is not activated yet.
func (h *Activation) getPending(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	_, acct, ok := h.pending(w, r, inst)
	if !ok {
		return
	}
	h.renderPending(w, r, inst, acct, http.StatusForbidden, nil)
}

// postResend sends the activation email again, within its limits (reserved
// before anything is sent): a new link, superseding the older ones.
func (h *Activation) postResend(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	b, acct, ok := h.pending(w, r, inst)
	if !ok {
		return
	}
	s := h.In(inst.ID)
	recent, err := s.HitThrottle(r.Context(), "activation:resend:"+acct.ID, resendEvery)
	daily := 0
	if err == nil && recent <= 1 {
		daily, err = s.HitThrottle(r.Context(), "activation:resend-day:"+acct.ID, 24*time.Hour)
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	switch {
	case recent > 1:
		h.renderPending(w, r, inst, acct, http.StatusTooManyRequests, &templates.Text{ID: "pending.wait"})
		return
	case daily > resendPerDay:
		h.renderPending(w, r, inst, acct, http.StatusTooManyRequests, &templates.Text{ID: "pending.limit"})
		return
	}
	rt, _ := parseReturnTo(inst.Slug, b.state.ReturnTo)
	client, err := clientOf(r.Context(), s, rt)
	var pos *storage.Client
	if err == nil {
		pos, err = pointOfSale(r.Context(), s, client)
	}
	if err == nil {
		err = h.Tx.InTx(r.Context(), func(ctx context.Context) error {
			l := linkMail{store: s, mailer: h.Mailer, publicURL: h.Site.PublicURL, now: h.Site.now()}
			if err := queueActivation(ctx, l, inst, acct, pos, storage.PurposeActivate, "", ""); err != nil {
				return err
			}
			return audit(ctx, s, r, acct.ID, "activation_resent", nil)
		})
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.renderPending(w, r, inst, acct, http.StatusOK, &templates.Text{ID: "pending.sent"})
}

// renderPending writes the page of a pending account.
func (h *Activation) renderPending(w http.ResponseWriter, r *http.Request, inst *storage.Institution, acct *storage.Account,
	status int, notice *templates.Text) {
	page := templates.PendingPage{Frame: h.Site.frame(r, inst, acct.Locale), Email: acct.Email, Notice: notice}
	h.Site.render(w, r, func() error { return h.Site.Pages.Pending(w, status, page) })
}

// queueActivation stores a new link of purpose (activate, or invite) for
// the account, superseding the older ones, and queues the email that
// carries it: account_activation; for an invitation, account_invitation or,
// where the institution wants the same document as a reset, password_reset
// (document names the institution's document of the class, "" its
// default). createdBy is the inviting actor (operator:ID, client:ID, cli),
// "" when the account holder asked.
func queueActivation(ctx context.Context, l linkMail, inst *storage.Institution, acct *storage.Account, pos *storage.Client,
	purpose storage.ActionPurpose, createdBy, document string) error {
	t := &storage.ActionToken{AccountID: acct.ID, Purpose: purpose, PointOfSale: clientIDOf(pos), CreatedBy: createdBy,
		ExpiresAt: linkExpiry(l.now, inst.Settings.ActivationLinkTTL)}
	secret, err := NewLink(ctx, l.store, t)
	if err != nil {
		return err
	}
	link, validFor, place := linkURL(l.publicURL, inst.Slug, "/activate", secret), t.ExpiresAt.Sub(l.now), ""
	if pos != nil {
		place = pos.Name
	}
	var doc templates.Email = templates.AccountActivationEmail{PointOfSale: place, Link: link, ValidFor: validFor}
	if purpose == storage.PurposeInvite {
		doc = templates.AccountInvitationEmail{PointOfSale: place, Link: link, ValidFor: validFor}
		if inst.Settings.InvitationEmail == string(templates.ClassPasswordReset) {
			doc = templates.PasswordResetEmail{PointOfSale: place, Link: link, ValidFor: validFor, ByOperator: true}
		}
	}
	_, err = l.mailer.QueueDocument(ctx, inst, mail.To(acct), doc, document)
	return err
}
