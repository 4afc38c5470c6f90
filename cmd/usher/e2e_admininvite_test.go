package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Invitations through the admin API, end to end over SMTP: the box office
// creates a customer or an operator without a password, the invitation
// arrives, its link sets the first password, and the person signs in with
// a verified address.

// invitationLinks waits until n emails with an activation (or invitation)
// link have reached to, and returns their links, oldest first.
func invitationLinks(t *testing.T, smtp *mailtest.Server, to string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var links []string
		for _, m := range smtp.Messages() {
			if slices.Contains(m.To, to) {
				if link := activationLinkPattern.FindString(textBody(t, m)); link != "" {
					links = append(links, link)
				}
			}
		}
		if len(links) >= n {
			return links
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails with a link reached %s, want %d", len(links), to, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// textTo is the text of the last email that reached to.
func textTo(t *testing.T, smtp *mailtest.Server, to string) string {
	t.Helper()
	text := ""
	for _, m := range smtp.Messages() {
		if slices.Contains(m.To, to) {
			text = textBody(t, m)
		}
	}
	return text
}

// acceptInvitation opens an invitation link in b, which must ask for the
// first password, and chooses it; it returns the page after.
func acceptInvitation(t *testing.T, b *browser, link, password string) (*http.Response, string) {
	t.Helper()
	resp, body := b.open(link)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password_confirm"`) {
		t.Fatalf("the invitation's page: %d\n%s", resp.StatusCode, body)
	}
	return b.submit(resp, body, url.Values{"token": {linkToken(link)}, "password": {password},
		"password_confirm": {password}})
}

// The box office's back end (client credentials, accounts:write) creates a
// customer with an invitation; the email arrives; its link sets the first
// password, signs the customer in (the shop gets a code straight away) and
// proves the address; the customer then signs in to the shop with the
// password. The audit trail names the back end.
func TestE2EAdminInvitesACustomer(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u, smtp := startUsherWithMail(t, db)
		shopID, shopSecret := u.pointOfSale(u.inst, "Opera Tickets")
		serviceID, token := u.serviceToken(u.inst, adminScopes...)
		api := u.adminOf(u.inst, token)
		created := api.want("create with an invitation", api.call(http.MethodPost, "/accounts", map[string]any{
			"kind": "customer", "email": "pat@example.org", "given_name": "Pat", "external_ref": "C-100",
			"invite": map[string]any{"point_of_sale": shopID}}), http.StatusCreated)
		if created.str("status") != "pending" || created.body["has_password"] != false ||
			created.body["email_verified"] != false || created.str("external_ref") != "C-100" {
			t.Errorf("created: %s", created.raw)
		}
		id := created.str("id")
		link := invitationLinks(t, smtp, "pat@example.org", 1)[0]
		if text := textTo(t, smtp, "pat@example.org"); !strings.Contains(text, "Opera Tickets") {
			t.Errorf("the invitation does not name the point of sale:\n%s", text)
		}

		b := newBrowser(t)
		if resp, body := acceptInvitation(t, b, link, testPassword); resp.StatusCode != http.StatusOK {
			t.Fatalf("the first password: %d\n%s", resp.StatusCode, body)
		}
		shop := newRP(t, u.issuer, shopID, shopSecret)
		if claims := silentCode(t, u, shop, b, "the shop after the invitation", nil); claims["sub"] != id ||
			claims["email_verified"] != true {
			t.Errorf("signed in after the invitation: %v", claims)
		}
		if _, idt := shop.signIn(newBrowser(t), "pat@example.org"); claimsOfToken(t, idt)["email_verified"] != true {
			t.Error("signed in with the first password: the address is not verified")
		}
		got := api.want("the account after", api.call(http.MethodGet, "/accounts/"+id, nil), http.StatusOK)
		if got.str("status") != "active" || got.body["has_password"] != true || got.body["email_verified"] != true {
			t.Errorf("the account after the invitation: %s", got.raw)
		}
		events := api.eventsOf(id)
		for _, want := range []string{"client:" + serviceID + " account_created", "client:" + serviceID + " invitation_sent"} {
			if !hasEvent(events, want) {
				t.Errorf("no event %q in %v", want, events)
			}
		}

		// An account with a password is not invited: a reset is what it needs.
		wantProblem(t, "inviting an account that has a password", api.call(http.MethodPost, "/accounts/"+id+"/invitation", nil),
			http.StatusConflict, "conflict", ":invitation.has_password")
	})
}

