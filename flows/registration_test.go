package flows_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// register posts the registration form.
func (b *browser) register(email, rt string) response {
	b.t.Helper()
	return b.post("/institutions/opera/register", url.Values{"email": {email}, "given_name": {"Ann"},
		"family_name": {"Smith"}, "locale": {"fr"}, "password": {newPassword}, "password_confirm": {newPassword},
		"return_to": {rt}})
}

// activationLinks are the links of the activation (or invitation) emails
// sent to an address, oldest first, as paths of the test server.
func (e *webEnv) activationLinks(t *testing.T, to string) []string {
	t.Helper()
	var links []string
	for _, class := range []templates.EmailClass{templates.ClassAccountActivation, templates.ClassAccountInvitation,
		templates.ClassPasswordReset} {
		for _, d := range e.mailer.of(class, to) {
			var link string
			switch d := d.(type) {
			case templates.AccountActivationEmail:
				link = d.Link
			case templates.AccountInvitationEmail:
				link = d.Link
			case templates.PasswordResetEmail:
				link = d.Link
			}
			if u, err := url.Parse(link); err == nil && u.Path == "/institutions/opera/activate" {
				links = append(links, u.RequestURI())
			}
		}
	}
	return links
}

// activateWith posts the form of an activation or invitation link.
func (b *browser) activateWith(link string, pw string) response {
	b.t.Helper()
	u, _ := url.Parse(link)
	return b.post(u.Path, url.Values{"token": {u.Query().Get("token")}, "password": {pw}, "password_confirm": {pw}})
}

// A customer registers (every problem of the form shown at once), gets an
// activation email, activates from the link in the same browser, is
// signed in, told by email, and taken back to the request that led to the
// registration, with the address proven.
func TestRegistrationThenActivation(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		rt := returnTo("opera", "pos")
		b := e.browser(t)
		if got := b.get("/institutions/opera/login?return_to=" + url.QueryEscape(rt)); !strings.Contains(got.body, "/institutions/opera/register?return_to=") {
			t.Error("the sign-in page does not offer registration")
		}
		got := b.get("/institutions/opera/register?return_to=" + url.QueryEscape(rt))
		if got.status != http.StatusOK || !strings.Contains(got.body, `<option value="fr" lang="fr">Français</option>`) {
			t.Fatalf("the form: %d\n%s", got.status, got.body)
		}
		got = b.post("/institutions/opera/register", url.Values{"email": {"not an address"}, "password": {"short"},
			"password_confirm": {"other"}})
		for _, id := range []string{"account.email_invalid", "register.name_required", "password_change.mismatch"} {
			if got.status != http.StatusBadRequest || !strings.Contains(got.body, e.message("en", id, map[string]string{"min_length": "10"})) {
				t.Errorf("a bad form: %d, no %s", got.status, id)
			}
		}
		got = b.register("pat@example.org", rt)
		if got.status != http.StatusOK || !strings.Contains(got.body, e.message("en", "register.sent", map[string]string{"email": "pat@example.org"})) {
			t.Fatalf("after registering: %d\n%s", got.status, got.body)
		}
		pat, err := e.store.In(e.opera.ID).GetAccountByEmail(e.ctx, storage.Customer, "pat@example.org")
		if err != nil || pat.Status != storage.Pending || pat.EmailVerified || pat.Locale != "fr" || pat.GivenName != "Ann" {
			t.Fatalf("the new account: %+v, %v", pat, err)
		}
		links := e.activationLinks(t, "pat@example.org")
		if len(links) != 1 {
			t.Fatalf("%d activation emails", len(links))
		}
		if got := b.get(links[0]); got.status != http.StatusOK || !strings.Contains(got.body, `name="token"`) {
			t.Fatalf("the link's page: %d", got.status)
		}
		got = b.activateWith(links[0], "")
		if got.status != http.StatusOK || !strings.Contains(got.body, e.message("fr", "activate.done", nil)) ||
			!strings.Contains(got.body, `href="`+htmlAttr(rt)+`"`) {
			t.Fatalf("after activating: %d\n%s", got.status, got.body)
		}
		pat, _ = e.store.In(e.opera.ID).GetAccount(e.ctx, pat.ID)
		if pat.Status != storage.Active || !pat.EmailVerified {
			t.Errorf("after activating: %s, verified %v", pat.Status, pat.EmailVerified)
		}
		if who := e.authenticated(t, e.opera, b.cookie("opera")); who == nil || who.AccountID != pat.ID {
			t.Errorf("not signed in after activating: %+v", who)
		}
		if len(e.mailer.of(templates.ClassAccountActivated, "pat@example.org")) != 1 {
			t.Error("no account_activated email")
		}
		if got := b.activateWith(links[0], ""); got.status != http.StatusGone {
			t.Errorf("the link again: %d", got.status)
		}
	})
}

