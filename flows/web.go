package flows

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// maxFormBytes bounds the body of every form Usher's pages send.
const maxFormBytes = 16 << 10

// Metrics counts what happens at sign-in; cmd/usher's metrics implement it.
type Metrics interface {
	SignIn(outcome string) // one of the Outcome… values
	Lockout()              // a sign-in key was locked
}

// Sign-in outcomes, as Metrics.SignIn counts them.
const (
	OutcomeSuccess   = "success"   // signed in
	OutcomeFailure   = "failure"   // wrong email or password
	OutcomeLocked    = "locked"    // refused: the key or the address is locked
	OutcomeThrottled = "throttled" // refused: too soon after the last failure
	OutcomeRefused   = "refused"   // the right password, but the account may not sign in
)

// Web serves the pages a person signs in with, under each institution's
// issuer path: sign-in, forced password change, consent, sign-out and the
// account page (see Routes). It meets the protocol side through the browser
// sessions and the return_to URL of provider/sessions.go.
type Web struct {
	Store    Stores
	Sessions *BrowserSessions
	Pages    *templates.Pages
	Catalog  *templates.Catalog
	Hasher   *password.Hasher
	Policy   *password.Checker
	Now      func() time.Time
	Log      *slog.Logger // never given passwords, tokens, cookies or return_to queries
	Metrics  Metrics      // nil counts nothing
}

// handler is a handler of one institution's page.
type handler func(w http.ResponseWriter, r *http.Request, inst *storage.Institution)

// institution resolves the {slug} of the path; an unknown institution gets
// the localized 404 page. A path segment that is no slug at all (say, with a
// NUL byte or invalid UTF-8, which PostgreSQL refuses to compare) names no
// institution and is not looked up.
func (x *Web) institution(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		slug := r.PathValue("slug")
		var inst *storage.Institution
		err := storage.ErrNotFound
		if slugPattern.MatchString(slug) {
			inst, err = x.Store.GetInstitutionBySlug(r.Context(), slug)
		}
		if errors.Is(err, storage.ErrNotFound) {
			x.Error(w, r, nil, http.StatusNotFound, "error.not_found.title", "error.not_found.message")
			return
		}
		if err != nil {
			x.fail(w, r, nil, err)
			return
		}
		h(w, r, inst)
	}
}

func (x *Web) now() time.Time {
	if x.Now == nil {
		return time.Now().UTC()
	}
	return x.Now().UTC()
}

func (x *Web) log() *slog.Logger {
	if x.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return x.Log
}

func (x *Web) signInOutcome(outcome string) {
	if x.Metrics != nil {
		x.Metrics.SignIn(outcome)
	}
}

func (x *Web) lockout() {
	if x.Metrics != nil {
		x.Metrics.Lockout()
	}
}

// locale chooses the language of a page: the hints (ui_locales, the
// account's locale), then Accept-Language, then the institution's default.
func (x *Web) locale(r *http.Request, inst *storage.Institution, hints ...string) string {
	accept := r.Header.Get("Accept-Language")
	if inst != nil {
		accept += ", " + inst.Settings.DefaultLocale() + ";q=0.001"
	}
	return x.Catalog.Negotiate(accept, hints...)
}

// frame is the part every page shares.
func (x *Web) frame(inst *storage.Institution, locale string) templates.Frame {
	return templates.FrameFor(inst, locale)
}

// issuerPath is the path of an institution's issuer.
func issuerPath(slug string) string { return "/institutions/" + slug }

// Error writes a localized error page: a title and a message of the
// catalogue, never a technical detail. The language follows the request's
// ui_locales, then Accept-Language. With it *Web implements the provider's
// Pages interface, so the protocol side shows the same pages.
func (x *Web) Error(w http.ResponseWriter, r *http.Request, inst *storage.Institution, status int, titleID, messageID string) {
	d := templates.ErrorPage{Frame: x.frame(inst, x.locale(r, inst, r.URL.Query().Get("ui_locales"))),
		Title: titleID, Message: messageID}
	if inst != nil {
		d.Args = map[string]string{"institution": d.Brand.Name}
	}
	if err := x.Pages.Error(w, status, d); err != nil {
		x.log().ErrorContext(r.Context(), "error page", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(status), status)
	}
}

// fail logs an unexpected error and answers with the internal-error page;
// the person sees no detail.
func (x *Web) fail(w http.ResponseWriter, r *http.Request, inst *storage.Institution, err error) {
	x.log().ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	status, title, message := http.StatusInternalServerError, "error.internal.title", "error.internal.message"
	if errors.Is(err, password.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
		status, title, message = http.StatusServiceUnavailable, "error.busy.title", "password.busy"
	}
	x.Error(w, r, inst, status, title, message)
}

// render writes a page, logging a failure to draw it (the page is then the
// plain internal error: nothing was written yet).
func (x *Web) render(w http.ResponseWriter, r *http.Request, draw func() error) {
	if err := draw(); err != nil {
		x.log().ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// parseForm reads a POST body of at most maxFormBytes; on failure it has
// answered with the localized "form could not be read" page.
func (x *Web) parseForm(w http.ResponseWriter, r *http.Request, inst *storage.Institution) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	if err == nil {
		return true
	}
	status := http.StatusBadRequest
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	x.Error(w, r, inst, status, "error.bad_form.title", "error.bad_form.message")
	return false
}

// redirect sends the browser to a path of this server with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// clientIP is the IP address of a RemoteAddr ("ip:port").
func clientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// addressKey is the throttle key of a source address: the address itself
// for IPv4, its /64 network for IPv6 (one subscriber's whole allocation).
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "signin:address:" + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "signin:address:" + p.String()
	}
	return "signin:address:" + a.String()
}

// audit records an event about an account, done by its holder from the
// request's address.
func (x *Web) audit(ctx context.Context, s storage.Scoped, r *http.Request, accountID, action string, details storage.Details) error {
	return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: accountID, Actor: string(ActorSelf),
		Action: action, Address: clientIP(r.RemoteAddr), Details: details})
}
