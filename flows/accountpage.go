package flows

import (
	"net/http"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// AccountPage is the page of the signed-in person (GET /account): who is
// signed in, and a way to sign out.
type AccountPage struct {
	Site     *Site
	Sessions *Sessions
	In       func(institutionID string) AccountGetter
}

// get shows the page; nobody signed in is sent to sign in.
func (h *AccountPage) get(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	acct, err := h.Sessions.account(r, inst, h.In(inst.ID))
	if err != nil {
		h.Site.fail(w, r, inst, err)
		return
	}
	if acct == nil {
		redirect(w, r, pagePath(inst.Slug, issuer.LoginPath))
		return
	}
	page := templates.SignedInPage{Frame: h.Site.frame(r, inst, acct.Locale), Email: acct.Email}
	h.Site.render(w, r, func() error { return h.Site.Pages.SignedIn(w, http.StatusOK, page) })
}