// An operator, signed in to the box office, invites another operator the
// same way; the new operator chooses a password from the link and signs in
// to the box office with a verified address. The actor is the operator.
func TestE2EAdminInvitesAnOperator(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u, smtp := startUsherWithMail(t, db)
		u.pointOfSale(u.inst, "Opera Tickets") // where the link leads back to: the institution's only one
		boss, bossToken := u.operatorToken(u.inst, "boss@example.org")
		api := u.adminOf(u.inst, bossToken)
		created := api.want("invite an operator", api.call(http.MethodPost, "/accounts", map[string]any{
			"kind": "operator", "email": "otto@example.org", "invite": map[string]any{}}), http.StatusCreated)
		if created.str("kind") != "operator" || created.str("status") != "pending" {
			t.Errorf("created: %s", created.raw)
		}
		link := invitationLinks(t, smtp, "otto@example.org", 1)[0]
		if resp, body := acceptInvitation(t, newBrowser(t), link, testPassword); resp.StatusCode != http.StatusOK {
			t.Fatalf("the first password: %d\n%s", resp.StatusCode, body)
		}
		id, secret := u.client(u.inst, provider.ClientSpec{Name: "Box office", RedirectURIs: []string{testRedirectURI},
			FirstParty: true, AccountKind: storage.Operator})
		_, idt := newRP(t, u.issuer, id, secret).signIn(newBrowser(t), "otto@example.org")
		if c := claimsOfToken(t, idt); c["sub"] != created.str("id") || c["email_verified"] != true {
			t.Errorf("the operator at the box office: %v", c)
		}
		if events := api.eventsOf(created.str("id")); !hasEvent(events, "operator:"+boss.ID+" invitation_sent") {
			t.Errorf("events: %v", events)
		}
	})
}

// With the institution's invitation_email at password_reset (PATCH
// settings), the invitation is the reset document, said to come from a
// member of staff, and its link still sets the first password.
func TestE2EAdminInvitationAsResetDocument(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u, smtp := startUsherWithMail(t, db)
		u.pointOfSale(u.inst, "Opera Tickets")
		_, token := u.serviceToken(u.inst, adminScopes...)
		api := u.adminOf(u.inst, token)
		before := api.want("settings", api.call(http.MethodGet, "/settings", nil), http.StatusOK)
		if before.str("invitation_email") != "account_invitation" {
			t.Errorf("the default invitation email: %s", before.raw)
		}
		after := api.want("the reset document for invitations", api.call(http.MethodPatch, "/settings",
			map[string]any{"invitation_email": "password_reset"}), http.StatusOK)
		if after.str("invitation_email") != "password_reset" {
			t.Errorf("settings after the change: %s", after.raw)
		}
		pat := api.want("create", api.call(http.MethodPost, "/accounts", map[string]any{"kind": "customer",
			"email": "pat@example.org"}), http.StatusCreated)
		api.want("invite", api.call(http.MethodPost, "/accounts/"+pat.str("id")+"/invitation", map[string]any{"document": ""}),
			http.StatusAccepted)
		link := invitationLinks(t, smtp, "pat@example.org", 1)[0]
		if text := textTo(t, smtp, "pat@example.org"); !strings.Contains(text, "member of staff") {
			t.Errorf("the invitation is not the reset document:\n%s", text)
		}
		if resp, body := acceptInvitation(t, newBrowser(t), link, testPassword); resp.StatusCode != http.StatusOK {
			t.Fatalf("the first password: %d\n%s", resp.StatusCode, body)
		}
		got := api.want("pat", api.call(http.MethodGet, "/accounts/"+pat.str("id"), nil), http.StatusOK)
		if got.str("status") != "active" || got.body["email_verified"] != true {
			t.Errorf("after the invitation: %s", got.raw)
		}
	})
}

