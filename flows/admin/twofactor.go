package admin

import "net/http"

// requireTwoFactor: PUT accounts/{id}/two-factor {required}, whether an
// operator must use a second factor (one without enrols at the next
// sign-in). 200 with the account.
func (h accountRoutes) requireTwoFactor(w http.ResponseWriter, r *http.Request, c *call) {
	var req *bool
	if !h.api.decode(w, r, c, members{"required": &req}) {
		return
	}
	if problems := required(map[string]bool{"required": req != nil}); problems != nil {
		h.api.invalid(w, r, c, problems)
		return
	}
	if err := h.api.accounts.RequireTwoFactor(r.Context(), c.inst, r.PathValue("id"), *req, c.actor()); err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	h.showAccount(w, r, c, http.StatusOK, "")
}

// removeTwoFactor: DELETE accounts/{id}/two-factor, the account's second
// factor and recovery codes removed (a lost phone); the holder is emailed.
// 204.
func (h accountRoutes) removeTwoFactor(w http.ResponseWriter, r *http.Request, c *call) {
	if !h.api.decode(w, r, c, members{}) {
		return
	}
	if err := h.api.accounts.RemoveSecondFactor(r.Context(), c.inst, r.PathValue("id"), c.actor()); err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
