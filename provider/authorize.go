package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// authorizeState is where an authorization request stands.
type authorizeState int

const (
	needsLogin   authorizeState = iota // nobody suitable is signed in, or the sign-in is too old
	needsConsent                       // a third-party client lacks consent for a requested scope
	ready                              // issue the code
)

// authorization is one authorization request being decided.
type authorization struct {
	t           *tenant
	ar          fosite.AuthorizeRequester
	client      *storage.Client
	requestedAt time.Time
	prompt      []string
	maxAge      time.Duration // -1 when absent
	browser     *issuer.SignedIn
	account     *storage.Account
}

// authorize serves the authorization endpoint (GET and POST).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenantOrPage(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if formTooLarge(r) {
		p.cfg.Pages.Error(w, r, t.inst, http.StatusRequestEntityTooLarge, "error.oauth.title", "error.oauth.invalid_request")
		return
	}
	if param := repeatedParam(r.Form, destinationParams...); param != "" {
		// Which client or redirect URI would count is ambiguous: no redirect.
		p.authorizeError(w, r, t, nil, errRepeated(param))
		return
	}
	ar, err := t.oauth2.NewAuthorizeRequest(ctx, r)
	if err == nil {
		if param := repeatedParam(r.Form, protocolParams...); param != "" {
			err = errRepeated(param)
		}
	}
	if err != nil {
		p.authorizeError(w, r, t, ar, err)
		return
	}
	a, err := p.newAuthorization(ctx, r, t, ar)
	if err != nil {
		p.authorizeError(w, r, t, ar, err)
		return
	}
	state, err := p.decide(ctx, a)
	if err != nil {
		p.authorizeError(w, r, t, ar, err)
		return
	}
	switch state {
	case needsLogin:
		p.sendTo(w, r, a, pathLogin)
	case needsConsent:
		p.sendTo(w, r, a, pathConsent)
	case ready:
		p.issueCode(w, r, a)
	}
}

// newAuthorization checks what fosite leaves to the provider and finds who
// is signed in.
func (p *Provider) newAuthorization(ctx context.Context, r *http.Request, t *tenant, ar fosite.AuthorizeRequester) (*authorization, error) {
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
		requestedAt: t.requestedAt(form, p.cfg.Now())}
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
	return a, p.findSignedIn(ctx, r, a)
}

func (a *authorization) has(prompt string) bool { return slices.Contains(a.prompt, prompt) }

