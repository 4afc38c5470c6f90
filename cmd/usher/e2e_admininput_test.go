package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// badInput is a request the admin API refuses, and the problem it answers.
type badInput struct {
	name         string
	method, path string
	body         string // sent as application/json unless contentType says otherwise
	contentType  string
	status       int
	kind         string   // problem type name, "" for about:blank
	errors       []string // field:message_id
}

// Every route refuses bad input with a problem, never a 500: bad JSON,
// missing members, wrong types, unknown members, refused values, a body
// that is not JSON or is too large, another institution's accounts (404)
// and tokens (401), a wrong method (405). Nothing is changed by a refusal.
func TestE2EAdminRefusesBadInput(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		ballet := u.institution("ballet")
		bob := u.account(ballet, storage.Customer, "bob@example.org")
		_, token := u.serviceToken(u.inst, adminScopes...)
		_, balletToken := u.serviceToken(ballet, adminScopes...)
		api := u.adminOf(u.inst, token)
		api.want("manual entry on", api.call(http.MethodPatch, "/settings", map[string]any{"manual_password": true}), http.StatusOK)
		acct := "/accounts/" + ann.ID
		other := "/accounts/" + bob.ID

		tests := []badInput{
			{"syntax", "POST", "/accounts", `{"kind":`, "", 400, "invalid-input", []string{":admin.json_invalid"}},
			{"not an object", "POST", "/accounts", `[]`, "", 400, "invalid-input", []string{":admin.body_not_object"}},
			{"missing members", "POST", "/accounts", `{}`, "", 400, "invalid-input",
				[]string{"email:admin.field_required", "kind:admin.field_required"}},
			{"wrong types", "POST", "/accounts", `{"kind": 1, "email": true, "email_verified": "yes"}`, "", 400, "invalid-input",
				[]string{"email:admin.field_type", "email_verified:admin.field_type", "kind:admin.field_type"}},
			{"unknown member", "POST", "/accounts", `{"kind": "customer", "email": "x@example.org", "role": "admin"}`, "", 400,
				"invalid-input", []string{"role:admin.field_unknown"}},
			{"refused values", "POST", "/accounts", `{"kind": "admin", "email": "nope", "locale": "xx"}`, "", 400, "invalid-input",
				[]string{"kind:account.kind_invalid", "email:account.email_invalid", "locale:account.locale_invalid"}},
			{"NUL character", "POST", "/accounts", `{"kind": "customer", "email": "x@example.org", "given_name": "a\u0000b"}`, "",
				400, "invalid-input", []string{"given_name:admin.text_invalid"}},
			{"a form, not JSON", "POST", "/accounts", "kind=customer", "application/x-www-form-urlencoded", 415, "", nil},
			{"too large", "POST", "/accounts", `{"given_name": "` + strings.Repeat("a", 20<<10) + `"}`, "", 400, "invalid-input",
				[]string{":admin.body_too_large"}},
			{"reset: wrong type", "POST", acct + "/password-reset", `{"point_of_sale": 5}`, "", 400, "invalid-input",
				[]string{"point_of_sale:admin.field_type"}},
			{"password: missing", "PUT", acct + "/password", `{"temporary": true}`, "", 400, "invalid-input",
				[]string{"password:admin.field_required"}},
			{"password: wrong types", "PUT", acct + "/password", `{"password": 5, "temporary": "no"}`, "", 400, "invalid-input",
				[]string{"password:admin.field_type", "temporary:admin.field_type"}},
			{"two-factor: missing", "PUT", acct + "/two-factor", `{}`, "", 400, "invalid-input", []string{"required:admin.field_required"}},
			{"two-factor: wrong type", "PUT", acct + "/two-factor", `{"required": "yes"}`, "", 400, "invalid-input",
				[]string{"required:admin.field_type"}},
			{"disable: input it takes none of", "POST", acct + "/disable", `{"reason": "x"}`, "", 400, "invalid-input",
				[]string{"reason:admin.field_unknown"}},
			{"settings: out of bounds", "PATCH", "/settings",
				`{"temporary_password_lifetime_minutes": 0, "password_policy": {"min_length": 4}}`, "", 400, "invalid-input",
				[]string{"temporary_password_lifetime_minutes:institution.lifetime_range", "password_policy.min_length:institution.min_length_range"}},
			{"settings: huge", "PATCH", "/settings", `{"reset_link_lifetime_minutes": 9223372036854775807}`, "", 400, "invalid-input",
				[]string{"reset_link_lifetime_minutes:institution.lifetime_range"}},
			{"settings: not its to change", "PATCH", "/settings", `{"two_factor": true}`, "", 400, "invalid-input",
				[]string{"two_factor:admin.field_unknown"}},
			{"settings: nested wrong type", "PATCH", "/settings", `{"password_policy": [], "manual_password": 1}`, "", 400, "invalid-input",
				[]string{"manual_password:admin.field_type", "password_policy:admin.field_type"}},
			{"list: limit", "GET", "/accounts?limit=0", "", "", 400, "invalid-input", []string{"limit:admin.limit_range"}},
			{"list: kind and status", "GET", "/accounts?kind=admin&status=gone", "", "", 400, "invalid-input",
				[]string{"kind:account.kind_invalid", "status:account.status_invalid"}},
			{"events: limit", "GET", acct + "/events?limit=x", "", "", 400, "invalid-input", []string{"limit:admin.limit_range"}},
			{"documents: no class", "GET", "/documents", "", "", 400, "invalid-input", []string{"class:admin.field_required"}},
			{"documents: unknown class", "GET", "/documents?class=nope", "", "", 400, "invalid-input",
				[]string{"class:admin.email_class_unknown"}},
			{"unknown account", "GET", "/accounts/no-such-id", "", "", 404, "", nil},
			{"a NUL in the path", "GET", "/accounts/%00", "", "", 404, "", nil},
			{"wrong method", "DELETE", "/accounts", "", "", 405, "", nil},
			{"unknown path", "GET", "/accounts/" + ann.ID + "/nothing", "", "", 404, "", nil},
		}
		// Another institution's account, through every route that names one.
		for _, route := range []struct{ method, path, body string }{
			{"GET", "", ""}, {"POST", "/disable", ""}, {"POST", "/enable", ""}, {"POST", "/unlock", ""},
			{"POST", "/password-reset", `{}`}, {"PUT", "/password", `{"password": "Another-passw0rd!"}`},
			{"PUT", "/two-factor", `{"required": true}`}, {"DELETE", "/two-factor", ""}, {"GET", "/events", ""},
		} {
			tests = append(tests, badInput{"another institution's account: " + route.method + " " + route.path,
				route.method, other + route.path, route.body, "", 404, "", nil})
		}
		api.refuses(tests)

		// Another institution's token.
		wantProblem(t, "another institution's token", u.adminOf(u.inst, balletToken).call(http.MethodGet, "/accounts", nil),
			http.StatusUnauthorized, "")
		wantProblem(t, "a token of this institution at another's API", u.adminOf(ballet, token).call(http.MethodGet,
			"/accounts", nil), http.StatusUnauthorized, "")

		// Nothing was changed.
		list := api.want("list", api.call(http.MethodGet, "/accounts", nil), http.StatusOK)
		if accounts, _ := list.body["accounts"].([]any); len(accounts) != 1 {
			t.Errorf("accounts after the refusals: %s", list.raw)
		}
		got := api.want("ann", api.call(http.MethodGet, acct, nil), http.StatusOK)
		if got.str("status") != "active" || got.body["two_factor_required"] != false {
			t.Errorf("ann after the refusals: %s", got.raw)
		}
		if events := changesIn(api.eventsOf(ann.ID)); len(events) != 1 {
			t.Errorf("audit events (changes) after the refusals: %v", events)
		}
	})
}

