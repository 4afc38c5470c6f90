package provider

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/storage"
)

// userinfoHandler serves the claims of the account an access token was
// issued for, by granted scope: GET or POST, the token in the Authorization
// header or (POST) in the form body.
type userinfoHandler struct {
	log *slog.Logger
}

func (h *userinfoHandler) serve(w http.ResponseWriter, r *http.Request, t *tenant) {
	ctx := r.Context()
	token := bearerToken(r)
	if token == "" {
		bearerError(w, t, http.StatusUnauthorized, "", "")
		return
	}
	sess := newSession()
	// The type is only a hint to fosite, which also accepts a refresh
	// token: only an access token is a bearer token here.
	use, ar, err := t.introspectToken(ctx, token, fosite.AccessToken, sess)
	if unavailable(ctx, err) {
		writeUnavailable(w, r)
		return
	}
	if err != nil || use != fosite.AccessToken {
		bearerError(w, t, http.StatusUnauthorized, "invalid_token", "The access token is not valid.")
		return
	}
	if !ar.GetGrantedScopes().Has("openid") {
		bearerError(w, t, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.")
		return
	}
	acct, err := t.records.GetAccount(ctx, sess.GetSubject())
	if errors.Is(err, storage.ErrNotFound) || (err == nil && acct.Status != storage.Active) {
		bearerError(w, t, http.StatusUnauthorized, "invalid_token", "The account of this token no longer exists or is disabled.")
		return
	}
	if unavailable(ctx, err) {
		writeUnavailable(w, r)
		return
	}
	if err != nil {
		h.log.Error("userinfo", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "The server could not process the request.")
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(claims(acct, ar.GetGrantedScopes(), t.inst.Settings.DefaultLocale()))
}

// claims are the account's standard claims for the granted scopes.
func claims(a *storage.Account, scopes fosite.Arguments, defaultLocale string) map[string]any {
	out := map[string]any{"sub": a.ID}
	if scopes.Has("email") {
		out["email"] = a.Email
		out["email_verified"] = a.EmailVerified
	}
	if scopes.Has("profile") {
		if name := a.Name(); name != "" {
			out["name"] = name
		}
		if a.GivenName != "" {
			out["given_name"] = a.GivenName
		}
		if a.FamilyName != "" {
			out["family_name"] = a.FamilyName
		}
		locale := a.Locale
		if locale == "" {
			locale = defaultLocale
		}
		out["locale"] = locale
		out["updated_at"] = a.UpdatedAt.Unix()
	}
	return out
}

// bearerError answers RFC 6750: the WWW-Authenticate header says what is wrong.
func bearerError(w http.ResponseWriter, t *tenant, status int, code, description string) {
	v := `Bearer realm="` + t.issuer + `"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + description + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	if code == "" {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return
	}
	writeJSONError(w, status, code, description)
}
