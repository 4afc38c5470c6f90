package flows_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// operator creates an active operator who must use two-factor.
func (e *webEnv) operator(t *testing.T, inst *storage.Institution, email string) *storage.Account {
	t.Helper()
	a, err := e.accounts.Create(e.ctx, inst, flows.NewAccount{Kind: storage.Operator, Email: email, Password: goodPassword}, flows.ActorCLI)
	if err != nil {
		t.Fatal(err)
	}
	a.TwoFactorRequired = true
	must(t, e.store.In(inst.ID).UpdateAccount(e.ctx, a))
	return a
}

var (
	keyPattern  = regexp.MustCompile(`<code class="key">([A-Z2-7 ]+)</code>`)
	codePattern = regexp.MustCompile(`<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>`)
)

// code is the TOTP code of secret at the test clock's time plus offset.
func (e *webEnv) code(t *testing.T, secret string, offset time.Duration) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, e.clock.Now().Add(offset), totp.ValidateOpts{Period: 30,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol signs an operator in with the box office and enrols, returning
// the secret and the recovery codes.
func (e *webEnv) enrol(t *testing.T, b *browser, email string) (string, []string) {
	t.Helper()
	got := b.signIn("opera", email, goodPassword, returnTo("opera", boxOfficeID))
	if got.status != http.StatusSeeOther || got.location != "/institutions/opera/2fa/setup" {
		t.Fatalf("after the password: %d to %q, want the enrolment", got.status, got.location)
	}
	got = b.get(got.location)
	m := keyPattern.FindStringSubmatch(got.body)
	if got.status != http.StatusOK || m == nil || !strings.Contains(got.body, `<svg class="qr" role="img"`) {
		t.Fatalf("the enrolment page: %d\n%s", got.status, got.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	if again := keyPattern.FindStringSubmatch(b.get("/institutions/opera/2fa/setup").body); again == nil || again[1] != m[1] {
		t.Error("opening the enrolment again shows another secret")
	}
	got = b.post("/institutions/opera/2fa/setup", url.Values{"code": {"000000"}})
	if got.status != http.StatusBadRequest {
		t.Errorf("a wrong first code: %d", got.status)
	}
	got = b.post("/institutions/opera/2fa/setup", url.Values{"code": {e.code(t, secret, 0)}})
	var codes []string
	for _, c := range codePattern.FindAllStringSubmatch(got.body, -1) {
		codes = append(codes, c[1])
	}
	if got.status != http.StatusOK || len(codes) != 10 || !strings.Contains(got.body, htmlAttr(returnTo("opera", boxOfficeID))) {
		t.Fatalf("after the first code: %d, %d recovery codes\n%s", got.status, len(codes), got.body)
	}
	return secret, codes
}

// An operator who must use two-factor enrols at the first sign-in (QR
// code, key, a first code), sees ten recovery codes once, is signed in with
// both factors and told by email; then signs in with a code, and neither a
// wrong code, a code two steps away nor the same code twice gets in.
func TestTwoFactorEnrolmentThenCodes(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		op := e.operator(t, e.opera, "otto@example.org")
		b := e.browser(t)
		secret, _ := e.enrol(t, b, "otto@example.org")
		who := e.authenticated(t, e.opera, b.cookie("opera"))
		if who == nil || who.AccountID != op.ID || !slices.Equal(who.Methods, []string{"pwd", "otp"}) {
			t.Fatalf("after enrolling: %+v", who)
		}
		if len(e.mailer.of(templates.ClassTwoFactorEnabled, "otto@example.org")) != 1 {
			t.Error("no two_factor_enabled email")
		}

		e.clock.Advance(time.Minute) // a fresh time step
		b2 := e.browser(t)
		got := b2.signIn("opera", "otto@example.org", goodPassword, returnTo("opera", boxOfficeID))
		if got.location != "/institutions/opera/login/2fa" {
			t.Fatalf("after the password of an enrolled operator: %d to %q", got.status, got.location)
		}
		if e.authenticated(t, e.opera, b2.cookie("opera")) != nil {
			t.Fatal("signed in before the second factor")
		}
		for _, bad := range []string{"12345", "abcdef", e.code(t, secret, -time.Minute), e.code(t, secret, time.Minute)} {
			if got := b2.post("/institutions/opera/login/2fa", url.Values{"code": {bad}}); got.status != http.StatusBadRequest {
				t.Errorf("code %q: %d", bad, got.status)
			}
		}
		code := e.code(t, secret, 30*time.Second) // the next step: clocks drift
		got = b2.post("/institutions/opera/login/2fa", url.Values{"code": {code}})
		if got.status != http.StatusSeeOther || got.location != returnTo("opera", boxOfficeID) {
			t.Fatalf("the right code: %d to %q", got.status, got.location)
		}
		if who := e.authenticated(t, e.opera, b2.cookie("opera")); who == nil || !slices.Equal(who.Methods, []string{"pwd", "otp"}) {
			t.Errorf("after the code: %+v", who)
		}
		b3 := e.browser(t)
		b3.signIn("opera", "otto@example.org", goodPassword, returnTo("opera", boxOfficeID))
		if got := b3.post("/institutions/opera/login/2fa", url.Values{"code": {code}}); got.status != http.StatusBadRequest {
			t.Errorf("the same code again: %d", got.status)
		}
	})
}

// Two submissions of one code at once: one gets in.
func TestTwoFactorCodeOnceUnderConcurrency(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.operator(t, e.opera, "otto@example.org")
		secret, _ := e.enrol(t, e.browser(t), "otto@example.org")
		e.clock.Advance(time.Minute)
		browsers := []*browser{e.browser(t), e.browser(t)}
		for _, b := range browsers {
			b.signIn("opera", "otto@example.org", goodPassword, returnTo("opera", boxOfficeID))
		}
		code := e.code(t, secret, 0)
		statuses := make([]int, len(browsers))
		var wg sync.WaitGroup
		for i, b := range browsers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := b.try(http.MethodPost, "/institutions/opera/login/2fa", url.Values{"code": {code}}, nil)
				if err != nil {
					t.Error(err)
				}
				statuses[i] = got.status
				if got.status == http.StatusSeeOther && got.location != returnTo("opera", boxOfficeID) {
					t.Errorf("redirected to %q", got.location)
				}
			}()
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != http.StatusSeeOther || statuses[1] != http.StatusBadRequest {
			t.Errorf("one code twice at once: %v, want one 303 and one 400", statuses)
		}
	})
}

