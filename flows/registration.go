package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Registration limits, in a sliding hour: emails per address registered,
// and registrations per source address. Beyond them the answer is the same
// and no email is sent.
const (
	registrationEmailsPerHour  = 3
	registrationAddressPerHour = 10
)

// RegistrationStore is what self-registration needs of an institution's
// records.
type RegistrationStore interface {
	LinkStore
	clientGetter
	clientLister
	auditRecorder
	storage.ThrottleStore
	GetAccountByEmail(ctx context.Context, kind storage.AccountKind, email string) (*storage.Account, error)
	CreateAccount(ctx context.Context, a *storage.Account) error
}

// Registration is a customer creating an account (GET and POST
// /register), where the institution allows it. The answer never tells
// whether the email is registered: the same page, in the same time (the
// password is hashed either way, and the rest runs after the answer); a new
// account is pending, with an account_activation email queued in the same
// transaction; an existing one gets an email telling its owner instead.
type Registration struct {
	Site       *Site
	Sessions   *Sessions
	In         func(institutionID string) RegistrationStore
	Tx         storage.Transactor
	Hasher     *password.Hasher
	Policy     *password.Checker
	Mailer     Mailer
	Afterwards *Afterwards // nil: in the request, after the answer
}

// registration is one submission of the form.
type registration struct {
	email, givenName, familyName, locale, password, confirm string
}

// get shows the form, keeping the authorization request in progress.
func (h *Registration) get(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	rt, _ := parseReturnTo(inst.Slug, r.URL.Query().Get(issuer.ReturnToParam))
	if !h.offered(w, r, inst, rt) {
		return
	}
	frame := h.Site.frame(r, inst, rt.uiLocales())
	page := h.page(frame, inst, rt, registration{email: rt.loginHint(), locale: frame.Locale}, nil)
	h.Site.render(w, r, func() error { return h.Site.Pages.Register(w, http.StatusOK, page) })
}

// post checks the form (every problem at once), reserves the limits, hashes
// the password, answers, and then creates the account or tells the owner
// of the existing one.
func (h *Registration) post(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	rt, _ := parseReturnTo(inst.Slug, r.PostForm.Get(issuer.ReturnToParam))
	if !h.offered(w, r, inst, rt) {
		return
	}
	f := r.PostForm
	reg := registration{email: strings.TrimSpace(f.Get("email")), givenName: strings.TrimSpace(f.Get("given_name")),
		familyName: strings.TrimSpace(f.Get("family_name")), locale: f.Get("locale"), password: f.Get("password"),
		confirm: f.Get("password_confirm")}
	frame := h.Site.frame(r, inst, rt.uiLocales())
	if problems := h.problems(inst, &reg); len(problems) > 0 {
		page := h.page(frame, inst, rt, reg, problems)
		h.Site.render(w, r, func() error { return h.Site.Pages.Register(w, http.StatusBadRequest, page) })
		return
	}
	within, err := h.reserve(r, inst, reg.email)
	var hash string
	if err == nil {
		hash, err = h.Hasher.Hash(r.Context(), reg.password)
	}
	if err == nil && rt.valid() {
		var b browserState
		if b, err = h.Sessions.load(r, inst); err == nil {
			err = h.Sessions.leave(w, r, inst, b, rt)
		}
	}
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	page := templates.MessagePage{Frame: frame, Title: "register.sent_title", Message: "register.sent",
		Args: map[string]string{"email": reg.email}}
	h.Site.render(w, r, func() error { return h.Site.Pages.Message(w, http.StatusOK, page) })
	_ = http.NewResponseController(w).Flush()
	if !within {
		h.Site.log().InfoContext(r.Context(), "registration limit reached", "institution", inst.Slug)
		return
	}
	client, _ := clientOf(r.Context(), h.In(inst.ID), rt)
	address := clientIP(r)
	h.Afterwards.Do(r.Context(), func(ctx context.Context) {
		if err := h.register(ctx, inst, client, reg, hash, address); err != nil {
			h.Site.log().ErrorContext(ctx, "registration", "institution", inst.Slug, "err", err)
		}
	})
}

// offered answers, when the institution does not let customers register,
// with a page saying so, and false.
func (h *Registration) offered(w http.ResponseWriter, r *http.Request, inst *storage.Institution, rt returnTo) bool {
	if inst.Settings.Registration {
		return true
	}
	page := templates.MessagePage{Frame: h.Site.frame(r, inst, rt.uiLocales()), Title: "register.unavailable_title",
		Message: "register.unavailable", Args: map[string]string{"institution": inst.ShownName()}}
	h.Site.render(w, r, func() error { return h.Site.Pages.Message(w, http.StatusNotFound, page) })
	return false
}

