package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Recovery limits: reset emails per email address, and reset requests per
// source address, in a sliding hour; beyond them the answer is the same and
// no email is sent.
const (
	recoveryWindow         = time.Hour
	recoveryEmailsPerHour  = 3
	recoveryAddressPerHour = 30
)

// RecoveryStore is what recovering a forgotten password needs of an
// institution's records.
type RecoveryStore interface {
	LinkStore
	AccountGetter
	clientGetter
	clientLister
	auditRecorder
	storage.ThrottleStore
	GetAccountByEmail(ctx context.Context, kind storage.AccountKind, email string) (*storage.Account, error)
	UpdateAccount(ctx context.Context, a *storage.Account) error
	ResetSignInFailures(ctx context.Context, id string) error
	DeleteAccountSessions(ctx context.Context, accountID, exceptID string) (int, error)
	RevokeOAuth2Subject(ctx context.Context, subject string) (int, error)
}

// Recovery is the forgotten-password flow: the request form
// (/password/forgot), which answers the same whether or not the account
// exists and emails a link when it does, and the page the link opens
// (/password/reset), which sets the new password, signs the person in and
// takes them on. The link's states are LinkState.
type Recovery struct {
	Site     *Site
	Sessions *Sessions
	In       func(institutionID string) RecoveryStore
	Tx       storage.Transactor
	Hasher   *password.Hasher
	Policy   *password.Checker
	Mailer   Mailer
	// Afterwards runs what follows the answer of the request form (nil: in
	// the request, after the answer).
	Afterwards *Afterwards
}

// getForgot shows the request form, keeping the authorization request in
// progress.
func (h *Recovery) getForgot(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	rt, _ := parseReturnTo(inst.Slug, r.URL.Query().Get(issuer.ReturnToParam))
	if _, _, ok := h.pointOfSale(w, r, inst, rt); !ok {
		return
	}
	page := templates.ForgotPasswordPage{Frame: h.Site.frame(r, inst, rt.uiLocales()), Form: templates.Form{ReturnTo: rt.raw},
		Email: rt.loginHint()}
	h.Site.render(w, r, func() error { return h.Site.Pages.ForgotPassword(w, http.StatusOK, page) })
}

