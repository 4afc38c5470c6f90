package storagetest

import (
	"fmt"
	"slices"
	"time"

	"github.com/usher-idp/usher/storage"
)

func consentTests() []test {
	return []test{
		{"GrantMergesScopes", testConsentGrant},
		{"PerAccountAndClient", testConsentPerClient},
		{"Revoke", testConsentRevoke},
		{"MissingAccount", testConsentMissingAccount},
		{"Isolation", testConsentIsolation},
		{"ConcurrentGrantsMerge", testConsentRace},
	}
}

// consentAccount creates an account to consent with.
func (e *env) consentAccount(s storage.Scoped, email string) *storage.Account {
	e.t.Helper()
	a := &storage.Account{Kind: storage.Customer, Email: email, Status: storage.Active}
	must(e.t, "create account", s.CreateAccount(e.ctx, a))
	return a
}

func (e *env) consentScopes(s storage.Scoped, accountID, clientID string, want ...string) {
	e.t.Helper()
	c, err := s.GetConsent(e.ctx, accountID, clientID)
	must(e.t, "get consent", err)
	got := []string(slices.Clone(c.Scopes))
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	mustEqual(e.t, "consented scopes", got, want)
}

func testConsentGrant(e *env) {
	s, _ := e.scope("opera")
	a := e.consentAccount(s, "ann@x.org")
	_, err := s.GetConsent(e.ctx, a.ID, "shop")
	mustErr(e.t, "consent never given", err, storage.ErrNotFound)
	first := e.now()
	must(e.t, "grant", s.GrantConsent(e.ctx, a.ID, "shop", []string{"openid", "email"}))
	c, err := s.GetConsent(e.ctx, a.ID, "shop")
	must(e.t, "get consent", err)
	mustEqual(e.t, "consent", *c, storage.Consent{AccountID: a.ID, ClientID: "shop",
		Scopes: storage.List{"openid", "email"}, GrantedAt: first})
	e.clock.Advance(time.Minute)
	must(e.t, "grant more", s.GrantConsent(e.ctx, a.ID, "shop", []string{"email", "profile"}))
	e.consentScopes(s, a.ID, "shop", "openid", "email", "profile")
	c, _ = s.GetConsent(e.ctx, a.ID, "shop")
	mustTime(e.t, "granted at, after the second grant", c.GrantedAt, e.now())
}

func testConsentPerClient(e *env) {
	s, _ := e.scope("opera")
	ann, bob := e.consentAccount(s, "ann@x.org"), e.consentAccount(s, "bob@x.org")
	must(e.t, "grant", s.GrantConsent(e.ctx, ann.ID, "shop", []string{"openid"}))
	_, err := s.GetConsent(e.ctx, ann.ID, "other-shop")
	mustErr(e.t, "another client", err, storage.ErrNotFound)
	_, err = s.GetConsent(e.ctx, bob.ID, "shop")
	mustErr(e.t, "another account", err, storage.ErrNotFound)
}

func testConsentRevoke(e *env) {
	s, _ := e.scope("opera")
	a := e.consentAccount(s, "ann@x.org")
	must(e.t, "grant", s.GrantConsent(e.ctx, a.ID, "shop", []string{"openid"}))
	must(e.t, "grant other", s.GrantConsent(e.ctx, a.ID, "other", []string{"openid"}))
	must(e.t, "revoke", s.RevokeConsent(e.ctx, a.ID, "shop"))
	_, err := s.GetConsent(e.ctx, a.ID, "shop")
	mustErr(e.t, "revoked consent", err, storage.ErrNotFound)
	e.consentScopes(s, a.ID, "other", "openid")
	must(e.t, "revoke nothing", s.RevokeConsent(e.ctx, a.ID, "shop"))
}

func testConsentMissingAccount(e *env) {
	s, _ := e.scope("opera")
	err := s.GrantConsent(e.ctx, "no-such-account", "shop", []string{"openid"})
	mustErr(e.t, "grant for a missing account", err, storage.ErrNotFound)
}

func testConsentIsolation(e *env) {
	a, _ := e.scope("a")
	b, _ := e.scope("b")
	ann := e.consentAccount(a, "ann@x.org")
	must(e.t, "grant in A", a.GrantConsent(e.ctx, ann.ID, "shop", []string{"openid"}))
	_, err := b.GetConsent(e.ctx, ann.ID, "shop")
	mustErr(e.t, "A's consent through B", err, storage.ErrNotFound)
	mustErr(e.t, "grant through B for A's account", b.GrantConsent(e.ctx, ann.ID, "shop", []string{"email"}), storage.ErrNotFound)
	must(e.t, "revoke through B", b.RevokeConsent(e.ctx, ann.ID, "shop"))
	e.consentScopes(a, ann.ID, "shop", "openid")
}

// testConsentRace: grants of different scopes at once all land.
func testConsentRace(e *env) {
	s, _ := e.scope("opera")
	a := e.consentAccount(s, "ann@x.org")
	const n = 6
	errs := raceErr(e, n, func(i int) error {
		return s.GrantConsent(e.ctx, a.ID, "shop", []string{fmt.Sprint("scope", i)})
	})
	for i, err := range errs {
		must(e.t, fmt.Sprint("grant ", i), err)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprint("scope", i))
	}
	e.consentScopes(s, a.ID, "shop", want...)
}
