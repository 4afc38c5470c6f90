package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// SignInStore is what signing in needs of an institution's records.
type SignInStore interface {
	clientGetter
	clientLister
	auditRecorder
	storage.ThrottleStore
	GetAccountByEmail(ctx context.Context, kind storage.AccountKind, email string) (*storage.Account, error)
	UpdateAccount(ctx context.Context, a *storage.Account) error
	RecordSignInFailure(ctx context.Context, id string) (int, error)
	ResetSignInFailures(ctx context.Context, id string) error
	LockAccount(ctx context.Context, id string, until *time.Time) error
}

// SignIn is the sign-in flow: the sign-in page (GET and POST /login), the
// check of the password against the brute-force guard, and the moves of
// the browser's sign-in state (signinstate.go) through its steps, which the
// pages of the steps (PasswordChange) report back to with advance.
type SignIn struct {
	Site     *Site
	Sessions *Sessions
	In       func(institutionID string) SignInStore
	Tx       storage.Transactor
	Hasher   *password.Hasher
	Metrics  Metrics // nil counts nothing
	// DeviceKey signs the device cookies (devicecookie.go), derived from
	// the master secret; empty: no device cookies.
	DeviceKey []byte
}

// getLogin shows the sign-in form, pre-filled with the request's login_hint.
func (h *SignIn) getLogin(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	rt, _ := parseReturnTo(inst.Slug, r.URL.Query().Get(issuer.ReturnToParam))
	page, _, err := h.page(r, inst, rt)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if hint := rt.loginHint(); len(hint) <= 254 {
		page.Email = hint
	}
	h.Site.render(w, r, func() error { return h.Site.Pages.SignIn(w, http.StatusOK, page) })
}

// page is the sign-in form for the request rt (which may be none), and
// the client of rt (nil when none). It offers recovery when the
// institution has a point of sale for the links to return to.
func (h *SignIn) page(r *http.Request, inst *storage.Institution, rt returnTo) (templates.SignInPage, *storage.Client, error) {
	s := h.In(inst.ID)
	client, err := clientOf(r.Context(), s, rt)
	if err != nil {
		return templates.SignInPage{}, nil, err
	}
	pos, err := pointOfSale(r.Context(), s, client)
	if err != nil {
		return templates.SignInPage{}, nil, err
	}
	page := templates.SignInPage{Frame: h.Site.clientFrame(r, inst, rt, client, rt.uiLocales()),
		Form: templates.Form{ReturnTo: rt.raw}}
	if client != nil {
		page.ClientName = client.Name
	}
	page.ForgotPassword = pos != nil
	page.Register = inst.Settings.Registration && kindOf(client) == storage.Customer
	return page, client, nil
}

// signInPage is the sign-in form for the request rt (which may be none),
// for a page that has not read its client.
func signInPage(site *Site, r *http.Request, inst *storage.Institution, rt returnTo) templates.SignInPage {
	return templates.SignInPage{Frame: site.stepFrame(r, inst, rt, rt.uiLocales()), Form: templates.Form{ReturnTo: rt.raw}}
}

// attempt is one submission of the sign-in form.
type attempt struct {
	inst     *storage.Institution
	rt       returnTo
	client   *storage.Client
	kind     storage.AccountKind
	email    string
	password string
	address  string // the client IP
}

// postLogin checks an email and password and signs the account in.
func (h *SignIn) postLogin(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	a := attempt{inst: inst, email: strings.TrimSpace(r.PostForm.Get("email")),
		password: r.PostForm.Get("password"), address: clientIP(r)}
	a.rt, _ = parseReturnTo(inst.Slug, r.PostForm.Get(issuer.ReturnToParam))
	page, client, err := h.page(r, inst, a.rt)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	a.client, a.kind = client, kindOf(client)
	page.Email = a.email
	if page.Problems = missingCredentials(a); len(page.Problems) > 0 {
		h.Site.render(w, r, func() error { return h.Site.Pages.SignIn(w, http.StatusBadRequest, page) })
		return
	}
	v, err := h.authenticate(r, a)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if v.account == nil {
		h.refuse(w, r, page, v)
		return
	}
	b, err := h.Sessions.load(r, inst)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	e := passwordVerified
	switch {
	case v.account.Status == storage.Pending:
		e = pendingVerified
		h.metrics().SignIn(OutcomeRefused)
	case v.account.MustChangePassword:
		e = temporaryPasswordVerified
	}
	h.advance(w, r, inst, b, e, v.account, a.rt)
}

