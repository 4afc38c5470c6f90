package provider

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ory/fosite"
)

// tokenHandler serves the token endpoint: authorization code, refresh token
// and client credentials grants.
type tokenHandler struct {
	metrics Metrics
	log     *slog.Logger
}

func (h *tokenHandler) serve(w http.ResponseWriter, r *http.Request, t *tenant) {
	ctx, tr := withTokenRequest(withRecordCache(r.Context()))
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.")
		return
	}
	if param := repeatedParam(r.PostForm, protocolParams...); param != "" {
		h.fail(w, r, t, nil, errRepeated(param))
		return
	}
	if twoClientAuthentications(r) {
		h.fail(w, r, t, nil, fosite.ErrInvalidRequest.WithHint("Authenticate the client with one method only."))
		return
	}
	sess := newSession()
	ar, err := t.oauth2.NewAccessRequest(ctx, r, sess)
	if err != nil {
		if noClientCredentials(r) {
			err = errNoClientCredentials
		}
		h.refuse(w, r, t, ar, tr, err)
		return
	}
	grant := "authorization_code"
	switch {
	case ar.GetGrantTypes().ExactOne("client_credentials"):
		grant = "client_credentials"
		grantClientCredentials(ar, sess)
	case ar.GetGrantTypes().ExactOne("refresh_token"):
		grant = "refresh_token"
		if err = followAccount(ctx, t, ar); err == nil {
			err = t.store.capGrant(ar)
		}
	default:
		err = t.store.capGrant(ar)
	}
	if err != nil {
		h.fail(w, r, t, ar, err)
		return
	}
	if tr.replay != nil {
		h.answerAgain(w, r, t, ar, tr)
		return
	}
	var resp fosite.AccessResponder
	if grant == "client_credentials" {
		resp, err = t.clientCredentialsResponse(ctx, ar) // one insert (none for a JWT): no transaction needed
	} else {
		resp, err = t.redeemingResponse(ctx, ar, tr)
	}
	if tr.replay != nil { // rotated by a concurrent request meanwhile
		h.answerAgain(w, r, t, ar, tr)
		return
	}
	if err != nil {
		h.refuse(w, r, t, ar, tr, err)
		return
	}
	h.metrics.TokenIssued(grant)
	t.oauth2.WriteAccessResponse(ctx, w, ar, resp)
}

// clientCredentialsResponse is fosite's NewAccessResponse for the client
// credentials grant, which only its handler answers, without asking each
// other handler (each answers ErrUnknownRequest with a stack trace: a tenth
// of what a JWT access token costs).
func (t *tenant) clientCredentialsResponse(ctx context.Context, ar fosite.AccessRequester) (fosite.AccessResponder, error) {
	if t.clientCredentials == nil {
		return t.oauth2.NewAccessResponse(ctx, ar)
	}
	resp := fosite.NewAccessResponse()
	ctx = context.WithValue(ctx, fosite.AccessRequestContextKey, ar)
	ctx = context.WithValue(ctx, fosite.AccessResponseContextKey, resp)
	if err := t.clientCredentials.PopulateTokenEndpointResponse(ctx, ar, resp); err != nil {
		return nil, err
	}
	if resp.GetAccessToken() == "" || resp.GetTokenType() == "" {
		return nil, fosite.ErrServerError.WithDebug("The client credentials handler set no access token.")
	}
	return resp, nil
}

// redeemingResponse is fosite's NewAccessResponse for a code or a refresh
// token. The code's redemption (or the refresh token's rotation), the tokens
// fosite creates and the answer kept for the refresh grace period are
// written together once the response is made, all or nothing: a failure
// before (say, while signing the ID token) burns no code and keeps no
// tokens nobody received.
func (t *tenant) redeemingResponse(ctx context.Context, ar fosite.AccessRequester, tr *tokenRequest) (fosite.AccessResponder, error) {
	ctx, p := withPending(ctx)
	resp, err := t.oauth2.NewAccessResponse(ctx, ar)
	if err != nil {
		return nil, err
	}
	if err := t.store.keepAnswer(ctx, tr, ar, resp); err != nil {
		return nil, err
	}
	if err := t.store.writePending(ctx, p); err != nil {
		return nil, err
	}
	return resp, nil
}

