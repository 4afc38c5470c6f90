package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// The box-office reset: the back end (client credentials) and an operator
// (the box office signed in as the operator) each email a customer the
// reset link; the email says a member of staff asked, the link leads to the
// reset page and works; the audit trail names who asked. An institution
// without a point of sale gets a clear 409, never a link that leads nowhere.
func TestE2EAdminBoxOfficeReset(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u, smtp := startUsherWithMail(t, db)
		shopID, shopSecret := u.pointOfSale(u.inst, "Opera Tickets")
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		serviceID, token := u.serviceToken(u.inst, adminScopes...)
		api := u.adminOf(u.inst, token)

		docs := api.want("documents", api.call(http.MethodGet, "/documents?class=password_reset", nil), http.StatusOK)
		if list, _ := docs.body["documents"].([]any); len(list) == 0 || list[0].(map[string]any)["default"] != true {
			t.Errorf("documents: %s", docs.raw)
		}
		api.want("box-office reset", api.call(http.MethodPost, "/accounts/"+ann.ID+"/password-reset", map[string]any{}),
			http.StatusAccepted)
		text := textBody(t, smtp.Wait(t, 1, 10*time.Second)[0])
		if !strings.Contains(text, "member of staff") {
			t.Errorf("the email does not say that a member of staff asked:\n%s", text)
		}
		link := resetLinkPattern.FindString(text)
		if link == "" {
			t.Fatalf("no reset link in the email:\n%s", text)
		}
		b := newBrowser(t)
		_, body := resetWith(t, b, link, "New-passw0rd-for-ann")
		if !strings.Contains(body, "Opera Tickets") {
			t.Errorf("the way on does not lead to the point of sale:\n%s", body)
		}
		shop := newRP(t, u.issuer, shopID, shopSecret)
		if claims := silentCode(t, u, shop, b, "the shop after the reset", nil); claims["sub"] != ann.ID {
			t.Errorf("signed in as %v, want %s", claims["sub"], ann.ID)
		}

		// An operator asks, naming the point of sale and the default
		// document.
		op, opToken := u.operatorToken(u.inst, "op@example.org")
		byOperator := u.adminOf(u.inst, opToken)
		byOperator.want("reset by an operator", byOperator.call(http.MethodPost, "/accounts/"+ann.ID+"/password-reset",
			map[string]any{"point_of_sale": shopID, "document": ""}), http.StatusAccepted)
		smtp.Wait(t, 3, 10*time.Second) // the reset, its confirmation, this one
		events := api.eventsOf(ann.ID)
		for _, want := range []string{"client:" + serviceID + " password_reset_requested",
			"operator:" + op.ID + " password_reset_requested"} {
			if !hasEvent(events, want) {
				t.Errorf("no event %q in %v", want, events)
			}
		}

		wantProblem(t, "unknown point of sale", api.call(http.MethodPost, "/accounts/"+ann.ID+"/password-reset",
			map[string]any{"point_of_sale": "nope"}), http.StatusBadRequest, "invalid-input", "point_of_sale:account.point_of_sale_unknown")
		wantProblem(t, "unknown document", api.call(http.MethodPost, "/accounts/"+ann.ID+"/password-reset",
			map[string]any{"document": "no-such-document"}), http.StatusBadRequest, "invalid-input", "document:account.document_unknown")

		// Another institution, without any point of sale.
		ballet := u.institution("ballet")
		bob := u.account(ballet, storage.Customer, "bob@example.org")
		_, balletToken := u.serviceToken(ballet, adminScopes...)
		wantProblem(t, "no point of sale", u.adminOf(ballet, balletToken).call(http.MethodPost,
			"/accounts/"+bob.ID+"/password-reset", nil), http.StatusConflict, "no-point-of-sale")
	})
}
