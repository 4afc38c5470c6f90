package provider

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// authorizeHandler serves the authorization endpoint (GET and POST): it
// validates the request, finds who is signed in, and sends the browser to
// the sign-in or consent page, or back to the client with a code.
type authorizeHandler struct {
	sessions Sessions
	pages    Pages
	log      *slog.Logger
	now      func() time.Time
}

func (h *authorizeHandler) serve(w http.ResponseWriter, r *http.Request, t *tenant) {
	ctx := r.Context()
	if formTooLarge(r) {
		h.pages.Error(w, r, t.inst, http.StatusRequestEntityTooLarge, "error.oauth.title", "error.oauth.invalid_request")
		return
	}
	if param := repeatedParam(r.Form, destinationParams...); param != "" {
		// Which client or redirect URI would count is ambiguous: no redirect.
		h.fail(w, r, t, nil, errRepeated(param))
		return
	}
	ar, err := t.oauth2.NewAuthorizeRequest(ctx, r)
	if err == nil {
		if param := repeatedParam(r.Form, protocolParams...); param != "" {
			err = errRepeated(param)
		}
	}
	if err != nil {
		h.fail(w, r, t, ar, err)
		return
	}
	a, err := h.newAuthorization(ctx, r, t, ar)
	if err != nil {
		h.fail(w, r, t, ar, err)
		return
	}
	state, err := a.decide(ctx, h.now())
	if err != nil {
		h.fail(w, r, t, ar, err)
		return
	}
	switch state {
	case needsLogin:
		h.sendTo(w, r, a, issuer.LoginPath)
	case needsSecondFactor:
		h.sendTo(w, r, a, issuer.TwoFactorPath)
	case needsConsent:
		h.sendTo(w, r, a, issuer.ConsentPath)
	case ready:
		h.issueCode(w, r, a)
	}
}

// newAuthorization checks what fosite leaves to the provider and finds who
// is signed in.
func (h *authorizeHandler) newAuthorization(ctx context.Context, r *http.Request, t *tenant, ar fosite.AuthorizeRequester) (*authorization, error) {
	form := ar.GetRequestForm()
	client := ar.GetClient().(fositeClient).c
	if client.RequirePKCE && form.Get("code_challenge") == "" {
		return nil, fosite.ErrInvalidRequest.WithHint("This client must use PKCE: send code_challenge with code_challenge_method S256.")
	}
	// fosite checks the method only when it issues the code, after the
	// sign-in: refuse plain (or no method, which means plain) before it.
	if form.Get("code_challenge") != "" && form.Get("code_challenge_method") != "S256" {
		return nil, fosite.ErrInvalidRequest.WithHint("Use code_challenge_method S256: the plain method is not supported.")
	}
	if n := form.Get("nonce"); n != "" && len(n) < fosite.MinParameterEntropy {
		return nil, fosite.ErrInsufficientEntropy.WithHintf("The nonce must be at least %d characters long.", fosite.MinParameterEntropy)
	}
	a := &authorization{t: t, ar: ar, client: client, prompt: strings.Fields(form.Get("prompt")), maxAge: -1,
		requestedAt: t.requestedAt(form, h.now())}
	if v := form.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fosite.ErrInvalidRequest.WithHint("max_age must be a non-negative number of seconds.")
		}
		a.maxAge = time.Duration(n) * time.Second
	}
	if a.has("none") && len(a.prompt) > 1 {
		return nil, fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
	}
	return a, h.findSignedIn(ctx, r, a)
}

