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

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// SignInState is where a browser is in signing in: the one state enum of
// the sign-in flow, kept in its session (ValueState).
type SignInState string

// Sign-in states.
const (
	// Anonymous: nobody is signed in and no step is pending (never stored).
	Anonymous SignInState = "anonymous"
	// PasswordChangePending: the right temporary password was given; the
	// account (ValuePending) is not signed in until it has a new one.
	PasswordChangePending SignInState = "password_change"
	// SignedIn: the account (ValueAccountID, with ValueAuthTime and
	// ValueAMR) is signed in.
	SignedIn SignInState = "signed_in"
)

// signInEvent is what moves a browser from one state to the next.
type signInEvent string

const (
	// passwordVerified: the right password of an account that may sign in.
	passwordVerified signInEvent = "password verified"
	// temporaryPasswordVerified: the same, for a password that must change.
	temporaryPasswordVerified signInEvent = "temporary password verified"
	// passwordChanged: the temporary password was replaced.
	passwordChanged signInEvent = "password changed"
)

// errWrongState: a sign-in step was attempted from a state it does not
// start from.
var errWrongState = errors.New("flows: sign-in step out of order")

// pendingStepTTL bounds how long a pending step (the password change) waits
// after the password was verified.
const pendingStepTTL = 15 * time.Minute

// next is the state event e leads to from s. The password step may start
// from any state (signing in again, or as someone else, starts over); the
// password change only from PasswordChangePending.
func (s SignInState) next(e signInEvent) (SignInState, error) {
	switch {
	case e == passwordVerified:
		return SignedIn, nil
	case e == temporaryPasswordVerified:
		return PasswordChangePending, nil
	case e == passwordChanged && s == PasswordChangePending:
		return SignedIn, nil
	}
	return s, fmt.Errorf("%w: %s in state %s", errWrongState, e, s)
}

// stateOf reads the state of a session. A session is signed in when it
// holds an account (whatever wrote it); a pending step needs its account.
func stateOf(sess *sessions.Session) SignInState {
	if stringValue(sess, ValueAccountID) != "" {
		return SignedIn
	}
	state, _ := sess.Values[ValueState].(SignInState)
	if state == PasswordChangePending && stringValue(sess, ValuePending) != "" {
		return PasswordChangePending
	}
	return Anonymous
}

// enter moves the session to the state e leads to, setting the values of
// that state and clearing those of the others.
func enter(sess *sessions.Session, e signInEvent, accountID string, now time.Time, rt returnTo) error {
	state, err := stateOf(sess).next(e)
	if err != nil {
		return err
	}
	for _, k := range []string{ValueAccountID, ValueAuthTime, ValueAMR, ValuePending, ValueStepAt, ValueReturnTo} {
		delete(sess.Values, k)
	}
	sess.Values[ValueState] = state
	switch state {
	case SignedIn:
		sess.Values[ValueAccountID] = accountID
		sess.Values[ValueAuthTime] = now
		sess.Values[ValueAMR] = []string{"pwd"}
	case PasswordChangePending:
		sess.Values[ValuePending] = accountID
		sess.Values[ValueStepAt] = now
		if rt.valid() {
			sess.Values[ValueReturnTo] = rt.raw
		}
	}
	return nil
}

// getLogin shows the sign-in form, pre-filled with the request's login_hint.
func (x *Web) getLogin(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	rt, _ := parseReturnTo(inst.Slug, r.URL.Query().Get("return_to"))
	client, err := x.client(r.Context(), inst, rt)
	if err != nil {
		x.fail(w, r, inst, err)
		return
	}
	page := x.signInPage(r, inst, rt, client)
	if hint := rt.loginHint(); len(hint) <= 254 {
		page.Email = hint
	}
	x.render(w, r, func() error { return x.Pages.SignIn(w, http.StatusOK, page) })
}

// signInPage is the sign-in form for the request rt (which may be none).
func (x *Web) signInPage(r *http.Request, inst *storage.Institution, rt returnTo, client *storage.Client) templates.SignInPage {
	page := templates.SignInPage{Frame: x.frame(inst, x.locale(r, inst, rt.uiLocales())),
		Form: templates.Form{ReturnTo: rt.raw}}
	if client != nil {
		page.ClientName = client.Name
	}
	return page
}