// Five wrong codes end the sign-in: the password step starts again. A
// recovery code works once; the operator not required to use two-factor
// signs in with the password only.
func TestTwoFactorLimitsAndRecoveryCodes(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.operator(t, e.opera, "otto@example.org")
		_, codes := e.enrol(t, e.browser(t), "otto@example.org")

		b := e.browser(t)
		b.signIn("opera", "otto@example.org", goodPassword, returnTo("opera", boxOfficeID))
		for i := range 5 {
			if got := b.post("/institutions/opera/login/2fa", url.Values{"code": {"000000"}}); got.status != http.StatusBadRequest {
				t.Fatalf("wrong code %d: %d", i+1, got.status)
			}
		}
		got := b.post("/institutions/opera/login/2fa", url.Values{"code": {"000000"}})
		if got.status != http.StatusTooManyRequests || !strings.Contains(got.body, e.message("en", "two_factor.too_many", nil)) {
			t.Errorf("the sixth attempt: %d", got.status)
		}
		if got := b.get("/institutions/opera/login/2fa"); got.status != http.StatusSeeOther || !strings.HasPrefix(got.location, "/institutions/opera/login") {
			t.Errorf("after too many codes the step is still open: %d %q", got.status, got.location)
		}

		e.clock.Advance(time.Minute) // the wrong codes count as failed sign-ins: past their delay
		b = e.browser(t)
		b.signIn("opera", "otto@example.org", goodPassword, returnTo("opera", boxOfficeID))
		if got := b.post("/institutions/opera/login/2fa", url.Values{"recovery_code": {strings.ToUpper(codes[3])}}); got.location != returnTo("opera", boxOfficeID) {
			t.Fatalf("a recovery code: %d to %q\n%s", got.status, got.location, got.body)
		}
		b = e.browser(t)
		b.signIn("opera", "otto@example.org", goodPassword, returnTo("opera", boxOfficeID))
		if got := b.post("/institutions/opera/login/2fa", url.Values{"recovery_code": {codes[3]}}); got.status != http.StatusBadRequest ||
			!strings.Contains(got.body, e.message("en", "two_factor.recovery_code_wrong", nil)) {
			t.Errorf("a recovery code again: %d", got.status)
		}

		free, err := e.accounts.Create(e.ctx, e.opera, flows.NewAccount{Kind: storage.Operator, Email: "olga@example.org",
			Password: goodPassword}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		b = e.browser(t)
		if got := b.signIn("opera", "olga@example.org", goodPassword, returnTo("opera", boxOfficeID)); got.location != returnTo("opera", boxOfficeID) {
			t.Errorf("an operator without two-factor: %d to %q", got.status, got.location)
		}
		if who := e.authenticated(t, e.opera, b.cookie("opera")); who == nil || who.AccountID != free.ID {
			t.Errorf("not signed in: %+v", who)
		}
	})
}

