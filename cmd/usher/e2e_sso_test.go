package main

import (
	"testing"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Single sign-on within an institution: once signed in at the shop, another
// customer client gets a code without the sign-in page, for the same person
// and the same sign-in (sub, auth_time, sid); a box-office client, which
// accepts operators, does not reuse the customer's session.
func TestE2ESingleSignOn(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		shopID, shopSecret := u.shop()
		otherID, otherSecret := u.client(u.inst, provider.ClientSpec{Name: "Second shop",
			RedirectURIs: []string{testRedirectURI}, FirstParty: true})
		boxID, boxSecret := u.client(u.inst, provider.ClientSpec{Name: "Box office",
			RedirectURIs: []string{testRedirectURI}, FirstParty: true, AccountKind: storage.Operator})
		ann := u.account(u.inst, storage.Customer, "ann@example.org")
		op := u.account(u.inst, storage.Operator, "ann@example.org") // same email, the other kind
		b := newBrowser(t)

		shop := newRP(t, u.issuer, shopID, shopSecret)
		_, id1 := shop.signIn(b, "ann@example.org")
		if !b.visitedPage("/login") {
			t.Fatal("the first sign-in did not go through the sign-in page")
		}

		other := newRP(t, u.issuer, otherID, otherSecret)
		_, id2 := other.signIn(b, "") // fails if the sign-in page shows
		if b.visitedPage("/login") {
			t.Errorf("the second client showed the sign-in page: %v", b.pages)
		}
		c1, c2 := claimsOf(t, id1), claimsOf(t, id2)
		mustEqualf(t, "second client sub", id2.Subject, ann.ID)
		mustEqualf(t, "second client auth_time", c2["auth_time"], c1["auth_time"])
		mustEqualf(t, "second client sid", c2["sid"], c1["sid"])
		mustEqualf(t, "second client aud", id2.Audience, []string{otherID})

		// The box office accepts operators: the customer's session does not
		// sign anyone in there.
		box := newRP(t, u.issuer, boxID, boxSecret)
		f := newFlow()
		resp, body := b.open(box.authURL(f))
		if !onSignInPage(resp) {
			t.Fatalf("box office with a customer session: %d at %s, want the sign-in page\n%.500s", resp.StatusCode, resp.Request.URL, body)
		}
		_, id3 := box.signIn(b, "ann@example.org")
		mustEqualf(t, "box office sub", id3.Subject, op.ID)
		if id3.Subject == ann.ID {
			t.Error("the box office signed the customer in")
		}
	})
}
