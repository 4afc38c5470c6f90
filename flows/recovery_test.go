package flows_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// recordingMailer keeps the documents it queues, then queues them in the
// real outbox.
type recordingMailer struct {
	next flows.Mailer
	mu   sync.Mutex
	sent []queued
}

type queued struct {
	to  mail.Recipient
	doc templates.Email
}

func (m *recordingMailer) Queue(ctx context.Context, inst *storage.Institution, to mail.Recipient, doc templates.Email) (*storage.OutboxEmail, error) {
	return m.QueueDocument(ctx, inst, to, doc, "")
}

func (m *recordingMailer) QueueDocument(ctx context.Context, inst *storage.Institution, to mail.Recipient,
	doc templates.Email, document string) (*storage.OutboxEmail, error) {
	e, err := m.next.QueueDocument(ctx, inst, to, doc, document)
	if err == nil {
		m.mu.Lock()
		m.sent = append(m.sent, queued{to, doc})
		m.mu.Unlock()
	}
	return e, err
}

// of returns the documents of one class sent to an address.
func (m *recordingMailer) of(class templates.EmailClass, to string) []templates.Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []templates.Email
	for _, q := range m.sent {
		if q.doc.Class() == class && q.to.Email == to {
			out = append(out, q.doc)
		}
	}
	return out
}

// resetLinks are the links of the reset emails sent to an address, oldest
// first, as paths of the test server.
func (e *webEnv) resetLinks(t *testing.T, to string) []string {
	t.Helper()
	var links []string
	for _, d := range e.mailer.of(templates.ClassPasswordReset, to) {
		u, err := url.Parse(d.(templates.PasswordResetEmail).Link)
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, u.RequestURI())
	}
	return links
}

// pointOfSale registers the institution's ticket shop as a point of sale.
func (e *webEnv) pointOfSale(t *testing.T, inst *storage.Institution) {
	t.Helper()
	must(t, e.store.In(inst.ID).CreateClient(e.ctx, &storage.Client{ID: "pos", Name: "Opera Tickets",
		AccountKind: storage.Customer, RedirectURIs: storage.List{"https://shop.example/cb"},
		Scopes: storage.List{"openid", "email"}, PointOfSale: true, HomeURL: "https://shop.example/",
		InitiateLoginURI: "https://shop.example/login"}))
}

// forgot asks for a reset link for email, as the form does.
func (b *browser) forgot(slug, email, rt string) response {
	b.t.Helper()
	return b.post("/institutions/"+slug+"/password/forgot", url.Values{"email": {email}, "return_to": {rt}})
}

// resetWith posts the form of a reset link with a new password.
func (b *browser) resetWith(link, pw, confirm string) response {
	b.t.Helper()
	u, _ := url.Parse(link)
	return b.post(u.Path, url.Values{"token": {u.Query().Get("token")}, "password": {pw}, "password_confirm": {confirm}})
}

const newPassword = "Another-g00d-passphrase"

// The whole recovery: the form, the neutral answer, the emailed link, the
// form it opens (which consumes nothing), the new password, signed in, and
// the request in progress resumed; the old password no longer works, the
// new one does, and the person is told by email.
func TestRecoveryResetsThePasswordAndSignsIn(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		ann := e.customer(t, e.opera, "ann@example.org")
		rt := returnTo("opera", "pos")
		b := e.browser(t)

		got := b.get("/institutions/opera/password/forgot?return_to=" + url.QueryEscape(rt))
		if got.status != http.StatusOK || !strings.Contains(got.body, `name="return_to"`) {
			t.Fatalf("forgot form: %d\n%s", got.status, got.body)
		}
		got = b.forgot("opera", "Ann@Example.org", rt)
		if got.status != http.StatusOK || !strings.Contains(got.body, e.message("en", "forgot.sent", nil)) {
			t.Fatalf("after asking: %d\n%s", got.status, got.body)
		}
		links := e.resetLinks(t, "ann@example.org")
		if len(links) != 1 {
			t.Fatalf("%d reset emails, want 1", len(links))
		}
		doc := e.mailer.of(templates.ClassPasswordReset, "ann@example.org")[0].(templates.PasswordResetEmail)
		if doc.ValidFor != 48*time.Hour || doc.PointOfSale != "Opera Tickets" || doc.ByOperator ||
			!strings.HasPrefix(doc.Link, "http://usher.test/institutions/opera/password/reset?token=") {
			t.Errorf("the email: %+v", doc)
		}
		for range 2 { // opening the link, even twice (a mail scanner), consumes nothing
			if got = b.get(links[0]); got.status != http.StatusOK || !strings.Contains(got.body, "ann@example.org") {
				t.Fatalf("the link's form: %d\n%s", got.status, got.body)
			}
		}
		got = b.resetWith(links[0], "short", "other")
		if got.status != http.StatusBadRequest || !strings.Contains(got.body, e.message("en", "password_change.mismatch", nil)) ||
			!strings.Contains(got.body, e.message("en", "password.too_short", map[string]string{"min_length": "10"})) {
			t.Fatalf("a bad password: %d\n%s", got.status, got.body)
		}
		got = b.resetWith(links[0], newPassword, newPassword)
		if got.status != http.StatusOK || !strings.Contains(got.body, e.message("en", "password_change.done", nil)) ||
			!strings.Contains(got.body, `href="`+htmlAttr(rt)+`"`) {
			t.Fatalf("after the reset: %d\n%s", got.status, got.body)
		}
		if who := e.authenticated(t, e.opera, b.cookie("opera")); who == nil || who.AccountID != ann.ID {
			t.Errorf("not signed in after the reset: %+v", who)
		}
		if len(e.mailer.of(templates.ClassPasswordResetDone, "ann@example.org")) != 1 {
			t.Error("no password_reset_done email")
		}
		if got := e.browser(t).signIn("opera", "ann@example.org", goodPassword, ""); got.status != http.StatusBadRequest {
			t.Errorf("the old password still works: %d", got.status)
		}
		if got := e.browser(t).signIn("opera", "ann@example.org", newPassword, ""); got.status != http.StatusSeeOther {
			t.Errorf("the new password does not work: %d", got.status)
		}
		events, err := e.store.In(e.opera.ID).ListAudit(e.ctx, storage.AuditFilter{AccountID: ann.ID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, ev := range events {
			actions = append(actions, ev.Action)
		}
		for _, want := range []string{"password_reset_requested", "password_reset"} {
			if !strings.Contains(strings.Join(actions, " "), want) {
				t.Errorf("audit trail %v: no %s", actions, want)
			}
		}
	})
}