// Registering an email that has an account makes no second account: its
// owner is told by email, and the page is the same.
func TestRegistrationExistingEmail(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		e.customer(t, e.opera, "ann@example.org")
		known := e.browser(t).register("ann@example.org", "")
		unknown := e.browser(t).register("bob@example.org", "")
		if known.status != unknown.status || strings.ReplaceAll(known.body, "ann@", "bob@") != unknown.body {
			t.Errorf("the answers differ: %d / %d", known.status, unknown.status)
		}
		accounts, err := e.store.In(e.opera.ID).ListAccounts(e.ctx, storage.AccountFilter{})
		if err != nil || len(accounts) != 2 {
			t.Errorf("%d accounts, want ann and bob: %v", len(accounts), err)
		}
		if len(e.mailer.of(templates.ClassRegistrationExisting, "ann@example.org")) != 1 ||
			len(e.activationLinks(t, "ann@example.org")) != 0 {
			t.Error("ann was not told, or got an activation link")
		}
	})
}

// The activation link: two uses at once give one activation; a changed
// character, an expired link and an older one after a newer do not work.
// Signing in before activating offers to send the email again, once every
// five minutes and five times a day.
func TestActivationLinkAndResend(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		e.browser(t).register("pat@example.org", "")
		first := e.activationLinks(t, "pat@example.org")[0]

		b := e.browser(t)
		if got := b.signIn("opera", "pat@example.org", "wrong password", ""); got.status != http.StatusBadRequest {
			t.Errorf("a wrong password before activation: %d", got.status)
		}
		got := b.signIn("opera", "pat@example.org", newPassword, "") // pat chose French
		if got.location != "/institutions/opera/activate/resend" {
			t.Fatalf("the right password before activation: %d to %q", got.status, got.location)
		}
		if got = b.post(got.location, url.Values{}); got.status != http.StatusOK || !strings.Contains(got.body, e.message("fr", "pending.sent", nil)) {
			t.Errorf("sending again: %d", got.status)
		}
		if got = b.post("/institutions/opera/activate/resend", url.Values{}); got.status != http.StatusTooManyRequests {
			t.Errorf("sending again at once: %d", got.status)
		}
		for range 4 {
			e.clock.Advance(5*time.Minute + time.Second)
			b.signIn("opera", "pat@example.org", newPassword, "")
			b.post("/institutions/opera/activate/resend", url.Values{})
		}
		e.clock.Advance(5*time.Minute + time.Second)
		b.signIn("opera", "pat@example.org", newPassword, "")
		if got = b.post("/institutions/opera/activate/resend", url.Values{}); got.status != http.StatusTooManyRequests ||
			!strings.Contains(got.body, e.message("fr", "pending.limit", nil)) {
			t.Errorf("the sixth time in a day: %d", got.status)
		}
		links := e.activationLinks(t, "pat@example.org")
		if len(links) != 6 {
			t.Fatalf("%d activation emails, want 6", len(links))
		}
		if got := b.get(first); got.status != http.StatusGone {
			t.Errorf("the first link after newer ones: %d", got.status)
		}
		newest := links[len(links)-1]
		altered := []byte(newest)
		altered[len(altered)-3] ^= 1
		if got := b.get(string(altered)); got.status != http.StatusNotFound {
			t.Errorf("an altered link: %d", got.status)
		}
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u, _ := url.Parse(newest)
				got, err := e.browser(t).try(http.MethodPost, u.Path, url.Values{"token": {u.Query().Get("token")}}, nil)
				if err != nil {
					t.Error(err)
				}
				statuses[i] = got.status
			}()
		}
		wg.Wait()
		if statuses[0]+statuses[1] != http.StatusOK+http.StatusGone {
			t.Errorf("two activations at once: %v, want one 200 and one 410", statuses)
		}

		e.browser(t).register("quinn@example.org", "")
		link := e.activationLinks(t, "quinn@example.org")[0]
		e.clock.Advance(e.opera.Settings.ActivationLinkTTL.Std() + time.Second)
		if got := e.browser(t).get(link); got.status != http.StatusGone ||
			!strings.Contains(got.body, e.message("en", "activate.link_expired", nil)) {
			t.Errorf("an expired link: %d", got.status)
		}
	})
}

