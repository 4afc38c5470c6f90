package flows

import (
	"net/http"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// LogoutStore is what signing out needs of an institution's records.
type LogoutStore interface {
	AccountGetter
	auditRecorder
	clientLister
}

// Logout is signing out at Usher (GET and POST /logout); the relying
// parties' logout is the provider's /oauth2/logout.
type Logout struct {
	Site     *Site
	Sessions *Sessions
	In       func(institutionID string) LogoutStore
}

// get asks a signed-in person whether to sign out; to anybody else it says
// they are signed out. A GET changes nothing.
func (h *Logout) get(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	acct, err := h.Sessions.account(r, inst, h.In(inst.ID))
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if acct == nil {
		h.signedOut(w, r, inst, "")
		return
	}
	page := templates.LogoutConfirmPage{Frame: h.Site.frame(r, inst, acct.Locale)}
	h.Site.render(w, r, func() error { return h.Site.Pages.LogoutConfirm(w, http.StatusOK, page) })
}

// post ends the browser's session everywhere and says so.
func (h *Logout) post(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	who, err := h.Sessions.Authenticated(r, inst)
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if err := h.Sessions.SignOut(w, r, inst); err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	locale := ""
	if who != nil {
		s := h.In(inst.ID)
		if err := audit(r.Context(), s, r, who.AccountID, "sign_out", nil); err != nil {
			h.Site.fail(w, r, inst, err)
			return
		}
		h.Site.log().InfoContext(r.Context(), "signed out", "institution", inst.Slug, "account", who.AccountID)
		if acct, err := s.GetAccount(r.Context(), who.AccountID); err == nil {
			locale = acct.Locale
		}
	}
	h.signedOut(w, r, inst, locale)
}

// signedOut writes the signed-out page.
func (h *Logout) signedOut(w http.ResponseWriter, r *http.Request, inst *storage.Institution, accountLocale string) {
	page := templates.SignedOutPage{Frame: h.Site.frame(r, inst, accountLocale)}
	var err error
	if page.PointsOfSale, err = pointsOfSale(r, h.In(inst.ID)); err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	h.Site.render(w, r, func() error { return h.Site.Pages.SignedOut(w, http.StatusOK, page) })
}