// An invitation expires after the institution's activation-link lifetime;
// the box office sends a new one, and when it sends yet another, only the
// newest link works.
func TestE2EAdminInvitationExpiresAndIsSentAgain(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		clock := &testClock{}
		u, smtp := startUsherWithMailAt(t, db, clock.Now)
		u.pointOfSale(u.inst, "Opera Tickets")
		_, token := u.serviceToken(u.inst, adminScopes...)
		api := u.adminOf(u.inst, token)
		pat := api.want("create with an invitation", api.call(http.MethodPost, "/accounts", map[string]any{
			"kind": "customer", "email": "pat@example.org", "invite": map[string]any{}}), http.StatusCreated)
		invite := "/accounts/" + pat.str("id") + "/invitation"
		expired := invitationLinks(t, smtp, "pat@example.org", 1)[0]

		clock.Advance(u.inst.Settings.ActivationLinkTTL.Std() + time.Minute)
		if resp, _ := newBrowser(t).open(expired); resp.StatusCode != http.StatusGone {
			t.Errorf("an expired invitation: %d, want 410", resp.StatusCode)
		}
		_, token = u.serviceToken(u.inst, adminScopes...) // the first token expired meanwhile
		api = u.adminOf(u.inst, token)
		api.want("invite again", api.call(http.MethodPost, invite, nil), http.StatusAccepted)
		older := invitationLinks(t, smtp, "pat@example.org", 2)[1]
		api.want("and again", api.call(http.MethodPost, invite, map[string]any{}), http.StatusAccepted)
		newest := invitationLinks(t, smtp, "pat@example.org", 3)[2]
		if resp, _ := newBrowser(t).open(older); resp.StatusCode != http.StatusGone {
			t.Errorf("an invitation superseded by a newer one: %d, want 410", resp.StatusCode)
		}
		if resp, body := acceptInvitation(t, newBrowser(t), newest, testPassword); resp.StatusCode != http.StatusOK {
			t.Fatalf("the newest invitation: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := newBrowser(t).open(newest); resp.StatusCode != http.StatusGone {
			t.Errorf("the newest invitation once used: %d, want 410", resp.StatusCode)
		}
		sent := 0
		for _, e := range api.eventsOf(pat.str("id")) {
			if strings.HasSuffix(e, " invitation_sent") {
				sent++
			}
		}
		if sent != 3 {
			t.Errorf("%d invitation_sent events, want 3", sent)
		}
	})
}

// The external reference: set at creation, unique per institution and kind
// (409 naming the field), the same value free for an operator and in
// another institution, found by exact match, changed and cleared with
// PATCH, shown by usher account list --json.
func TestE2EAdminExternalRef(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		clientID, token := u.serviceToken(u.inst, adminScopes...)
		api := u.adminOf(u.inst, token)
		create := func(kind, email, ref string) apiResponse {
			return api.call(http.MethodPost, "/accounts", map[string]any{"kind": kind, "email": email, "external_ref": ref})
		}
		ann := api.want("create with a reference", create("customer", "ann@example.org", " C-1 "), http.StatusCreated)
		if ann.str("external_ref") != "C-1" {
			t.Errorf("created: %s", ann.raw)
		}
		wantProblem(t, "a taken reference", create("customer", "bob@example.org", "C-1"), http.StatusConflict, "conflict",
			"external_ref:account.external_ref_taken")
		wantProblem(t, "a taken email and reference", create("customer", "ANN@example.org", "C-1"), http.StatusBadRequest,
			"invalid-input", "email:account.email_taken", "external_ref:account.external_ref_taken")
		op := api.want("the same reference for an operator", create("operator", "op@example.org", "C-1"), http.StatusCreated)
		bob := api.want("no reference", create("customer", "bob@example.org", ""), http.StatusCreated)
		api.want("another without", create("customer", "cy@example.org", ""), http.StatusCreated)
		ballet := u.institution("ballet")
		_, balletToken := u.serviceToken(ballet, adminScopes...)
		u.adminOf(ballet, balletToken).want("the same reference in another institution",
			u.adminOf(ballet, balletToken).call(http.MethodPost, "/accounts",
				map[string]any{"kind": "customer", "email": "ann@example.org", "external_ref": "C-1"}), http.StatusCreated)

		search := func(query string) []string { return slices.Sorted(slices.Values(api.emailsOf(query))) }
		mustEqualf(t, "by reference", search("external_ref=C-1"), []string{"ann@example.org", "op@example.org"})
		mustEqualf(t, "by reference and kind", search("external_ref=C-1&kind=customer"), []string{"ann@example.org"})
		mustEqualf(t, "by a part of a reference", search("external_ref=C-"), []string(nil))

		patch := func(id string, body any) apiResponse {
			return api.call(http.MethodPatch, "/accounts/"+id, body)
		}
		wantProblem(t, "PATCH to a taken reference", patch(bob.str("id"), map[string]any{"external_ref": "C-1"}),
			http.StatusConflict, "conflict", "external_ref:account.external_ref_taken")
		if got := api.want("bob", patch(bob.str("id"), map[string]any{"external_ref": "C-2"}), http.StatusOK); got.str("external_ref") != "C-2" {
			t.Errorf("after PATCH: %s", got.raw)
		}
		if got := api.want("clear", patch(ann.str("id"), map[string]any{"external_ref": ""}), http.StatusOK); got.str("external_ref") != "" {
			t.Errorf("after clearing: %s", got.raw)
		}
		api.want("the freed reference", patch(bob.str("id"), map[string]any{"external_ref": "C-1"}), http.StatusOK)
		if got := api.want("an empty PATCH", patch(op.str("id"), nil), http.StatusOK); got.str("external_ref") != "C-1" {
			t.Errorf("an empty PATCH changed the account: %s", got.raw)
		}
		mustEqualf(t, "by reference after the changes", search("external_ref=C-1"), []string{"bob@example.org", "op@example.org"})
		if events := api.eventsOf(bob.str("id")); !hasEvent(events, "client:"+clientID+" external_ref_changed") {
			t.Errorf("events: %v", events)
		}

		var list []accountJSON
		tc := newTestCLI(t, db)
		tc.json(&list, "account", "list", "--institution", "demo", "--kind", "operator", "--json")
		if len(list) != 1 || list[0].ExternalRef != "C-1" {
			t.Errorf("usher account list --json: %+v", list)
		}
		table := strings.Split(strings.TrimSpace(tc.ok("", "account", "list", "--institution", "demo", "--kind", "operator")), "\n")
		if len(table) != 2 || !strings.Contains(table[0], "EXTERNAL REF") || !strings.Contains(table[1], " C-1 ") {
			t.Errorf("usher account list shows no external reference:\n%s", strings.Join(table, "\n"))
		}
	})
}

