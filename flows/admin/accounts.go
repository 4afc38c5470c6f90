package admin

import (
	"net/http"
	"strconv"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// accountRoutes are the operations on accounts: accounts and
// accounts/{id}/….
type accountRoutes struct{ api *API }

// listAccounts: GET accounts?email=&name=&external_ref=&kind=&status=&cursor=&limit=,
// the accounts that match (the external reference exactly), ordered by ID,
// a page at a time.
func (h accountRoutes) listAccounts(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	limit, problems := pageLimit(q)
	if problems != nil {
		h.api.invalid(w, r, c, problems)
		return
	}
	list, err := h.api.accounts.List(r.Context(), c.inst, storage.AccountFilter{Email: q.Get("email"), Name: q.Get("name"),
		ExternalRef: q.Get("external_ref"), Kind: storage.AccountKind(q.Get("kind")), Status: storage.AccountStatus(q.Get("status")),
		After: q.Get("cursor"), Limit: limit + 1})
	if err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	page := accountPage{Accounts: []AccountView{}}
	list, page.NextCursor = cut(list, limit, func(a *storage.Account) string { return a.ID })
	searched := storage.Details{"results": strconv.Itoa(len(list))}
	for _, k := range []string{"email", "name", "external_ref", "kind", "status", "cursor"} {
		if v := q.Get(k); v != "" {
			searched[k] = v
		}
	}
	if !h.api.recordRead(w, r, c, "", "accounts_searched", searched) {
		return
	}
	now := h.api.now()
	for i := range list {
		page.Accounts = append(page.Accounts, ViewAccount(&list[i], now))
	}
	writeJSON(w, r, http.StatusOK, page)
}

// createAccount: POST accounts {kind, email, given_name?, family_name?,
// locale?, email_verified?, external_ref?, password? | invite?}. With a
// password the account is active. With invite {point_of_sale?, document?}
// it is pending and its holder is emailed an invitation whose link asks
// for the first password, in the same transaction. With neither it is
// pending until its holder chooses a password through a reset link (POST
// accounts/{id}/password-reset). 201 with the account.
func (h accountRoutes) createAccount(w http.ResponseWriter, r *http.Request, c *call) {
	var kind, email *string
	var n flows.NewAccount
	var invited bool
	var inv linkChoice
	if !h.api.decode(w, r, c, members{"kind": &kind, "email": &email, "given_name": &n.GivenName, "family_name": &n.FamilyName,
		"locale": &n.Locale, "email_verified": &n.EmailVerified, "external_ref": &n.ExternalRef, "password": &n.Password,
		"invite": object{&invited, inv.members()}}) {
		return
	}
	problems := required(map[string]bool{"kind": kind != nil, "email": email != nil})
	if invited && n.Password != "" {
		problems = append(problems, flows.Problem{Field: "invite", ID: "admin.password_or_invite"})
	}
	if problems != nil {
		h.api.invalid(w, r, c, problems)
		return
	}
	n.Kind, n.Email = storage.AccountKind(*kind), *email
	var acct *storage.Account
	var err error
	if invited {
		acct, err = h.api.invitations.CreateInvited(r.Context(), c.inst, n, inv.PointOfSale, inv.Document, c.actor())
		err = renameFields(err, map[string]string{"point_of_sale": "invite.point_of_sale", "document": "invite.document"})
	} else {
		acct, err = h.api.accounts.Create(r.Context(), c.inst, n, c.actor())
	}
	if err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	w.Header().Set("Location", h.api.base(c.inst.Slug)+"/accounts/"+acct.ID)
	writeJSON(w, r, http.StatusCreated, ViewAccount(acct, h.api.now()))
}

// getAccount: GET accounts/{id}.
func (h accountRoutes) getAccount(w http.ResponseWriter, r *http.Request, c *call) {
	h.showAccount(w, r, c, http.StatusOK, "account_viewed")
}

// patchAccount: PATCH accounts/{id} {external_ref?}, the members given
// change (absent or null ones stay); "" clears the reference. A reference
// another account of the kind holds is a 409 problem. 200 with the account.
func (h accountRoutes) patchAccount(w http.ResponseWriter, r *http.Request, c *call) {
	var ref *string
	if !h.api.decode(w, r, c, members{"external_ref": &ref}) {
		return
	}
	if ref == nil { // nothing to change: the call is a read
		h.showAccount(w, r, c, http.StatusOK, "account_viewed")
		return
	}
	if err := h.api.accounts.SetExternalRef(r.Context(), c.inst, r.PathValue("id"), *ref, c.actor()); err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	h.showAccount(w, r, c, http.StatusOK, "")
}

// showAccount answers the account of the path as it is now. read, when
// not "", is the audit action of a call that only read it; a call that
// changed it has recorded its change.
func (h accountRoutes) showAccount(w http.ResponseWriter, r *http.Request, c *call, status int, read string) {
	acct, err := h.api.accounts.Get(r.Context(), c.inst, r.PathValue("id"))
	if err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	if read != "" && !h.api.recordRead(w, r, c, acct.ID, read, nil) {
		return
	}
	writeJSON(w, r, status, ViewAccount(acct, h.api.now()))
}

// change runs a change of the account of the path that takes no input
// (an empty body, or an empty object) and answers the account after it.
func (h accountRoutes) change(w http.ResponseWriter, r *http.Request, c *call,
	do func(inst *storage.Institution, accountID string, actor flows.Actor) error) {
	if !h.api.decode(w, r, c, members{}) {
		return
	}
	if err := do(c.inst, r.PathValue("id"), c.actor()); err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	h.showAccount(w, r, c, http.StatusOK, "")
}

// disable: POST accounts/{id}/disable. The account's sessions end and its
// grants are revoked.
func (h accountRoutes) disable(w http.ResponseWriter, r *http.Request, c *call) {
	h.change(w, r, c, func(inst *storage.Institution, id string, actor flows.Actor) error {
		return h.api.accounts.Disable(r.Context(), inst, id, actor)
	})
}

// enable: POST accounts/{id}/enable.
func (h accountRoutes) enable(w http.ResponseWriter, r *http.Request, c *call) {
	h.change(w, r, c, func(inst *storage.Institution, id string, actor flows.Actor) error {
		return h.api.accounts.Enable(r.Context(), inst, id, actor)
	})
}

// unlock: POST accounts/{id}/unlock. A lockout is lifted and the failures
// forgotten.
func (h accountRoutes) unlock(w http.ResponseWriter, r *http.Request, c *call) {
	h.change(w, r, c, func(inst *storage.Institution, id string, actor flows.Actor) error {
		return h.api.accounts.Unlock(r.Context(), inst, id, actor)
	})
}

// events: GET accounts/{id}/events?cursor=&limit=, the account's audit
// trail, newest first.
func (h accountRoutes) events(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	limit, problems := pageLimit(q)
	if problems != nil {
		h.api.invalid(w, r, c, problems)
		return
	}
	list, err := h.api.accounts.Events(r.Context(), c.inst, r.PathValue("id"), q.Get("cursor"), limit+1)
	if err != nil {
		h.api.fail(w, r, c, err)
		return
	}
	page := eventPage{Events: []eventView{}}
	list, page.NextCursor = cut(list, limit, func(e *storage.AuditEvent) string { return e.ID })
	if !h.api.recordRead(w, r, c, r.PathValue("id"), "account_events_viewed", nil) {
		return
	}
	for i := range list {
		page.Events = append(page.Events, viewEvent(&list[i]))
	}
	writeJSON(w, r, http.StatusOK, page)
}