// refuses sends each bad input and checks the problem it answers.
func (c *adminClient) refuses(tests []badInput) {
	c.t.Helper()
	for _, tt := range tests {
		req := newRequest(c.t, tt.method, c.base+tt.path, tt.body)
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		wantProblem(c.t, tt.name, c.do(req), tt.status, tt.kind, tt.errors...)
	}
}

// Accounts are created (active with a password, pending without), found by
// email and name, and listed a page at a time.
func TestE2EAdminCreateSearchAndPage(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		clientID, token := u.serviceToken(u.inst, adminScopes...)
		api := u.adminOf(u.inst, token)
		created := api.want("create", api.call(http.MethodPost, "/accounts", map[string]any{"kind": "customer",
			"email": "Ann.Lee@example.org", "given_name": "Ann", "family_name": "Lee", "password": "Correct-horse-1"}),
			http.StatusCreated)
		if created.str("status") != "active" || created.body["has_password"] != true ||
			created.header.Get("Location") != api.base+"/accounts/"+created.str("id") {
			t.Errorf("created: %s (Location %s)", created.raw, created.header.Get("Location"))
		}
		pending := api.want("create without password", api.call(http.MethodPost, "/accounts", map[string]any{
			"kind": "customer", "email": "pending@example.org"}), http.StatusCreated)
		if pending.str("status") != "pending" || pending.body["has_password"] != false {
			t.Errorf("created without password: %s", pending.raw)
		}
		wantProblem(t, "a taken email", api.call(http.MethodPost, "/accounts", map[string]any{"kind": "customer",
			"email": "ann.lee@EXAMPLE.org"}), http.StatusBadRequest, "invalid-input", "email:account.email_taken")
		wantProblem(t, "a weak password", api.call(http.MethodPost, "/accounts", map[string]any{"kind": "customer",
			"email": "weak@example.org", "password": "password"}), http.StatusBadRequest, "invalid-input",
			"password:password.too_short", "password:password.too_common")
		for i := range 5 {
			u.account(u.inst, storage.Customer, fmt.Sprintf("fan%d@example.org", i))
		}
		u.account(u.inst, storage.Operator, "op@example.org")

		mustEqualf(t, "by email", api.emailsOf("email=ANN.lee"), []string{"Ann.Lee@example.org"})
		mustEqualf(t, "by name", api.emailsOf(url.Values{"name": {"ann lee"}}.Encode()), []string{"Ann.Lee@example.org"})
		mustEqualf(t, "operators", api.emailsOf("kind=operator"), []string{"op@example.org"})
		mustEqualf(t, "pending", api.emailsOf("status=pending"), []string{"pending@example.org"})

		var paged []string
		for query, pages := "kind=customer&limit=3", 0; ; pages++ {
			r := api.want("page", api.call(http.MethodGet, "/accounts?"+query, nil), http.StatusOK)
			for _, a := range r.body["accounts"].([]any) {
				paged = append(paged, a.(map[string]any)["email"].(string))
			}
			next := r.str("next_cursor")
			if next == "" || pages > 5 {
				break
			}
			query = url.Values{"kind": {"customer"}, "limit": {"3"}, "cursor": {next}}.Encode()
		}
		if len(paged) != 7 {
			t.Errorf("paged through %d customers, want 7: %v", len(paged), paged)
		}
		if events := api.eventsOf(created.str("id")); len(events) != 1 || events[0] != "client:"+clientID+" account_created" {
			t.Errorf("events of the account created: %v", events)
		}
	})
}

// emailsOf searches the accounts with query and lists their emails, in
// the order listed.
func (c *adminClient) emailsOf(query string) []string {
	c.t.Helper()
	r := c.want("search "+query, c.call(http.MethodGet, "/accounts?"+query, nil), http.StatusOK)
	var emails []string
	for _, a := range r.body["accounts"].([]any) {
		emails = append(emails, a.(map[string]any)["email"].(string))
	}
	return emails
}

// newRequest is http.NewRequest for a test, with no body when body is "".
func newRequest(t *testing.T, method, target, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