// postForgot answers a request for a link: the same page, in the same
// time, whether or not an account has the email. The limits are reserved
// first, for every email alike; the page is sent; only then is the account
// looked up and, when it may reset its password, the link emailed.
func (h *Recovery) postForgot(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	rt, _ := parseReturnTo(inst.Slug, r.PostForm.Get(issuer.ReturnToParam))
	client, pos, ok := h.pointOfSale(w, r, inst, rt)
	if !ok {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	frame := h.Site.frame(r, inst, rt.uiLocales())
	if !ValidEmail(email) {
		page := templates.ForgotPasswordPage{Frame: frame, Email: email, Form: templates.Form{ReturnTo: rt.raw,
			Problems: []templates.Problem{{Field: "email", ID: "account.email_invalid"}}}}
		h.Site.render(w, r, func() error { return h.Site.Pages.ForgotPassword(w, http.StatusBadRequest, page) })
		return
	}
	kind := kindOf(client)
	within, err := h.reserve(r, inst, kind, email)
	if err == nil && rt.valid() {
		err = h.leave(w, r, inst, rt)
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	page := templates.MessagePage{Frame: frame, Title: "forgot.sent_title", Message: "forgot.sent",
		Next: &templates.Link{URL: loginURL(inst.Slug, rt), Text: templates.Text{ID: "forgot.back_to_sign_in"}}}
	h.Site.render(w, r, func() error { return h.Site.Pages.Message(w, http.StatusOK, page) })
	_ = http.NewResponseController(w).Flush() // the browser has the whole answer: what follows takes no time of it
	if !within {
		h.Site.log().InfoContext(r.Context(), "password reset limit reached", "institution", inst.Slug)
		return
	}
	address := clientIP(r)
	h.Afterwards.Do(r.Context(), func(ctx context.Context) {
		if err := h.sendLink(ctx, inst, pos, kind, email, address); err != nil {
			h.Site.log().ErrorContext(ctx, "password reset email", "institution", inst.Slug, "err", err)
		}
	})
}

// reserve counts the request against the limits of its email and of its
// source address, whether or not an account has the email, and reports
// whether it is within both.
func (h *Recovery) reserve(r *http.Request, inst *storage.Institution, kind storage.AccountKind, email string) (bool, error) {
	s := h.In(inst.ID)
	perEmail, err := s.HitThrottle(r.Context(), "recovery:email:"+emailID(h.Site.ThrottleKey, inst, kind, email), recoveryWindow)
	if err != nil {
		return false, fmt.Errorf("recovery limit: %w", err)
	}
	perAddress, err := s.HitThrottle(r.Context(), "recovery:"+addressKey(clientIP(r)), recoveryWindow)
	if err != nil {
		return false, fmt.Errorf("recovery limit: %w", err)
	}
	return perEmail <= recoveryEmailsPerHour && perAddress <= recoveryAddressPerHour, nil
}

// leave keeps the authorization request in progress in the browser's
// session, for the reset page to resume when the link is opened here.
func (h *Recovery) leave(w http.ResponseWriter, r *http.Request, inst *storage.Institution, rt returnTo) error {
	b, err := h.Sessions.load(r, inst)
	if err != nil {
		return err
	}
	return h.Sessions.leave(w, r, inst, b, rt)
}

// sendLink emails a reset link to the account with the email, if there is
// one that may reset its password (active, or pending: the link proves
// the address). The link, its email and the audit event are one
// transaction.
func (h *Recovery) sendLink(ctx context.Context, inst *storage.Institution, pos *storage.Client, kind storage.AccountKind,
	email, address string) error {
	s := h.In(inst.ID)
	acct, err := s.GetAccountByEmail(ctx, kind, email)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if acct.Status == storage.Disabled {
		return nil
	}
	return h.Tx.InTx(ctx, func(ctx context.Context) error {
		return queueResetLink(ctx, linkMail{store: s, mailer: h.Mailer, publicURL: h.Site.PublicURL, now: h.Site.now()},
			inst, acct, linkRequest{pos: pos, actor: ActorSelf, address: address})
	})
}

// linkMail is what emailing a one-time link takes: the store of the links
// and of the audit trail, the outbox, where the links point, and now.
type linkMail struct {
	store interface {
		LinkCreator
		auditRecorder
	}
	mailer    Mailer
	publicURL string
	now       time.Time
}

// linkRequest is one request for a reset link: the point of sale the link
// leads back to, the document of the email ("" the default), who asked
// (ActorSelf: the account holder; else an operator or a client of the box
// office) and from where.
type linkRequest struct {
	pos      *storage.Client
	document string
	actor    Actor
	address  string
}

// queueResetLink stores a new reset link for the account (superseding the
// older ones), queues the password_reset email that carries it and records
// the request, in the transaction of ctx. An unknown document is
// mail.ErrUnknownDocument.
func queueResetLink(ctx context.Context, l linkMail, inst *storage.Institution, acct *storage.Account, req linkRequest) error {
	byOperator := req.actor != ActorSelf
	t := &storage.ActionToken{AccountID: acct.ID, Purpose: storage.PurposeReset, PointOfSale: req.pos.ID,
		ExpiresAt: linkExpiry(l.now, inst.Settings.ResetLinkTTL)}
	if byOperator {
		t.CreatedBy = string(req.actor)
	}
	secret, err := NewLink(ctx, l.store, t)
	if err != nil {
		return err
	}
	doc := templates.PasswordResetEmail{PointOfSale: req.pos.Name, ValidFor: t.ExpiresAt.Sub(l.now), ByOperator: byOperator,
		Link: linkURL(l.publicURL, inst.Slug, "/password/reset", secret)}
	if _, err := l.mailer.QueueDocument(ctx, inst, mail.To(acct), doc, req.document); err != nil {
		return err
	}
	details := storage.Details{"point_of_sale": req.pos.ID, "link_id": t.ID}
	if req.document != "" {
		details["document"] = req.document
	}
	return l.store.RecordAudit(ctx, &storage.AuditEvent{AccountID: acct.ID, Actor: string(req.actor),
		Action: "password_reset_requested", Address: req.address, Details: details})
}

// pointOfSale returns the client of the request rt (nil for none) and the
// point of sale its links return to. An institution without any point of
// sale gets a page saying that recovery is not offered, and false.
func (h *Recovery) pointOfSale(w http.ResponseWriter, r *http.Request, inst *storage.Institution, rt returnTo) (client, pos *storage.Client, ok bool) {
	s := h.In(inst.ID)
	client, err := clientOf(r.Context(), s, rt)
	if err == nil {
		pos, err = pointOfSale(r.Context(), s, client)
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return nil, nil, false
	}
	if pos == nil {
		page := templates.MessagePage{Frame: h.Site.frame(r, inst, rt.uiLocales()), Title: "forgot.unavailable_title",
			Message: "forgot.unavailable", Args: map[string]string{"institution": inst.ShownName()}}
		h.Site.render(w, r, func() error { return h.Site.Pages.Message(w, http.StatusNotFound, page) })
		return nil, nil, false
	}
	return client, pos, true
}

// kindOf is the kind of account that signs in at a client.
func kindOf(c *storage.Client) storage.AccountKind {
	if c != nil && c.AccountKind.Valid() {
		return c.AccountKind
	}
	return storage.Customer
}