// The new routes refuse bad input with a problem, every problem at once,
// and change nothing: no account, no email.
func TestE2EAdminInvitationRefusesBadInput(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		u.pointOfSale(u.inst, "Opera Tickets")
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		ballet := u.institution("ballet")
		bob := u.account(ballet, storage.Customer, "bob@example.org")
		_, token := u.serviceToken(u.inst, adminScopes...)
		api := u.adminOf(u.inst, token)
		pending := api.want("a pending account", api.call(http.MethodPost, "/accounts", map[string]any{"kind": "customer",
			"email": "pat@example.org"}), http.StatusCreated)
		pat, acct, other := "/accounts/"+pending.str("id"), "/accounts/"+ann.ID, "/accounts/"+bob.ID
		long := strings.Repeat("x", 101)
		api.refuses([]badInput{
			{"invite: not an object", "POST", "/accounts", `{"kind": "customer", "email": "x@example.org", "invite": "yes"}`, "",
				400, "invalid-input", []string{"invite:admin.field_type"}},
			{"invite: unknown and mistyped members", "POST", "/accounts",
				`{"kind": "customer", "email": "x@example.org", "invite": {"pos": "x", "document": 1}}`, "", 400, "invalid-input",
				[]string{"invite.document:admin.field_type", "invite.pos:admin.field_unknown"}},
			{"invite and a password", "POST", "/accounts",
				`{"kind": "customer", "email": "x@example.org", "password": "Correct-horse-1", "invite": {}}`, "", 400,
				"invalid-input", []string{"invite:admin.password_or_invite"}},
			{"invite: every problem at once", "POST", "/accounts",
				`{"kind": "admin", "email": "nope", "external_ref": "` + long + `", "invite": {"point_of_sale": "nope"}}`, "", 400,
				"invalid-input", []string{"kind:account.kind_invalid", "email:account.email_invalid",
					"external_ref:account.external_ref_invalid", "invite.point_of_sale:account.point_of_sale_unknown"}},
			{"invite: unknown document", "POST", "/accounts",
				`{"kind": "customer", "email": "x@example.org", "invite": {"document": "no-such-document"}}`, "", 400,
				"invalid-input", []string{"invite.document:account.document_unknown"}},
			{"invite: a taken email", "POST", "/accounts", `{"kind": "customer", "email": "ANN@example.org", "invite": {}}`, "",
				400, "invalid-input", []string{"email:account.email_taken"}},
			{"external_ref: wrong type", "POST", "/accounts", `{"kind": "customer", "email": "x@example.org", "external_ref": 5}`,
				"", 400, "invalid-input", []string{"external_ref:admin.field_type"}},
			{"PATCH: not its to change", "PATCH", acct, `{"email": "x@example.org", "status": "active"}`, "", 400, "invalid-input",
				[]string{"email:admin.field_unknown", "status:admin.field_unknown"}},
			{"PATCH: wrong type", "PATCH", acct, `{"external_ref": 1}`, "", 400, "invalid-input",
				[]string{"external_ref:admin.field_type"}},
			{"PATCH: a control character", "PATCH", acct, `{"external_ref": "a\u0007b"}`, "", 400, "invalid-input",
				[]string{"external_ref:account.external_ref_invalid"}},
			{"PATCH: a form", "PATCH", acct, "external_ref=x", "application/x-www-form-urlencoded", 415, "", nil},
			{"PATCH: unknown account", "PATCH", "/accounts/no-such-id", `{"external_ref": "x"}`, "", 404, "", nil},
			{"PATCH: another institution's account", "PATCH", other, `{"external_ref": "x"}`, "", 404, "", nil},
			{"invitation: wrong type", "POST", pat + "/invitation", `{"point_of_sale": 5}`, "", 400, "invalid-input",
				[]string{"point_of_sale:admin.field_type"}},
			{"invitation: unknown member", "POST", pat + "/invitation", `{"kind": "operator"}`, "", 400, "invalid-input",
				[]string{"kind:admin.field_unknown"}},
			{"invitation: unknown point of sale", "POST", pat + "/invitation", `{"point_of_sale": "nope"}`, "", 400,
				"invalid-input", []string{"point_of_sale:account.point_of_sale_unknown"}},
			{"invitation: unknown document", "POST", pat + "/invitation", `{"document": "nope"}`, "", 400, "invalid-input",
				[]string{"document:account.document_unknown"}},
			{"invitation: an account with a password", "POST", acct + "/invitation", "", "", 409, "conflict",
				[]string{":invitation.has_password"}},
			{"invitation: unknown account", "POST", "/accounts/no-such-id/invitation", "", "", 404, "", nil},
			{"invitation: another institution's account", "POST", other + "/invitation", "", "", 404, "", nil},
			{"invitation: wrong method", "GET", pat + "/invitation", "", "", 405, "", nil},
			{"settings: unknown invitation email", "PATCH", "/settings", `{"invitation_email": "welcome"}`, "", 400,
				"invalid-input", []string{"invitation_email:institution.invitation_email_invalid"}},
			{"settings: invitation email of the wrong type", "PATCH", "/settings", `{"invitation_email": true}`, "", 400,
				"invalid-input", []string{"invitation_email:admin.field_type"}},
		})
		// An institution without a point of sale: a clear 409, never a link
		// that leads nowhere.
		_, balletToken := u.serviceToken(ballet, adminScopes...)
		balletAPI := u.adminOf(ballet, balletToken)
		wantProblem(t, "no point of sale: create", balletAPI.call(http.MethodPost, "/accounts", map[string]any{
			"kind": "customer", "email": "x@example.org", "invite": map[string]any{}}), http.StatusConflict, "no-point-of-sale")
		cy := balletAPI.want("a pending account", balletAPI.call(http.MethodPost, "/accounts", map[string]any{
			"kind": "customer", "email": "cy@example.org"}), http.StatusCreated)
		wantProblem(t, "no point of sale: invite", balletAPI.call(http.MethodPost, "/accounts/"+cy.str("id")+"/invitation", nil),
			http.StatusConflict, "no-point-of-sale")

		list := api.want("list", api.call(http.MethodGet, "/accounts", nil), http.StatusOK)
		if accounts, _ := list.body["accounts"].([]any); len(accounts) != 2 {
			t.Errorf("accounts after the refusals: %s", list.raw)
		}
		for _, inst := range []*storage.Institution{u.inst, ballet} {
			emails, err := u.a.store.In(inst.ID).ListEmails(t.Context(), storage.OutboxFilter{})
			if err != nil || len(emails) != 0 {
				t.Errorf("%s: %d emails queued by the refusals, %v", inst.Slug, len(emails), err)
			}
		}
		if got := api.want("ann", api.call(http.MethodGet, acct, nil), http.StatusOK); got.str("external_ref") != "" {
			t.Errorf("ann after the refusals: %s", got.raw)
		}
		if got := api.want("settings", api.call(http.MethodGet, "/settings", nil), http.StatusOK); got.str("invitation_email") != "account_invitation" {
			t.Errorf("settings after the refusals: %s", got.raw)
		}
	})
}
