package flows

import (
	"net/http"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// getAccount is the minimal account page: who is signed in, and a way to
// sign out. Nobody signed in is sent to sign in.
func (x *Web) getAccount(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	acct, err := x.signedInAccount(r, inst)
	if err != nil {
		x.fail(w, r, inst, err)
		return
	}
	if acct == nil {
		redirect(w, r, issuerPath(inst.Slug)+"/login")
		return
	}
	page := templates.SignedInPage{Frame: x.frame(inst, x.locale(r, inst, acct.Locale)), Email: acct.Email}
	x.render(w, r, func() error { return x.Pages.SignedIn(w, http.StatusOK, page) })
}