// stepPages are the pages of the steps of signing in.
var stepPages = map[SignInState]string{
	PasswordChangePending: "/password/change",
	TwoFactorPending:      issuer.TwoFactorPath,
	EnrolmentPending:      issuer.EnrolmentPath,
	ActivationPending:     activationResendPath,
}

// secondFactorNeed is what the account needs after its first factor,
// signing in to client (nil for none) for the request rt: an account with a
// second factor always gives a code; one without enrols when it, the
// client or the request (acr_values) requires two factors.
func secondFactorNeed(acct *storage.Account, client *storage.Client, rt returnTo) secondFactor {
	switch {
	case acct.TOTPConfirmedAt != nil:
		return codeNeeded
	case acct.TwoFactorRequired || (client != nil && client.RequireTwoFactor) || rt.asksTwoFactors():
		return enrolmentNeeded
	}
	return noSecondFactor
}

// missingCredentials lists the empty fields of the sign-in form.
func missingCredentials(a attempt) []templates.Problem {
	var problems []templates.Problem
	if a.email == "" {
		problems = append(problems, templates.Problem{Field: "email", ID: "signin.email_required"})
	}
	if a.password == "" {
		problems = append(problems, templates.Problem{Field: "password", ID: "signin.password_required"})
	}
	return problems
}

// advance moves the browser b on after event e of the account, then sends
// it to the page of the step it is now in, or, signed in, back to the
// request rt with an audit event.
func (h *SignIn) advance(w http.ResponseWriter, r *http.Request, inst *storage.Institution, b browserState,
	e signInEvent, acct *storage.Account, rt returnTo) {
	client, err := clientOf(r.Context(), h.In(inst.ID), rt)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	state, err := h.Sessions.enter(w, r, inst, b, e, secondFactorNeed(acct, client, rt), acct.ID, rt)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if page, ok := stepPages[state.State]; ok {
		redirect(w, r, pagePath(inst.Slug, page))
		return
	}
	err = audit(r.Context(), h.In(inst.ID), r, acct.ID, "sign_in",
		storage.Details{"client_id": rt.clientID(), "amr": strings.Join(state.Methods, " ")})
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.rememberDevice(w, inst, acct)
	h.metrics().SignIn(OutcomeSuccess)
	h.Site.log().InfoContext(r.Context(), "signed in", "institution", inst.Slug, "account", acct.ID, "client_id", rt.clientID())
	redirect(w, r, rt.after(inst.Slug))
}

// refuse answers an attempt that did not sign in, with the page and status
// of its verdict.
func (h *SignIn) refuse(w http.ResponseWriter, r *http.Request, page templates.SignInPage, v verdict) {
	if v.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(v.retryAfter/time.Second)))
	}
	page.Problems = []templates.Problem{{Field: v.field, ID: v.message, Args: v.args}}
	h.Site.render(w, r, func() error { return h.Site.Pages.SignIn(w, v.status, page) })
}

func (h *SignIn) metrics() Metrics {
	if h.Metrics == nil {
		return noMetrics{}
	}
	return h.Metrics
}

// clientGetter reads a client.
type clientGetter interface {
	GetClient(ctx context.Context, id string) (*storage.Client, error)
}

// auditRecorder writes the audit trail.
type auditRecorder interface {
	RecordAudit(ctx context.Context, e *storage.AuditEvent) error
}

// clientOf is the client of the request rt, or nil when rt names none that
// exists.
func clientOf(ctx context.Context, s clientGetter, rt returnTo) (*storage.Client, error) {
	return findClient(ctx, s, rt.clientID())
}

// findClient is the client with this ID, or nil when there is none.
func findClient(ctx context.Context, s clientGetter, id string) (*storage.Client, error) {
	if id == "" {
		return nil, nil
	}
	c, err := s.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("client %s: %w", id, err)
	}
	return c, nil
}
