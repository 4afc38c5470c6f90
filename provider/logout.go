package provider

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/storage"
)

// logout serves RP-initiated logout. With a valid id_token_hint (signed by
// one of the institution's published keys, expired or not) or a client_id,
// an exactly registered post_logout_redirect_uri is followed, with state and
// nothing else. Without a redirect URI the browser lands on the signed-out
// page. A bad hint or an unregistered URI is refused with an error page and
// nobody is signed out.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenantOrPage(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		p.cfg.Pages.Error(w, r, t.inst, http.StatusBadRequest, "error.logout.title", "error.logout.invalid_request")
		return
	}
	target, msg := p.logoutTarget(r, t)
	if msg != "" {
		p.cfg.Pages.Error(w, r, t.inst, http.StatusBadRequest, "error.logout.title", msg)
		return
	}
	if err := p.cfg.Sessions.SignOut(w, r, t.inst); err != nil {
		p.cfg.Log.Error("logout", "error", err)
		p.cfg.Pages.Error(w, r, t.inst, http.StatusInternalServerError, "error.internal.title", "error.internal.message")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// logoutTarget returns where to send the browser after signing out, or the
// message id of why the request is refused.
func (p *Provider) logoutTarget(r *http.Request, t *tenant) (string, string) {
	form := r.Form
	client, msg := p.logoutClient(r, t)
	if msg != "" {
		return "", msg
	}
	redirect := form.Get("post_logout_redirect_uri")
	if redirect == "" {
		return t.issuer + pathLogout, ""
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

// logoutClient finds the client the logout is for: from the hint's audience
// (checked to be this institution's, for client_id when given) or from
// client_id alone.
func (p *Provider) logoutClient(r *http.Request, t *tenant) (*storage.Client, string) {
	hint, clientID := r.Form.Get("id_token_hint"), r.Form.Get("client_id")
	if hint == "" {
		if clientID == "" {
			return nil, ""
		}
		return p.findClient(r, t, clientID)
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
	return p.findClient(r, t, clientID)
}

func (p *Provider) findClient(r *http.Request, t *tenant, id string) (*storage.Client, string) {
	c, err := t.store.client(r.Context(), id)
	if err != nil {
		if !errors.Is(err, fosite.ErrNotFound) {
			p.cfg.Log.Warn("logout: client", "error", err)
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
