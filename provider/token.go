package provider

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"
)

// token serves the token endpoint: authorization code, refresh token and
// client credentials grants.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenantOrError(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	sess := newSession()
	ar, err := t.oauth2.NewAccessRequest(ctx, r, sess)
	if err != nil {
		p.tokenError(ctx, w, t, ar, err)
		return
	}
	grant := "authorization_code"
	switch {
	case ar.GetGrantTypes().ExactOne("client_credentials"):
		grant = "client_credentials"
		grantClientCredentials(ar, sess)
	case ar.GetGrantTypes().ExactOne("refresh_token"):
		grant = "refresh_token"
	}
	// One transaction for the whole response: a failure after the code was
	// redeemed (say, while signing the ID token) must not burn the code and
	// keep tokens nobody received. fosite's own transactions join this one.
	var resp fosite.AccessResponder
	err = p.cfg.Store.InTx(ctx, func(ctx context.Context) error {
		var err error
		resp, err = t.oauth2.NewAccessResponse(ctx, ar)
		return err
	})
	if err != nil {
		p.tokenError(ctx, w, t, ar, err)
		return
	}
	p.cfg.Metrics.TokenIssued(grant)
	t.oauth2.WriteAccessResponse(ctx, w, ar, resp)
}

// grantClientCredentials grants a client what it asked for (fosite checked
// it may): the client itself is the subject.
func grantClientCredentials(ar fosite.AccessRequester, sess *session) {
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	id := ar.GetClient().GetID()
	sess.Subject, sess.ClientID, sess.Claims.Subject = id, id, id
}

// tokenError answers with the RFC 6749 error. A code redeemed by a
// concurrent request is invalid_grant, as a replay is, not a server error.
func (p *Provider) tokenError(ctx context.Context, w http.ResponseWriter, t *tenant, ar fosite.AccessRequester, err error) {
	if errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		err = fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
	}
	if e := rfcError(err); e.CodeField >= http.StatusInternalServerError {
		p.cfg.Log.Error("token request", "error", e.Error(), "cause", errors.Unwrap(err))
	}
	t.oauth2.WriteAccessError(ctx, w, ar, err)
}
