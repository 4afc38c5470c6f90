package admin

import (
	"net/http"
)

// linkChoice is what an emailed link is sent with: the client ID of the
// point of sale it leads back to ("" when the institution has exactly
// one) and the institution's document ("" the default one).
type linkChoice struct {
	PointOfSale string
	Document    string
}

// members are the request members of c.
func (c *linkChoice) members() members {
	return members{"point_of_sale": &c.PointOfSale, "document": &c.Document}
}

// invite: POST accounts/{id}/invitation {point_of_sale?, document?}, an
// invitation for an account without a password (one created without): its
// holder is emailed a link that asks for the first password, then
// activates the account. A newer invitation supersedes the older ones. An
// account that has a password is a 409 problem (send it a reset instead),
// as is an institution without a point of sale. 202: the email is queued.
func (h accountRoutes) invite(w http.ResponseWriter, r *http.Request, c *call) {
	var req linkChoice
	if !h.api.decode(w, r, c, req.members()) {
		return
	}
	if err := h.api.invitations.Invite(r.Context(), c.inst, r.PathValue("id"), req.PointOfSale, req.Document, c.actor()); err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