// htmlAttr is s as html/template writes it in an attribute.
func htmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "+", "&#43;").Replace(s)
}

// Whether or not an account has the email, the answer is the same page;
// only an existing account gets an email.
func TestRecoverySameAnswerForUnknownEmails(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		e.customer(t, e.opera, "ann@example.org")
		known := e.browser(t).forgot("opera", "ann@example.org", "")
		unknown := e.browser(t).forgot("opera", "nobody@example.org", "")
		if known.status != unknown.status || known.body != unknown.body {
			t.Errorf("the answers differ: %d / %d\n%s\n---\n%s", known.status, unknown.status, known.body, unknown.body)
		}
		if len(e.mailer.of(templates.ClassPasswordReset, "nobody@example.org")) != 0 ||
			len(e.mailer.of(templates.ClassPasswordReset, "ann@example.org")) != 1 {
			t.Errorf("emails: %+v", e.mailer.sent)
		}
		if got := e.browser(t).forgot("opera", "not an address", ""); got.status != http.StatusBadRequest ||
			!strings.Contains(got.body, e.message("en", "account.email_invalid", nil)) {
			t.Errorf("a malformed address: %d", got.status)
		}
	})
}

// A link is used once: again it gets a clear page offering a new one; of
// two at once, one succeeds; a changed character, an expired link and an
// older link after a newer one do not work.
func TestRecoveryLinkSingleUse(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		b.forgot("opera", "ann@example.org", "")
		link := e.resetLinks(t, "ann@example.org")[0]

		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u, _ := url.Parse(link)
				got, err := e.browser(t).try(http.MethodPost, u.Path, url.Values{"token": {u.Query().Get("token")},
					"password": {newPassword}, "password_confirm": {newPassword}}, nil)
				if err != nil {
					t.Error(err)
				}
				statuses[i] = got.status
			}()
		}
		wg.Wait()
		if !(statuses[0] == http.StatusOK && statuses[1] == http.StatusGone || statuses[0] == http.StatusGone && statuses[1] == http.StatusOK) {
			t.Errorf("two resets at once: %v, want one 200 and one 410", statuses)
		}
		for _, l := range []string{link, link + "x"} {
			if got := b.get(l); got.status != http.StatusGone && got.status != http.StatusNotFound ||
				!strings.Contains(got.body, "/institutions/opera/password/forgot") {
				t.Errorf("%s after use: %d\n%s", l, got.status, got.body)
			}
		}
		e.clock.Advance(time.Hour + time.Second) // past the hourly limit's window
		b.forgot("opera", "ann@example.org", "")
		b.forgot("opera", "ann@example.org", "")
		links := e.resetLinks(t, "ann@example.org")
		older, newer := links[1], links[2]
		if got := b.get(older); got.status != http.StatusGone || !strings.Contains(got.body, e.message("en", "reset.link_used", nil)) {
			t.Errorf("an older link after a newer one: %d", got.status)
		}
		altered := []byte(newer)
		i := len(altered) - 5
		altered[i] ^= 1 // still a letter of the alphabet: one character changed
		if got := b.get(string(altered)); got.status != http.StatusNotFound || !strings.Contains(got.body, e.message("en", "reset.link_unknown", nil)) {
			t.Errorf("an altered link: %d", got.status)
		}
		e.clock.Advance(48*time.Hour - time.Minute)
		if got := b.get(newer); got.status != http.StatusOK {
			t.Errorf("the link a minute before it expires: %d", got.status)
		}
		e.clock.Advance(2 * time.Minute)
		if got := b.resetWith(newer, newPassword, newPassword); got.status != http.StatusGone ||
			!strings.Contains(got.body, e.message("en", "reset.link_expired", nil)) {
			t.Errorf("an expired link: %d", got.status)
		}
	})
}

