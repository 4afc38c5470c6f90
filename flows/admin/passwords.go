package admin

import (
	"net/http"

	"github.com/usher-idp/usher/flows"
)

// passwordReset: POST accounts/{id}/password-reset {point_of_sale?,
// document?}, the box-office reset: the account holder is emailed a reset
// link that leads back to the point of sale (the institution's only one
// when none is named), in the document chosen (the default when none is).
// 202: the email is queued. An institution without a point of sale is a
// 409 problem, never a link that leads nowhere.
func (h accountRoutes) passwordReset(w http.ResponseWriter, r *http.Request, c *call) {
	var req linkChoice
	if !h.api.decode(w, r, c, req.members()) {
		return
	}
	if err := h.api.accounts.SendResetLink(r.Context(), c.inst, r.PathValue("id"), flows.BoxOfficeReset(req), c.actor()); err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// setPassword: PUT accounts/{id}/password {password, temporary?}, a
// password typed by an operator, where the institution allows it (403
// problem otherwise). Every rule of the policy it fails is listed. A
// temporary one stops working after the institution's lifetime and must
// be changed at the next sign-in. The holder is emailed; the account's
// sessions and grants end. 204.
func (h accountRoutes) setPassword(w http.ResponseWriter, r *http.Request, c *call) {
	var password *string
	var temporary bool
	if !h.api.decode(w, r, c, members{"password": &password, "temporary": &temporary}) {
		return
	}
	if problems := required(map[string]bool{"password": password != nil}); problems != nil {
		h.api.invalid(w, r, c, problems)
		return
	}
	err := h.api.accounts.SetManualPassword(r.Context(), c.inst, r.PathValue("id"), *password, temporary, c.actor())
	if err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
