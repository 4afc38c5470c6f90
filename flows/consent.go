package flows

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// ConsentStore is what the consent page needs of an institution's records.
type ConsentStore interface {
	AccountGetter
	clientGetter
	auditRecorder
	GrantConsent(ctx context.Context, accountID, clientID string, scopes []string) error
}

// Consent asks a signed-in person to let a third-party application have
// the scopes it asks for (GET and POST /consent), then resumes the
// authorization request.
type Consent struct {
	Site     *Site
	Sessions *Sessions
	In       func(institutionID string) ConsentStore
	Tx       storage.Transactor
}

// Consent choices: the values of the consent form's buttons.
const (
	consentAllow = "allow"
	consentDeny  = "deny"
)

// consentRequest is a consent page's subject: who is asked, for which
// application and scopes, and the request to resume.
type consentRequest struct {
	acct   *storage.Account
	client *storage.Client
	scopes []string
	rt     returnTo
}

// getConsent asks the signed-in person to let the application of return_to
// have the scopes it asks for.
func (h *Consent) get(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	c, ok := h.request(w, r, inst, r.URL.Query().Get(issuer.ReturnToParam))
	if !ok {
		return
	}
	page := templates.ConsentPage{
		Frame:      h.Site.frame(r, inst, c.rt.uiLocales(), c.acct.Locale),
		Form:       templates.Form{ReturnTo: c.rt.raw},
		ClientName: c.client.Name,
		Email:      c.acct.Email,
		Scopes:     scopeTexts(c.scopes),
	}
	h.Site.render(w, r, func() error { return h.Site.Pages.Consent(w, http.StatusOK, page) })
}

// postConsent records the answer and returns to the request: allowed, the
// consent is stored; denied, the request learns it from usher_consent.
func (h *Consent) post(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !h.Site.parseForm(w, r, inst) {
		return
	}
	c, ok := h.request(w, r, inst, r.PostForm.Get(issuer.ReturnToParam))
	if !ok {
		return
	}
	switch r.PostForm.Get("consent") {
	case consentAllow:
		if err := h.grant(r, inst, c); err != nil {
			h.Site.fail(w, r, inst, err)
			return
		}
		redirect(w, r, c.rt.raw)
	case consentDeny:
		redirect(w, r, c.rt.denied())
	default:
		h.Site.Error(w, r, inst, http.StatusBadRequest, "error.bad_form.title", "error.bad_form.message")
	}
}

// request reads what consent is asked for. Without a signed-in
// session the browser is sent to sign in first, then back here; a
// return_to that is not valid, or names no client, is refused. In both
// cases it has answered and returns false.
func (h *Consent) request(w http.ResponseWriter, r *http.Request, inst *storage.Institution, raw string) (consentRequest, bool) {
	rt, ok := parseReturnTo(inst.Slug, raw)
	if !ok {
		h.Site.Error(w, r, inst, http.StatusBadRequest, "error.oauth.title", "error.return_to.message")
		return consentRequest{}, false
	}
	acct, err := h.Sessions.account(r, inst, h.In(inst.ID))
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return consentRequest{}, false
	}
	if acct == nil {
		redirect(w, r, loginURL(inst.Slug, rt))
		return consentRequest{}, false
	}
	client, err := clientOf(r.Context(), h.In(inst.ID), rt)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return consentRequest{}, false
	}
	if client == nil {
		h.Site.Error(w, r, inst, http.StatusBadRequest, "error.oauth.title", "error.oauth.unknown_client")
		return consentRequest{}, false
	}
	return consentRequest{acct: acct, client: client, rt: rt, scopes: consentScopes(client, rt)}, true
}

// consentScopes are the scopes asked for that the client may have.
func consentScopes(client *storage.Client, rt returnTo) []string {
	var scopes []string
	for _, s := range rt.scopes() {
		if client.Scopes.Has(s) {
			scopes = append(scopes, s)
		}
	}
	return scopes
}

// grant stores the consent with its audit event.
func (h *Consent) grant(r *http.Request, inst *storage.Institution, c consentRequest) error {
	s := h.In(inst.ID)
	return h.Tx.InTx(r.Context(), func(ctx context.Context) error {
		if err := s.GrantConsent(ctx, c.acct.ID, c.client.ID, c.scopes); err != nil {
			return fmt.Errorf("grant consent: %w", err)
		}
		return audit(ctx, s, r, c.acct.ID, "consent_granted",
			storage.Details{"client_id": c.client.ID, "scopes": strings.Join(c.scopes, " ")})
	})
}

// scopeTexts says what each scope lets the application do.
func scopeTexts(scopes []string) []templates.Text {
	known := []string{"openid", "email", "profile", "offline_access"}
	texts := make([]templates.Text, 0, len(scopes))
	for _, s := range scopes {
		if slices.Contains(known, s) {
			texts = append(texts, templates.Text{ID: "scope." + s})
		} else {
			texts = append(texts, templates.Text{ID: "scope.other", Args: map[string]string{"scope": s}})
		}
	}
	return texts
}
