package provider

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"
)

// introspect serves RFC 7662 token introspection. The caller authenticates
// as a client of the institution; it learns about its own tokens only,
// unless it is a resource server (registered with --introspection). Any
// other token, a token of another institution, an expired or revoked one,
// one of an account no longer active: {"active": false}. The scopes shown
// are those the account may hold (holder.go).
func introspect(w http.ResponseWriter, r *http.Request, t *tenant) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.")
		return
	}
	caller, err := t.oauth2.AuthenticateClient(ctx, r, r.PostForm)
	if unavailable(ctx, err) {
		writeUnavailable(w, r)
		return
	}
	if err != nil || caller.IsPublic() {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+t.issuer+`"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	sess := newSession()
	use, ar, err := t.introspectToken(ctx, token, fosite.TokenType(r.PostForm.Get("token_type_hint")), sess)
	if unavailable(ctx, err) {
		writeUnavailable(w, r) // not inactive: nobody knows for now
		return
	}
	if err != nil || !mayIntrospect(caller, ar) {
		writeIntrospection(w, map[string]any{"active": false})
		return
	}
	acct, err := holder(ctx, t, sess)
	if errors.Is(err, errAccountGone) {
		writeIntrospection(w, map[string]any{"active": false})
		return
	}
	if unavailable(ctx, err) {
		writeUnavailable(w, r)
		return
	}
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "server_error", "The server could not process the request.")
		return
	}
	if sess.Username == "" && acct != nil {
		sess.Username = acct.Email // a JWT access token does not carry it
	}
	writeIntrospection(w, introspection(t, use, ar, sess, heldScopes(acct, ar.GetGrantedScopes())))
}

// mayIntrospect: a client learns about the tokens issued to it; a resource
// server about every token of the institution.
func mayIntrospect(caller fosite.Client, ar fosite.AccessRequester) bool {
	if ar.GetClient().GetID() == caller.GetID() {
		return true
	}
	c, ok := caller.(fositeClient)
	return ok && c.c.Introspection
}

func introspection(t *tenant, use fosite.TokenUse, ar fosite.AccessRequester, sess *session, scopes []string) map[string]any {
	out := map[string]any{
		"active":    true,
		"iss":       t.issuer,
		"client_id": ar.GetClient().GetID(),
		"sub":       sess.GetSubject(),
		"scope":     strings.Join(scopes, " "),
		"iat":       ar.GetRequestedAt().Unix(),
	}
	if use == fosite.RefreshToken {
		out["token_type"] = "refresh_token"
		if exp := sess.GetExpiresAt(fosite.RefreshToken); !exp.IsZero() {
			out["exp"] = exp.Unix()
		}
	} else {
		out["token_type"] = "Bearer"
		if exp := sess.GetExpiresAt(fosite.AccessToken); !exp.IsZero() {
			out["exp"] = exp.Unix()
		}
	}
	if aud := ar.GetGrantedAudience(); len(aud) > 0 {
		out["aud"] = aud
	}
	if sess.Username != "" {
		out["username"] = sess.Username
	}
	return out
}

func writeIntrospection(w http.ResponseWriter, v map[string]any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// revoke serves RFC 7009 revocation: a client revokes its own tokens; the
// whole grant ends (access and refresh tokens of the same request). A JWT
// access token cannot be revoked (RFC 7009 §2.2 allows it): it is stored
// nowhere, and the answer is 200 as for any unknown token; revoking the
// grant's refresh token ends the grant, and the JWT expires within minutes
// (tokens.jwt_access_ttl).
func revoke(w http.ResponseWriter, r *http.Request, t *tenant) {
	ctx := r.Context()
	err := t.oauth2.NewRevocationRequest(ctx, r)
	if unavailable(ctx, err) {
		writeUnavailable(w, r)
		return
	}
	if err != nil && noClientCredentials(r) {
		err = errNoClientCredentials
	}
	challengeClient(w, r, t, err)
	t.oauth2.WriteRevocationResponse(ctx, w, err)
}