// findSignedIn sets who is signed in, if anyone suitable for this client:
// an active account of the kind the client accepts.
func (p *Provider) findSignedIn(ctx context.Context, r *http.Request, a *authorization) error {
	bs, err := p.cfg.Sessions.Authenticated(r, a.t.inst)
	if err != nil || bs == nil {
		return err
	}
	acct, err := a.t.store.s.GetAccount(ctx, bs.AccountID)
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

// decide returns the next state of the request, or the error to answer.
func (p *Provider) decide(ctx context.Context, a *authorization) (authorizeState, error) {
	if a.loginNeeded(p.cfg.Now()) {
		if a.has("none") {
			return 0, fosite.ErrLoginRequired
		}
		return needsLogin, nil
	}
	need, err := p.consentNeeded(ctx, a)
	if err != nil || !need {
		return ready, err
	}
	switch {
	case a.ar.GetRequestForm().Get(paramConsentDenied) == "denied":
		return 0, fosite.ErrAccessDenied.WithHint("The user did not allow the application access.")
	case a.has("none"):
		return 0, fosite.ErrConsentRequired
	}
	return needsConsent, nil
}

// loginNeeded: nobody suitable is signed in, or the request asks for a newer
// sign-in than the session's (prompt=login, max_age) and none happened since
// the request started.
func (a *authorization) loginNeeded(now time.Time) bool {
	if a.account == nil {
		return true
	}
	auth := a.browser.AuthTime
	signedInSince := !auth.Before(a.requestedAt)
	if (a.has("login") || a.has("select_account")) && !signedInSince {
		return true
	}
	return a.maxAge >= 0 && now.Sub(auth) > a.maxAge && !signedInSince
}

// consentNeeded: a third-party client lacks consent for a requested scope, or
// prompt=consent asks again and no consent was given since the request
// started.
func (p *Provider) consentNeeded(ctx context.Context, a *authorization) (bool, error) {
	if a.client.FirstParty {
		return false, nil
	}
	c, err := a.t.store.s.GetConsent(ctx, a.account.ID, a.client.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range a.ar.GetRequestedScopes() {
		if !c.Scopes.Has(s) {
			return true, nil
		}
	}
	return a.has("consent") && c.GrantedAt.Before(a.requestedAt), nil
}

// sendTo sends the browser to a page under the issuer, which resumes the
// request by URL when it is done.
func (p *Provider) sendTo(w http.ResponseWriter, r *http.Request, a *authorization, page string) {
	form := requestParams(a.ar.GetRequestForm())
	form.Set(paramResume, a.t.resumeToken(a.requestedAt, form))
	returnTo := "/institutions/" + a.t.inst.Slug + "/oauth2/authorize?" + form.Encode()
	if len(returnTo) > maxReturnTo {
		p.authorizeError(w, r, a.t, a.ar, fosite.ErrInvalidRequest.WithHint("The authorization request is too long."))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.t.issuer+page+"?"+url.Values{"return_to": {returnTo}}.Encode(), http.StatusSeeOther)
}

// issueCode grants the requested scopes and redirects with the code.
func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, a *authorization) {
	ctx := r.Context()
	for _, s := range a.ar.GetRequestedScopes() {
		a.ar.GrantScope(s)
	}
	// The code, PKCE and OpenID Connect records are written together: one
	// commit instead of three.
	var resp fosite.AuthorizeResponder
	err := p.cfg.Store.InTx(ctx, func(ctx context.Context) error {
		var err error
		resp, err = a.t.oauth2.NewAuthorizeResponse(ctx, a.ar, p.authorizeSession(a))
		return err
	})
	if err != nil {
		p.authorizeError(w, r, a.t, a.ar, err)
		return
	}
	resp.AddParameter("iss", a.t.issuer) // RFC 9207
	a.t.oauth2.WriteAuthorizeResponse(ctx, w, a.ar, resp)
}

// authorizeSession is what the grant remembers of the sign-in: the ID token
// claims fosite completes and signs at the token endpoint.
func (p *Provider) authorizeSession(a *authorization) *session {
	s := newSession()
	s.ClientID = a.client.ID
	s.Subject = a.account.ID
	s.Username = a.account.Email
	c := s.Claims
	c.Subject = a.account.ID
	c.Issuer = a.t.issuer
	c.AuthTime = a.browser.AuthTime.UTC()
	c.RequestedAt = a.requestedAt.UTC()
	c.AuthenticationMethodsReferences = amr(a.browser.Methods)
	c.AuthenticationContextClassReference = acr(a.browser.Methods)
	c.Extra["sid"] = sessionID(a.browser.SessionID)
	granted := a.ar.GetGrantedScopes()
	if granted.Has("email") {
		c.Extra["email"] = a.account.Email
		c.Extra["email_verified"] = a.account.EmailVerified
	}
	if granted.Has("profile") && a.account.Name() != "" {
		c.Extra["name"] = a.account.Name()
	}
	if kid, err := a.t.keys.Current(a.client.IDTokenAlg); err == nil {
		s.Headers.Extra["kid"] = kid.KeyID // the signer signs with the current key of this algorithm
	}
	return s
}

// acrSupported are the authentication context classes Usher asserts: "1" a
// password, "2" a password and a second factor.
func acrSupported() []string { return []string{"1", "2"} }

// acr is the class the methods reach.
func acr(methods []string) string {
	if slices.Contains(methods, "otp") {
		return "2"
	}
	return "1"
}

// amr lists the methods (RFC 8176), with "mfa" when there were two.
func amr(methods []string) []string {
	out := slices.Clone(methods)
	if len(out) > 1 {
		out = append(out, "mfa")
	}
	return out
}

// sessionID is the sid claim of a browser session: a hash of the session's
// key, stable for the session and useless to anyone who sees it.
func sessionID(key string) string {
	sum := sha256.Sum256([]byte("sid\x00" + key))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// authorizeError answers a refused authorization request: redirected to the
// client when the redirect URI is trusted (with only error,
// error_description, state and iss), else an error page: an unregistered
// redirect URI is never followed.
func (p *Provider) authorizeError(w http.ResponseWriter, r *http.Request, t *tenant, ar fosite.AuthorizeRequester, err error) {
	e := rfcError(err)
	if e.CodeField >= http.StatusInternalServerError {
		p.cfg.Log.Error("authorization request", "error", e.Error(), "cause", errors.Unwrap(err))
	}
	redirectURI, ok := trustedRedirectURI(ar)
	if !ok {
		p.cfg.Pages.Error(w, r, t.inst, pageStatus(e), "error.oauth.title", authorizePageMessage(e))
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