// client is the client of the request rt, or nil when rt names none that
// exists.
func (x *Web) client(ctx context.Context, inst *storage.Institution, rt returnTo) (*storage.Client, error) {
	if rt.clientID() == "" {
		return nil, nil
	}
	c, err := x.Store.In(inst.ID).GetClient(ctx, rt.clientID())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("client of return_to: %w", err)
	}
	return c, nil
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
func (x *Web) postLogin(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !x.parseForm(w, r, inst) {
		return
	}
	a := attempt{inst: inst, email: strings.TrimSpace(r.PostForm.Get("email")),
		password: r.PostForm.Get("password"), address: clientIP(r.RemoteAddr), kind: storage.Customer}
	a.rt, _ = parseReturnTo(inst.Slug, r.PostForm.Get("return_to"))
	client, err := x.client(r.Context(), inst, a.rt)
	if err != nil {
		x.fail(w, r, inst, err)
		return
	}
	if a.client = client; client != nil && client.AccountKind.Valid() {
		a.kind = client.AccountKind
	}
	page := x.signInPage(r, inst, a.rt, client)
	page.Email = a.email
	if page.Problems = missingCredentials(a); len(page.Problems) > 0 {
		x.render(w, r, func() error { return x.Pages.SignIn(w, http.StatusBadRequest, page) })
		return
	}
	v, err := x.authenticate(r, a)
	if err != nil {
		x.fail(w, r, inst, err)
		return
	}
	if v.account == nil {
		x.refuse(w, r, page, v)
		return
	}
	x.proceed(w, r, a, v.account)
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

// proceed takes a verified account to its next step: the forced password
// change, or signed in.
func (x *Web) proceed(w http.ResponseWriter, r *http.Request, a attempt, acct *storage.Account) {
	s := x.Sessions.For(a.inst)
	sess, err := s.Get(r, CookieName)
	if err != nil {
		x.fail(w, r, a.inst, err)
		return
	}
	if acct.MustChangePassword {
		err = enter(sess, temporaryPasswordVerified, acct.ID, x.now(), a.rt)
		if err == nil {
			err = s.Rotate(r, w, sess)
		}
		if err != nil {
			x.fail(w, r, a.inst, err)
			return
		}
		redirect(w, r, issuerPath(a.inst.Slug)+"/password/change")
		return
	}
	x.completeSignIn(w, r, a.inst, sess, acct, a.rt, passwordVerified)
}

// completeSignIn signs the account in after event e: a new session id, the
// account, the time and the method in it, an audit event; then back to the
// request.
func (x *Web) completeSignIn(w http.ResponseWriter, r *http.Request, inst *storage.Institution,
	sess *sessions.Session, acct *storage.Account, rt returnTo, e signInEvent) {
	err := enter(sess, e, acct.ID, x.now(), rt)
	if err == nil {
		err = x.Sessions.For(inst).Rotate(r, w, sess)
	}
	if err == nil {
		err = x.audit(r.Context(), x.Store.In(inst.ID), r, acct.ID, "sign_in",
			storage.Details{"client_id": rt.clientID(), "amr": "pwd"})
	}
	if err != nil {
		x.fail(w, r, inst, err)
		return
	}
	x.signInOutcome(OutcomeSuccess)
	x.log().InfoContext(r.Context(), "signed in", "institution", inst.Slug, "account", acct.ID, "client_id", rt.clientID())
	redirect(w, r, rt.after(inst.Slug))
}

// refuse answers an attempt that did not sign in, with the page and status
// of its verdict.
func (x *Web) refuse(w http.ResponseWriter, r *http.Request, page templates.SignInPage, v verdict) {
	if v.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(v.retryAfter/time.Second)))
	}
	page.Problems = []templates.Problem{{Field: v.field, ID: v.message, Args: v.args}}
	x.render(w, r, func() error { return x.Pages.SignIn(w, v.status, page) })
}
