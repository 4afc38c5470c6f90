package flows

import (
	"net/http"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// getLogout asks a signed-in person whether to sign out; to anybody else it
// says they are signed out. A GET changes nothing.
func (x *Web) getLogout(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	acct, err := x.signedInAccount(r, inst)
	if err != nil {
		x.fail(w, r, inst, err)
		return
	}
	if acct == nil {
		x.signedOut(w, r, inst, "")
		return
	}
	page := templates.LogoutConfirmPage{Frame: x.frame(inst, x.locale(r, inst, acct.Locale))}
	x.render(w, r, func() error { return x.Pages.LogoutConfirm(w, http.StatusOK, page) })
}

// postLogout ends the browser's session everywhere and says so.
func (x *Web) postLogout(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	bs, err := x.Sessions.Authenticated(r, inst)
	if err != nil {
		x.fail(w, r, inst, err)
		return
	}
	if err := x.Sessions.SignOut(w, r, inst); err != nil {
		x.fail(w, r, inst, err)
		return
	}
	locale := ""
	if bs != nil {
		if err := x.audit(r.Context(), x.Store.In(inst.ID), r, bs.AccountID, "sign_out", nil); err != nil {
			x.fail(w, r, inst, err)
			return
		}
		x.log().InfoContext(r.Context(), "signed out", "institution", inst.Slug, "account", bs.AccountID)
		if acct, err := x.Store.In(inst.ID).GetAccount(r.Context(), bs.AccountID); err == nil {
			locale = acct.Locale
		}
	}
	x.signedOut(w, r, inst, locale)
}

// signedOut writes the signed-out page.
func (x *Web) signedOut(w http.ResponseWriter, r *http.Request, inst *storage.Institution, accountLocale string) {
	page := templates.SignedOutPage{Frame: x.frame(inst, x.locale(r, inst, accountLocale))}
	x.render(w, r, func() error { return x.Pages.SignedOut(w, http.StatusOK, page) })
}