// At most three emails an hour per address; beyond, the same answer and no
// email.
func TestRecoveryHourlyLimit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		first := b.forgot("opera", "ann@example.org", "")
		for range 4 {
			if got := b.forgot("opera", "ann@example.org", ""); got.status != first.status || got.body != first.body {
				t.Errorf("beyond the limit the answer differs: %d", got.status)
			}
		}
		if n := len(e.resetLinks(t, "ann@example.org")); n != 3 {
			t.Errorf("%d emails in an hour, want 3", n)
		}
		e.clock.Advance(time.Hour + time.Second)
		b.forgot("opera", "ann@example.org", "")
		if n := len(e.resetLinks(t, "ann@example.org")); n != 4 {
			t.Errorf("%d emails after the hour, want 4", n)
		}
	})
}

// Without a point of sale there is no recovery: a clear page, and no link
// to it on the sign-in page.
func TestRecoveryNeedsAPointOfSale(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		if got := b.get("/institutions/opera/login"); strings.Contains(got.body, "/password/forgot") {
			t.Error("the sign-in page offers recovery without a point of sale")
		}
		for _, got := range []response{b.get("/institutions/opera/password/forgot"), b.forgot("opera", "ann@example.org", "")} {
			want := e.message("en", "forgot.unavailable", map[string]string{"institution": "Institution opera"})
			if got.status != http.StatusNotFound || !strings.Contains(got.body, want) {
				t.Errorf("without a point of sale: %d\n%s", got.status, got.body)
			}
		}
		if len(e.mailer.sent) != 0 {
			t.Errorf("emails: %+v", e.mailer.sent)
		}
		e.pointOfSale(t, e.opera)
		if got := b.get("/institutions/opera/login"); !strings.Contains(got.body, "/institutions/opera/password/forgot") {
			t.Error("the sign-in page does not offer recovery")
		}
	})
}

// A reset ends the account's sessions elsewhere and lifts a lock; a link
// opened in another browser goes on to the point of sale, which signs the
// person in (third-party initiated login); a pending account is activated
// and its address proven; a disabled one gets no email.
func TestRecoveryEndsSessionsLiftsLockAndActivates(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		ann := e.customer(t, e.opera, "ann@example.org")
		elsewhere := e.browser(t)
		elsewhere.signIn("opera", "ann@example.org", goodPassword, "")
		for range e.opera.Settings.Lockout.LockAfter {
			e.browser(t).signIn("opera", "ann@example.org", "wrong password", "")
			e.clock.Advance(time.Minute)
		}
		if got := e.browser(t).signIn("opera", "ann@example.org", goodPassword, ""); got.status != http.StatusTooManyRequests {
			t.Fatalf("not locked: %d", got.status)
		}
		e.browser(t).forgot("opera", "ann@example.org", "")
		other := e.browser(t)
		got := other.resetWith(e.resetLinks(t, "ann@example.org")[0], newPassword, newPassword)
		wantNext := "https://shop.example/login?iss=" + url.QueryEscape("http://usher.test/institutions/opera") + "&amp;login_hint=ann%40example.org"
		if got.status != http.StatusOK || !strings.Contains(got.body, wantNext) {
			t.Errorf("in another browser: %d, want the point of sale's initiate_login_uri\n%s", got.status, got.body)
		}
		if e.authenticated(t, e.opera, elsewhere.cookie("opera")) != nil {
			t.Error("a session from before the reset still signs in")
		}
		if got := e.browser(t).signIn("opera", "ann@example.org", newPassword, ""); got.status != http.StatusSeeOther {
			t.Errorf("the lock outlived the reset: %d", got.status)
		}

		pending, err := e.accounts.Create(e.ctx, e.opera, flows.NewAccount{Kind: storage.Customer, Email: "pat@example.org"}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		e.browser(t).forgot("opera", "pat@example.org", "")
		e.browser(t).resetWith(e.resetLinks(t, "pat@example.org")[0], newPassword, newPassword)
		if a, _ := e.store.In(e.opera.ID).GetAccount(e.ctx, pending.ID); a.Status != storage.Active || !a.EmailVerified {
			t.Errorf("a pending account after a reset: %s, verified %v", a.Status, a.EmailVerified)
		}

		ann, _ = e.store.In(e.opera.ID).GetAccount(e.ctx, ann.ID)
		ann.Status = storage.Disabled
		must(t, e.store.In(e.opera.ID).UpdateAccount(e.ctx, ann))
		e.clock.Advance(time.Hour + time.Second)
		e.browser(t).forgot("opera", "ann@example.org", "")
		if n := len(e.resetLinks(t, "ann@example.org")); n != 1 {
			t.Errorf("a disabled account got a reset email (%d in all)", n)
		}
	})
}
