package provider

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// logoutHandler serves RP-initiated logout. With a valid id_token_hint
// (signed by one of the institution's published keys, expired or not) the
// browser is signed out at once, and an exactly registered
// post_logout_redirect_uri is followed, with state and nothing else; without
// a redirect URI the browser lands on the signed-out page. Without a hint,
// any site could sign a browser out (a cross-site GET), so nobody is signed
// out: the browser is sent to the sign-out page of the pages, which asks to
// confirm and signs out on a same-origin POST (OpenID Connect RP-Initiated
// Logout 1.0 §2). A bad hint or an unregistered URI is refused with an error
// page and nobody is signed out.
type logoutHandler struct {
	sessions Sessions
	pages    Pages
	log      *slog.Logger
}

func (h *logoutHandler) serve(w http.ResponseWriter, r *http.Request, t *tenant) {
	if err := r.ParseForm(); err != nil {
		h.pages.Error(w, r, t.inst, http.StatusBadRequest, "error.logout.title", "error.logout.invalid_request")
		return
	}
	target, msg := h.target(r, t)
	if msg != "" {
		h.pages.Error(w, r, t.inst, http.StatusBadRequest, "error.logout.title", msg)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Form.Get("id_token_hint") == "" {
		http.Redirect(w, r, t.issuer+issuer.LogoutPath, http.StatusSeeOther)
		return
	}
	if err := h.sessions.SignOut(w, r, t.inst); unavailable(r.Context(), err) {
		unavailablePage(w, r, h.pages, t.inst)
		return
	} else if err != nil {
		h.log.Error("logout", "error", err)
		h.pages.Error(w, r, t.inst, http.StatusInternalServerError, "error.internal.title", "error.internal.message")
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// target returns where to send the browser after signing out, or the
// message id of why the request is refused.
func (h *logoutHandler) target(r *http.Request, t *tenant) (string, string) {
	form := r.Form
	client, msg := h.client(r, t)
	if msg != "" {
		return "", msg
	}
	redirect := form.Get("post_logout_redirect_uri")
	if redirect == "" {
		return t.issuer + issuer.LogoutPath, ""
	}
	if client == nil || !slices.Contains(client.PostLogoutRedirectURIs, redirect) {
		return "", "error.logout.redirect_uri"
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return "", "error.logout.redirect_uri"
	}
	if state := form.Get("state"); state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	return u.String(), ""
}

// client finds the client the logout is for: from the hint's audience
// (checked to be this institution's, for client_id when given) or from
// client_id alone.
func (h *logoutHandler) client(r *http.Request, t *tenant) (*storage.Client, string) {
	hint, clientID := r.Form.Get("id_token_hint"), r.Form.Get("client_id")
	if hint == "" {
		if clientID == "" {
			return nil, ""
		}
		return h.findClient(r, t, clientID)
	}
	claims, err := t.keys.ParseHint(hint)
	if err != nil || claims["iss"] != t.issuer {
		return nil, "error.logout.invalid_hint"
	}
	aud := audience(claims["aud"])
	if clientID == "" && len(aud) > 0 {
		clientID = aud[0]
	}
	if !slices.Contains(aud, clientID) {
		return nil, "error.logout.invalid_hint"
	}
	return h.findClient(r, t, clientID)
}

func (h *logoutHandler) findClient(r *http.Request, t *tenant, id string) (*storage.Client, string) {
	c, err := t.store.client(r.Context(), id)
	if err != nil {
		if !errors.Is(err, fosite.ErrNotFound) {
			h.log.Warn("logout: client", "error", err)
		}
		return nil, "error.logout.unknown_client"
	}
	return c, ""
}

// audience reads an aud claim: a string or a list of strings.
func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, s := range a {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
		return out
	case []string:
		return a
	}
	return nil
}