// findSignedIn sets who is signed in, if anyone suitable for this client:
// an active account of the kind the client accepts.
func (h *authorizeHandler) findSignedIn(ctx context.Context, r *http.Request, a *authorization) error {
	bs, err := h.sessions.Authenticated(r, a.t.inst)
	if err != nil || bs == nil {
		return err
	}
	acct, err := a.t.records.GetAccount(ctx, bs.AccountID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if acct.Status == storage.Active && acct.Kind == a.client.AccountKind {
		a.browser, a.account = bs, acct
	}
	return nil
}

// sendTo sends the browser to a page under the issuer, which resumes the
// request by URL when it is done.
func (h *authorizeHandler) sendTo(w http.ResponseWriter, r *http.Request, a *authorization, page string) {
	form := requestParams(a.ar.GetRequestForm())
	form.Set(paramResume, a.t.resumeToken(a.requestedAt, form))
	returnTo := issuer.AuthorizeURL(a.t.inst.Slug) + "?" + form.Encode()
	if len(returnTo) > issuer.MaxReturnTo {
		h.fail(w, r, a.t, a.ar, fosite.ErrInvalidRequest.WithHint("The authorization request is too long."))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.t.issuer+page+"?"+url.Values{issuer.ReturnToParam: {returnTo}}.Encode(), http.StatusSeeOther)
}

// issueCode grants the requested scopes the account may hold (holder.go)
// and redirects with the code.
func (h *authorizeHandler) issueCode(w http.ResponseWriter, r *http.Request, a *authorization) {
	ctx := r.Context()
	grantScopes(a.ar, a.account)
	// fosite creates the code, PKCE and OpenID Connect records; they are
	// written together once it has made them all: one statement, all or
	// none, no transaction needed.
	ctx, p := withPending(ctx)
	resp, err := a.t.oauth2.NewAuthorizeResponse(ctx, a.ar, a.session())
	if err == nil {
		err = a.t.store.writePending(ctx, p)
	}
	if err != nil {
		h.fail(w, r, a.t, a.ar, err)
		return
	}
	resp.AddParameter("iss", a.t.issuer) // RFC 9207
	a.t.oauth2.WriteAuthorizeResponse(ctx, w, a.ar, resp)
}

// fail answers a refused authorization request: redirected to the
// client when the redirect URI is trusted (with only error,
// error_description, state and iss), else an error page: an unregistered
// redirect URI is never followed.
func (h *authorizeHandler) fail(w http.ResponseWriter, r *http.Request, t *tenant, ar fosite.AuthorizeRequester, err error) {
	down := unavailable(r.Context(), err)
	if down {
		err = errTemporarilyUnavailable
		httpserver.Unavailable(w, r)
	}
	e := rfcError(err)
	if e.CodeField >= http.StatusInternalServerError && !down {
		h.log.Error("authorization request", "error", e.Error(), "cause", errors.Unwrap(err))
	}
	redirectURI, ok := trustedRedirectURI(ar)
	if !ok && down {
		unavailablePage(w, r, h.pages, t.inst)
		return
	}
	if !ok {
		h.pages.Error(w, r, t.inst, pageStatus(e), "error.oauth.title", authorizePageMessage(e))
		return
	}
	u := *redirectURI
	q := u.Query()
	q.Set("error", e.ErrorField)
	if d := safeDescription(e.GetDescription()); d != "" {
		q.Set("error_description", d)
	}
	if st := ar.GetState(); st != "" {
		q.Set("state", st)
	}
	q.Set("iss", t.issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// trustedRedirectURI is where an error may be redirected: the request's
// redirect URI once fosite has matched it with the client's, or, for the
// errors fosite finds before it matches it (a request object, a response
// mode), the request's redirect_uri when it is one the client registered.
func trustedRedirectURI(ar fosite.AuthorizeRequester) (*url.URL, bool) {
	if ar == nil {
		return nil, false
	}
	if ar.IsRedirectURIValid() {
		return ar.GetRedirectURI(), true
	}
	if ar.GetClient() == nil || ar.GetRedirectURI() != nil {
		return nil, false // fosite matched it and refused it
	}
	u, err := fosite.MatchRedirectURIWithClientRedirectURIs(ar.GetRequestForm().Get("redirect_uri"), ar.GetClient())
	if err != nil || !fosite.IsValidRedirectURI(u) {
		return nil, false
	}
	return u, true
}

// authorizePageMessage explains, without technical detail, why a request
// that cannot go back to the application failed.
func authorizePageMessage(e *fosite.RFC6749Error) string {
	switch e.ErrorField {
	case fosite.ErrInvalidClient.ErrorField:
		return "error.oauth.unknown_client"
	case fosite.ErrInvalidRequest.ErrorField:
		if strings.Contains(e.GetDescription(), "redirect") {
			return "error.oauth.redirect_uri"
		}
	}
	return "error.oauth.invalid_request"
}

// pageStatus is the status of the error page: the error's own, except that
// an unknown client (fosite's 401 invalid_client) is a bad request: a 401
// would need a WWW-Authenticate challenge the browser cannot answer.
func pageStatus(e *fosite.RFC6749Error) int {
	if e.CodeField >= 400 && e.CodeField < 600 && e.CodeField != http.StatusUnauthorized {
		return e.CodeField
	}
	return http.StatusBadRequest
}
