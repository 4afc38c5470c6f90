package admin

import (
	"net/http"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// listAccounts: GET accounts?email=&name=&external_ref=&kind=&status=&cursor=&limit=,
// the accounts that match (the external reference exactly), ordered by ID,
// a page at a time.
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	limit, problems := pageLimit(q)
	if problems != nil {
		a.invalid(w, r, c, problems)
		return
	}
	list, err := a.accounts.List(r.Context(), c.inst, storage.AccountFilter{Email: q.Get("email"), Name: q.Get("name"),
		ExternalRef: q.Get("external_ref"), Kind: storage.AccountKind(q.Get("kind")), Status: storage.AccountStatus(q.Get("status")),
		After: q.Get("cursor"), Limit: limit + 1})
	if err != nil {
		a.fail(w, r, c, err)
		return
	}
	page := accountPage{Accounts: []AccountView{}}
	list, page.NextCursor = cut(list, limit, func(a *storage.Account) string { return a.ID })
	now := a.now()
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
func (a *API) createAccount(w http.ResponseWriter, r *http.Request, c *call) {
	var kind, email *string
	var n flows.NewAccount
	var invited bool
	var inv linkChoice
	if !a.decode(w, r, c, members{"kind": &kind, "email": &email, "given_name": &n.GivenName, "family_name": &n.FamilyName,
		"locale": &n.Locale, "email_verified": &n.EmailVerified, "external_ref": &n.ExternalRef, "password": &n.Password,
		"invite": object{&invited, inv.members()}}) {
		return
	}
	problems := required(map[string]bool{"kind": kind != nil, "email": email != nil})
	if invited && n.Password != "" {
		problems = append(problems, flows.Problem{Field: "invite", ID: "admin.password_or_invite"})
	}
	if problems != nil {
		a.invalid(w, r, c, problems)
		return
	}
	n.Kind, n.Email = storage.AccountKind(*kind), *email
	var acct *storage.Account
	var err error
	if invited {
		acct, err = a.invitations.CreateInvited(r.Context(), c.inst, n, inv.PointOfSale, inv.Document, c.actor())
		err = renameFields(err, map[string]string{"point_of_sale": "invite.point_of_sale", "document": "invite.document"})
	} else {
		acct, err = a.accounts.Create(r.Context(), c.inst, n, c.actor())
	}
	if err != nil {
		a.fail(w, r, c, err)
		return
	}
	w.Header().Set("Location", a.base(c.inst.Slug)+"/accounts/"+acct.ID)
	writeJSON(w, r, http.StatusCreated, ViewAccount(acct, a.now()))
}

// getAccount: GET accounts/{id}.
func (a *API) getAccount(w http.ResponseWriter, r *http.Request, c *call) {
	a.showAccount(w, r, c, http.StatusOK)
}

// patchAccount: PATCH accounts/{id} {external_ref?}, the members given
// change (absent or null ones stay); "" clears the reference. A reference
// another account of the kind holds is a 409 problem. 200 with the account.
func (a *API) patchAccount(w http.ResponseWriter, r *http.Request, c *call) {
	var ref *string
	if !a.decode(w, r, c, members{"external_ref": &ref}) {
		return
	}
	if ref != nil {
		if err := a.accounts.SetExternalRef(r.Context(), c.inst, r.PathValue("id"), *ref, c.actor()); err != nil {
			a.fail(w, r, c, err)
			return
		}
	}
	a.showAccount(w, r, c, http.StatusOK)
}

// showAccount answers the account of the path as it is now.
func (a *API) showAccount(w http.ResponseWriter, r *http.Request, c *call, status int) {
	acct, err := a.accounts.Get(r.Context(), c.inst, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, c, err)
		return
	}
	writeJSON(w, r, status, ViewAccount(acct, a.now()))
}

// change runs a change of the account of the path that takes no input
// (an empty body, or an empty object) and answers the account after it.
func (a *API) change(w http.ResponseWriter, r *http.Request, c *call,
	do func(inst *storage.Institution, accountID string, actor flows.Actor) error) {
	if !a.decode(w, r, c, members{}) {
		return
	}
	if err := do(c.inst, r.PathValue("id"), c.actor()); err != nil {
		a.fail(w, r, c, err)
		return
	}
	a.showAccount(w, r, c, http.StatusOK)
}

// disable: POST accounts/{id}/disable. The account's sessions end and its
// grants are revoked.
func (a *API) disable(w http.ResponseWriter, r *http.Request, c *call) {
	a.change(w, r, c, func(inst *storage.Institution, id string, actor flows.Actor) error {
		return a.accounts.Disable(r.Context(), inst, id, actor)
	})
}

// enable: POST accounts/{id}/enable.
func (a *API) enable(w http.ResponseWriter, r *http.Request, c *call) {
	a.change(w, r, c, func(inst *storage.Institution, id string, actor flows.Actor) error {
		return a.accounts.Enable(r.Context(), inst, id, actor)
	})
}

// unlock: POST accounts/{id}/unlock. A lockout is lifted and the failures
// forgotten.
func (a *API) unlock(w http.ResponseWriter, r *http.Request, c *call) {
	a.change(w, r, c, func(inst *storage.Institution, id string, actor flows.Actor) error {
		return a.accounts.Unlock(r.Context(), inst, id, actor)
	})
}

// events: GET accounts/{id}/events?cursor=&limit=, the account's audit
// trail, newest first.
func (a *API) events(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	limit, problems := pageLimit(q)
	if problems != nil {
		a.invalid(w, r, c, problems)
		return
	}
	list, err := a.accounts.Events(r.Context(), c.inst, r.PathValue("id"), q.Get("cursor"), limit+1)
	if err != nil {
		a.fail(w, r, c, err)
		return
	}
	page := eventPage{Events: []eventView{}}
	list, page.NextCursor = cut(list, limit, func(e *storage.AuditEvent) string { return e.ID })
	for i := range list {
		page.Events = append(page.Events, viewEvent(&list[i]))
	}
	writeJSON(w, r, http.StatusOK, page)
}