// A client that requires two-factor makes everyone who signs in to it
// enrol, customers included.
func TestTwoFactorRequiredByTheClient(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		must(t, e.store.In(e.opera.ID).CreateClient(e.ctx, &storage.Client{ID: "vip", Name: "VIP lounge",
			AccountKind: storage.Customer, RedirectURIs: storage.List{"https://vip.example/cb"}, Scopes: storage.List{"openid"},
			RequireTwoFactor: true}))
		e.customer(t, e.opera, "ann@example.org")
		got := e.browser(t).signIn("opera", "ann@example.org", goodPassword, returnTo("opera", "vip"))
		if got.location != "/institutions/opera/2fa/setup" {
			t.Errorf("a customer at a client requiring two-factor: %d to %q", got.status, got.location)
		}
		got = e.browser(t).signIn("opera", "ann@example.org", goodPassword, returnTo("opera", shopID))
		if got.location != returnTo("opera", shopID) {
			t.Errorf("the same customer at the shop: %d to %q", got.status, got.location)
		}
	})
}

// The account page: new recovery codes replace the old ones; a second
// factor that is not required can be turned off (an email says so), one
// that is required cannot.
func TestAccountPageSecondFactor(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		op := e.operator(t, e.opera, "otto@example.org")
		b := e.browser(t)
		_, codes := e.enrol(t, b, "otto@example.org")
		got := b.get("/institutions/opera/account")
		if got.status != http.StatusOK || !strings.Contains(got.body, e.message("en", "account.two_factor_on", map[string]string{"count": "10"})) {
			t.Fatalf("the account page: %d\n%s", got.status, got.body)
		}
		got = b.post("/institutions/opera/account/recovery-codes", url.Values{})
		fresh := codePattern.FindAllStringSubmatch(got.body, -1)
		if got.status != http.StatusOK || len(fresh) != 10 || fresh[0][1] == codes[0] {
			t.Fatalf("new recovery codes: %d, %d codes", got.status, len(fresh))
		}
		if got := b.post("/institutions/opera/account/2fa/disable", url.Values{}); got.status != http.StatusForbidden {
			t.Errorf("turning off a required second factor: %d", got.status)
		}
		op, _ = e.store.In(e.opera.ID).GetAccount(e.ctx, op.ID)
		op.TwoFactorRequired = false
		must(t, e.store.In(e.opera.ID).UpdateAccount(e.ctx, op))
		if got := b.post("/institutions/opera/account/2fa/disable", url.Values{}); got.status != http.StatusOK ||
			!strings.Contains(got.body, e.message("en", "account.two_factor_removed", nil)) {
			t.Errorf("turning off a second factor not required: %d", got.status)
		}
		if a, _ := e.store.In(e.opera.ID).GetAccount(e.ctx, op.ID); a.TOTPConfirmedAt != nil || a.TOTPSecret != nil {
			t.Errorf("the second factor is still there: %+v", a)
		}
		if len(e.mailer.of(templates.ClassTwoFactorRemoved, "otto@example.org")) != 1 {
			t.Error("no two_factor_removed email")
		}
		got = e.browser(t).signIn("opera", "otto@example.org", goodPassword, returnTo("opera", boxOfficeID))
		if got.location != returnTo("opera", boxOfficeID) {
			t.Errorf("after turning it off, the password alone: %d to %q", got.status, got.location)
		}
	})
}

// The account page changes the password (the current one first; a wrong
// one is refused), lists the browsers signed in, and signs out of all.
func TestAccountPagePasswordAndSessions(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		other := e.browser(t)
		other.signIn("opera", "ann@example.org", goodPassword, "")
		b := e.browser(t)
		b.signIn("opera", "ann@example.org", goodPassword, "")
		got := b.get("/institutions/opera/account")
		if n := strings.Count(got.body, "<li>Signed in "); n != 2 || !strings.Contains(got.body, "(this browser)") {
			t.Errorf("the account page lists %d browsers:\n%s", n, got.body)
		}
		change := url.Values{"current_password": {"wrong password"}, "password": {newPassword}, "password_confirm": {newPassword}}
		if got := b.post("/institutions/opera/account/password", change); got.status != http.StatusBadRequest ||
			!strings.Contains(got.body, e.message("en", "account.current_password_wrong", nil)) {
			t.Errorf("a wrong current password: %d", got.status)
		}
		change.Set("current_password", goodPassword)
		if got := b.post("/institutions/opera/account/password", change); got.status != http.StatusOK ||
			!strings.Contains(got.body, e.message("en", "password_change.done", nil)) {
			t.Errorf("changing the password: %d", got.status)
		}
		if e.authenticated(t, e.opera, other.cookie("opera")) != nil || e.authenticated(t, e.opera, b.cookie("opera")) == nil {
			t.Error("after a change, the other browser is still signed in, or this one is not")
		}
		if got := e.browser(t).signIn("opera", "ann@example.org", newPassword, ""); got.status != http.StatusSeeOther {
			t.Errorf("the new password: %d", got.status)
		}
		if got := b.post("/institutions/opera/account/sessions/end", url.Values{}); got.status != http.StatusOK {
			t.Errorf("signing out everywhere: %d", got.status)
		}
		if e.authenticated(t, e.opera, b.cookie("opera")) != nil {
			t.Error("still signed in after signing out everywhere")
		}
	})
}