// answerAgain gives a request presenting a refresh token rotated within the
// grace period the answer its rotation gave.
func (h *tokenHandler) answerAgain(w http.ResponseWriter, r *http.Request, t *tenant, ar fosite.AccessRequester, tr *tokenRequest) {
	resp, err := t.store.answerAgain(tr.replay)
	if err != nil {
		h.fail(w, r, t, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	h.metrics.TokenIssued("refresh_token")
	t.oauth2.WriteAccessResponse(r.Context(), w, ar, resp)
}

// refuse answers a request fosite refused, after acting on the signs of
// theft the storage adapter saw: a code redeemed twice ends its grant,
// whether the redemptions were concurrent or not (fosite revokes the
// grant's tokens on a later replay only), and a reused refresh token (whose
// family fosite revoked) is reported too.
func (h *tokenHandler) refuse(w http.ResponseWriter, r *http.Request, t *tenant, ar fosite.AccessRequester, tr *tokenRequest, err error) {
	switch {
	case tr.codeReplayed:
		if revokeErr := t.store.revokeGrant(r.Context(), tr.grantID); revokeErr != nil {
			err = fosite.ErrServerError.WithWrap(revokeErr)
		}
		h.signalTheft(r, t, ar, theftCodeReplay)
	case tr.refreshReused:
		h.signalTheft(r, t, ar, theftRefreshReuse)
	}
	h.fail(w, r, t, ar, err)
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

// fail answers with the RFC 6749 error. A code redeemed by a concurrent
// request is invalid_grant, as a replay is, not a server error.
func (h *tokenHandler) fail(w http.ResponseWriter, r *http.Request, t *tenant, ar fosite.AccessRequester, err error) {
	ctx := r.Context()
	if unavailable(ctx, err) {
		writeUnavailable(w, r)
		return
	}
	if errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		err = fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
	}
	// fosite answers a public client's client_credentials request
	// invalid_grant, but there is no grant to be invalid: the client may not
	// use this grant type (RFC 6749 §4.4 allows confidential clients only).
	if ar != nil && ar.GetClient() != nil && ar.GetClient().IsPublic() && ar.GetGrantTypes().ExactOne("client_credentials") {
		err = fosite.ErrUnauthorizedClient.WithHint("A public client may not use the client_credentials grant.")
	}
	e := rfcError(err)
	if e.CodeField >= http.StatusInternalServerError {
		h.log.Error("token request", "error", e.Error(), "cause", errors.Unwrap(e))
	}
	challengeClient(w, r, t, err)
	t.oauth2.WriteAccessError(ctx, w, ar, e)
}

// errNoClientCredentials answers a request to the token or revocation
// endpoint that authenticates no client: invalid_client (RFC 6749 §5.2: "no
// client authentication included"), where fosite says invalid_request.
var errNoClientCredentials = fosite.ErrInvalidClient.WithHint("The request carries no client credentials.")

// noClientCredentials reports whether r (its form parsed) names no client:
// neither HTTP Basic credentials nor a client_id in the body.
func noClientCredentials(r *http.Request) bool {
	_, _, basic := r.BasicAuth()
	return !basic && r.PostForm.Get("client_id") == ""
}

// challengeClient adds the challenge RFC 6749 §5.2 requires when a client
// that sent HTTP Basic credentials is refused as invalid_client.
func challengeClient(w http.ResponseWriter, r *http.Request, t *tenant, err error) {
	if _, _, basic := r.BasicAuth(); basic && errors.Is(err, fosite.ErrInvalidClient) {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+t.issuer+`"`)
	}
}