// problems lists everything wrong with the form, at once.
func (h *Registration) problems(inst *storage.Institution, reg *registration) []templates.Problem {
	var problems []templates.Problem
	if !ValidEmail(reg.email) {
		problems = append(problems, templates.Problem{Field: "email", ID: "account.email_invalid"})
	}
	for _, n := range []struct{ field, value string }{{"given_name", reg.givenName}, {"family_name", reg.familyName}} {
		switch {
		case n.value == "":
			problems = append(problems, templates.Problem{Field: n.field, ID: "register.name_required"})
		case len(n.value) > 200 || !storableText(n.value):
			problems = append(problems, templates.Problem{Field: n.field, ID: "account.name_too_long"})
		}
	}
	if tag := h.Site.Catalog.Match(reg.locale); tag != "" {
		reg.locale = tag
	} else {
		reg.locale = inst.Settings.DefaultLocale()
	}
	return append(problems, newPasswordProblems(h.Policy, inst.Settings.Password, reg.email, reg.password, reg.confirm)...)
}

// page is the form, with what was typed.
func (h *Registration) page(frame templates.Frame, inst *storage.Institution, rt returnTo, reg registration,
	problems []templates.Problem) templates.RegisterPage {
	page := templates.RegisterPage{Frame: frame, Form: templates.Form{ReturnTo: rt.raw, Problems: problems},
		Email: reg.email, GivenName: reg.givenName, FamilyName: reg.familyName, Language: reg.locale,
		Rules: policyRules(inst.Settings.Password)}
	for _, tag := range inst.Settings.Locales {
		if h.Site.Catalog.Match(tag) == tag {
			page.Languages = append(page.Languages, templates.Language{Tag: tag, Name: languageNames[tag]})
		}
	}
	return page
}

// reserve counts the registration against the limits of its email and of
// its source address, whoever has the email.
func (h *Registration) reserve(r *http.Request, inst *storage.Institution, email string) (bool, error) {
	s := h.In(inst.ID)
	perEmail, err := s.HitThrottle(r.Context(), "register:email:"+emailID(h.Site.ThrottleKey, inst, storage.Customer, email), recoveryWindow)
	if err != nil {
		return false, fmt.Errorf("registration limit: %w", err)
	}
	perAddress, err := s.HitThrottle(r.Context(), "register:"+addressKey(clientIP(r)), recoveryWindow)
	if err != nil {
		return false, fmt.Errorf("registration limit: %w", err)
	}
	return perEmail <= registrationEmailsPerHour && perAddress <= registrationAddressPerHour, nil
}

// register creates the pending account with its activation link and email,
// or, when the email has an account (or gets one meanwhile), tells its
// owner.
func (h *Registration) register(ctx context.Context, inst *storage.Institution, client *storage.Client, reg registration,
	hash, address string) error {
	s := h.In(inst.ID)
	pos, err := pointOfSale(ctx, s, client)
	if err != nil {
		return err
	}
	existing, err := s.GetAccountByEmail(ctx, storage.Customer, reg.email)
	if err == nil {
		return h.tellOwner(ctx, inst, existing, pos)
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	now := h.Site.now()
	acct := &storage.Account{Kind: storage.Customer, Email: reg.email, GivenName: reg.givenName,
		FamilyName: reg.familyName, Locale: reg.locale, Status: storage.Pending, PasswordHash: hash, PasswordChangedAt: &now}
	err = h.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.CreateAccount(ctx, acct); err != nil {
			return err
		}
		if err := queueActivation(ctx, linkMail{store: s, mailer: h.Mailer, publicURL: h.Site.PublicURL, now: now},
			inst, acct, pos, storage.PurposeActivate, "", ""); err != nil {
			return err
		}
		return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: acct.ID, Actor: string(ActorSelf),
			Action: "account_registered", Address: address, Details: storage.Details{"point_of_sale": clientIDOf(pos)}})
	})
	if errors.Is(err, storage.ErrDuplicate) { // registered meanwhile
		existing, err = s.GetAccountByEmail(ctx, storage.Customer, reg.email)
		if err != nil {
			return err
		}
		return h.tellOwner(ctx, inst, existing, pos)
	}
	return err
}

// tellOwner emails the owner of an existing account that someone
// registered with its address, with the ways to sign in or reset.
func (h *Registration) tellOwner(ctx context.Context, inst *storage.Institution, acct *storage.Account, pos *storage.Client) error {
	base := issuer.URL(h.Site.PublicURL, inst.Slug)
	doc := templates.RegistrationExistingEmail{SignInLink: base + issuer.LoginPath, ResetLink: base + "/password/forgot"}
	if pos != nil {
		doc.PointOfSale = pos.Name
	}
	return h.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := h.Mailer.Queue(ctx, inst, mail.To(acct), doc); err != nil {
			return err
		}
		return h.In(inst.ID).RecordAudit(ctx, &storage.AuditEvent{AccountID: acct.ID, Actor: string(ActorSelf),
			Action: "registration_existing"})
	})
}

// clientIDOf is the ID of a client, "" for none.
func clientIDOf(c *storage.Client) string {
	if c == nil {
		return ""
	}
	return c.ID
}