// Where registration is off: no link, and a page that says so.
func TestRegistrationOff(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Registration = false })
		b := e.browser(t)
		if got := b.get("/institutions/opera/login"); strings.Contains(got.body, "/register") {
			t.Error("the sign-in page offers registration")
		}
		if got := b.get("/institutions/opera/register"); got.status != http.StatusNotFound {
			t.Errorf("the form: %d", got.status)
		}
		if got := b.register("pat@example.org", ""); got.status != http.StatusNotFound {
			t.Errorf("posting the form: %d", got.status)
		}
	})
}

// An operator's invitation: the link asks for the first password (the
// policy enforced), then activates, proves the address and signs in. The
// institution may send its password_reset document instead; an account
// with a password is not invited; an operator is invited the same way.
func TestInvitation(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		e.accounts.Mailer = e.mailer
		pat, err := e.accounts.Create(e.ctx, e.opera, flows.NewAccount{Kind: storage.Customer, Email: "pat@example.org"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.invitations.Invite(e.ctx, e.opera, pat.ID, "", "", flows.OperatorActor("op-1")); err != nil {
			t.Fatal(err)
		}
		inv := e.mailer.of(templates.ClassAccountInvitation, "pat@example.org")
		if len(inv) != 1 || inv[0].(templates.AccountInvitationEmail).PointOfSale != "Opera Tickets" {
			t.Fatalf("invitation emails: %+v", inv)
		}
		link := e.activationLinks(t, "pat@example.org")[0]
		b := e.browser(t)
		if got := b.get(link); got.status != http.StatusOK || !strings.Contains(got.body, `name="password_confirm"`) {
			t.Fatalf("the invitation's page: %d", got.status)
		}
		if got := b.activateWith(link, "short"); got.status != http.StatusBadRequest {
			t.Errorf("a password against the policy: %d", got.status)
		}
		if got := b.activateWith(link, newPassword); got.status != http.StatusOK {
			t.Fatalf("the first password: %d\n%s", got.status, got.body)
		}
		pat, _ = e.store.In(e.opera.ID).GetAccount(e.ctx, pat.ID)
		if pat.Status != storage.Active || !pat.EmailVerified || pat.PasswordHash == "" {
			t.Errorf("after the invitation: %+v", pat)
		}
		if got := e.browser(t).signIn("opera", "pat@example.org", newPassword, ""); got.status != http.StatusSeeOther {
			t.Errorf("signing in with the first password: %d", got.status)
		}
		if err := e.invitations.Invite(e.ctx, e.opera, pat.ID, "", "", flows.ActorCLI); len(flows.Problems(err)) == 0 {
			t.Errorf("an account with a password was invited: %v", err)
		}

		e.setSettings(t, e.opera, func(s *storage.Settings) { s.InvitationEmail = "password_reset" })
		op, err := e.accounts.Create(e.ctx, e.opera, flows.NewAccount{Kind: storage.Operator, Email: "otto@example.org"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.invitations.Invite(e.ctx, e.opera, op.ID, "pos", "", flows.ActorCLI); err != nil {
			t.Fatal(err)
		}
		docs := e.mailer.of(templates.ClassPasswordReset, "otto@example.org")
		if len(docs) != 1 || !docs[0].(templates.PasswordResetEmail).ByOperator {
			t.Fatalf("the password_reset document as invitation: %+v", docs)
		}
		got := e.browser(t).activateWith(e.activationLinks(t, "otto@example.org")[0], newPassword)
		if got.status != http.StatusOK {
			t.Errorf("an operator's invitation: %d", got.status)
		}
	})
}
