package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

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
func (x *Web) getConsent(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	c, ok := x.consentRequest(w, r, inst, r.URL.Query().Get("return_to"))
	if !ok {
		return
	}
	page := templates.ConsentPage{
		Frame:      x.frame(inst, x.locale(r, inst, c.rt.uiLocales(), c.acct.Locale)),
		Form:       templates.Form{ReturnTo: c.rt.raw},
		ClientName: c.client.Name,
		Email:      c.acct.Email,
		Scopes:     scopeTexts(c.scopes),
	}
	x.render(w, r, func() error { return x.Pages.Consent(w, http.StatusOK, page) })
}

// postConsent records the answer and returns to the request: allowed, the
// consent is stored; denied, the request learns it from usher_consent.
func (x *Web) postConsent(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	if !x.parseForm(w, r, inst) {
		return
	}
	c, ok := x.consentRequest(w, r, inst, r.PostForm.Get("return_to"))
	if !ok {
		return
	}
	switch r.PostForm.Get("consent") {
	case consentAllow:
		if err := x.grantConsent(r, inst, c); err != nil {
			x.fail(w, r, inst, err)
			return
		}
		redirect(w, r, c.rt.raw)
	case consentDeny:
		redirect(w, r, c.rt.denied())
	default:
		x.Error(w, r, inst, http.StatusBadRequest, "error.bad_form.title", "error.bad_form.message")
	}
}

// consentRequest reads what consent is asked for. Without a signed-in
// session the browser is sent to sign in first, then back here; a
// return_to that is not valid, or names no client, is refused. In both
// cases it has answered and returns false.
func (x *Web) consentRequest(w http.ResponseWriter, r *http.Request, inst *storage.Institution, raw string) (consentRequest, bool) {
	rt, ok := parseReturnTo(inst.Slug, raw)
	if !ok {
		x.Error(w, r, inst, http.StatusBadRequest, "error.oauth.title", "error.return_to.message")
		return consentRequest{}, false
	}
	acct, err := x.signedInAccount(r, inst)
	if err != nil {
		x.fail(w, r, inst, err)
		return consentRequest{}, false
	}
	if acct == nil {
		redirect(w, r, loginURL(inst.Slug, rt))
		return consentRequest{}, false
	}
	client, err := x.client(r.Context(), inst, rt)
	if err != nil {
		x.fail(w, r, inst, err)
		return consentRequest{}, false
	}
	if client == nil {
		x.Error(w, r, inst, http.StatusBadRequest, "error.oauth.title", "error.oauth.unknown_client")
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

// grantConsent stores the consent with its audit event.
func (x *Web) grantConsent(r *http.Request, inst *storage.Institution, c consentRequest) error {
	s := x.Store.In(inst.ID)
	return x.Store.InTx(r.Context(), func(ctx context.Context) error {
		if err := s.GrantConsent(ctx, c.acct.ID, c.client.ID, c.scopes); err != nil {
			return fmt.Errorf("grant consent: %w", err)
		}
		return x.audit(ctx, s, r, c.acct.ID, "consent_granted",
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

// signedInAccount is the account signed in at the institution, or nil. A
// session whose account is gone counts as nobody.
func (x *Web) signedInAccount(r *http.Request, inst *storage.Institution) (*storage.Account, error) {
	bs, err := x.Sessions.Authenticated(r, inst)
	if err != nil || bs == nil {
		return nil, err
	}
	acct, err := x.Store.In(inst.ID).GetAccount(r.Context(), bs.AccountID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("signed-in account: %w", err)
	}
	if acct.Status != storage.Active {
		return nil, nil
	}
	return acct, nil
}
