package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// changesIn leaves out of an account's events (as eventsOf lists them) the
// records of reads through the admin API.
func changesIn(events []string) []string {
	var out []string
	for _, e := range events {
		if !strings.HasSuffix(e, " account_viewed") && !strings.HasSuffix(e, " account_events_viewed") {
			out = append(out, e)
		}
	}
	return out
}

// Every call of the admin API is an audit event (DESIGN), reads included:
// reading an account or its events names the account; a search, the
// settings and the documents name what selected them; a PATCH that changes
// nothing is a read. Each names the address of the call. A refused read
// records nothing.
func TestE2EAdminReadsAreAudited(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		op, token := u.operatorToken(u.inst, "op@example.org")
		clientID, clientToken := u.serviceToken(u.inst, adminScopes...)
		api, backEnd := u.adminOf(u.inst, token), u.adminOf(u.inst, clientToken)
		operator, client := "operator:"+op.ID, "client:"+clientID

		api.want("get", api.call(http.MethodGet, "/accounts/"+ann.ID, nil), http.StatusOK)
		backEnd.want("search", backEnd.call(http.MethodGet, "/accounts?email=ann%40example.org&kind=customer", nil),
			http.StatusOK)
		backEnd.want("settings", backEnd.call(http.MethodGet, "/settings", nil), http.StatusOK)
		api.want("documents", api.call(http.MethodGet, "/documents?class=password_reset", nil), http.StatusOK)
		api.want("unknown account", api.call(http.MethodGet, "/accounts/no-such-account", nil), http.StatusNotFound)
		api.want("bad limit", api.call(http.MethodGet, "/accounts?limit=0", nil), http.StatusBadRequest)
		backEnd.want("empty account patch", backEnd.call(http.MethodPatch, "/accounts/"+ann.ID, map[string]any{}), http.StatusOK)
		api.want("empty settings patch", api.call(http.MethodPatch, "/settings", map[string]any{}), http.StatusOK)

		first := api.eventsOf(ann.ID) // recorded after it is read: the next read shows it
		if !hasEvent(first, operator+" account_viewed") || !hasEvent(first, client+" account_viewed") ||
			hasEvent(first, operator+" account_events_viewed") {
			t.Errorf("events of ann, first read: %v", first)
		}
		if again := api.eventsOf(ann.ID); !hasEvent(again, operator+" account_events_viewed") {
			t.Errorf("events of ann, second read: %v", again)
		}

		ctx := context.Background()
		all, err := u.a.store.In(u.inst.ID).ListAudit(ctx, storage.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]storage.AuditEvent{}
		for _, e := range all {
			got[e.Actor+" "+e.Action] = e
		}
		search, ok := got[client+" accounts_searched"]
		if !ok || search.AccountID != "" || search.Details["email"] != "ann@example.org" ||
			search.Details["kind"] != "customer" || search.Details["results"] != "1" {
			t.Errorf("the search's event: %+v (present %v)", search, ok)
		}
		if e, ok := got[operator+" settings_viewed"]; !ok || e.AccountID != "" {
			t.Errorf("the empty settings patch's event: %+v (present %v)", e, ok)
		}
		if e, ok := got[client+" settings_viewed"]; !ok || e.AccountID != "" {
			t.Errorf("the settings' event: %+v (present %v)", e, ok)
		}
		if e, ok := got[operator+" documents_listed"]; !ok || e.Details["class"] != "password_reset" {
			t.Errorf("the documents' event: %+v (present %v)", e, ok)
		}
		reads := 0
		for _, e := range all {
			if strings.HasSuffix(e.Action, "_viewed") || e.Action == "accounts_searched" || e.Action == "documents_listed" {
				reads++
				if e.Address != "127.0.0.1" {
					t.Errorf("%s %s from %q, want 127.0.0.1", e.Actor, e.Action, e.Address)
				}
			}
		}
		// get, search, settings, documents, the two empty patches, events
		// twice; nothing for the refused two
		if reads != 8 {
			t.Errorf("%d read events, want 8: %v", reads, got)
		}
	})
}

// A read through the admin API whose audit event cannot be stored is not
// served (DESIGN: every call is an audit event): the caller gets an error
// and none of the data; once events can be stored again, the same reads
// answer.
func TestE2EAdminReadRefusedWhenAuditFails(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		_, token := u.operatorToken(u.inst, "op@example.org")
		api := u.adminOf(u.inst, token)
		reads := []struct{ what, path string }{
			{"account", "/accounts/" + ann.ID},
			{"events", "/accounts/" + ann.ID + "/events"},
			{"search", "/accounts?email=ann%40example.org"},
			{"settings", "/settings"},
			{"documents", "/documents?class=password_reset"},
		}
		allow := refuseRows(t, db, "audit_events", "action", "account_viewed", "account_events_viewed",
			"accounts_searched", "settings_viewed", "documents_listed")
		for _, r := range reads {
			got := api.call(http.MethodGet, r.path, nil)
			if got.status != http.StatusInternalServerError || strings.Contains(got.raw, "ann@example.org") ||
				strings.Contains(got.raw, ann.ID) {
				t.Errorf("%s while events cannot be stored: %d %s, want 500 without the data", r.what, got.status, got.raw)
			}
		}
		allow()
		for _, r := range reads {
			api.want(r.what+" once events can be stored", api.call(http.MethodGet, r.path, nil), http.StatusOK)
		}
	})
}
