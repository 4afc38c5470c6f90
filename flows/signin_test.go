package flows_test

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

func TestSignInSucceeds(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		ann := e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		rt := returnTo("opera", shopID)

		form := b.get("/institutions/opera/login?return_to=" + url.QueryEscape(rt))
		if form.status != http.StatusOK || !strings.Contains(form.body, "Ticket Shop") ||
			!strings.Contains(form.body, attrEscape(rt)) {
			t.Fatalf("sign-in page: %d\n%s", form.status, form.body)
		}
		got := b.signIn("opera", "ANN@example.org ", goodPassword, rt)
		if got.status != http.StatusSeeOther || got.location != rt {
			t.Fatalf("sign-in: %d to %q\n%s", got.status, got.location, got.body)
		}
		c := setCookie(t, got.cookies)
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/institutions/opera/" || c.Domain != "" ||
			c.Secure || c.MaxAge != 0 || len(c.Value) != 43 {
			t.Errorf("cookie %+v", c)
		}
		bs := e.authenticated(t, e.opera, b.cookie("opera"))
		if bs == nil || bs.AccountID != ann.ID || bs.AuthTime.IsZero() || !bs.AuthTime.Equal(e.clock.Now()) ||
			!slices.Equal(bs.Methods, []string{"pwd"}) {
			t.Fatalf("Authenticated = %+v", bs)
		}
		if bs.SessionID != recordID(c.Value) || strings.Contains(bs.SessionID, c.Value) {
			t.Errorf("the record is not keyed by the hash of the token: %q", bs.SessionID)
		}
		events := e.auditActions(t, e.opera, ann.ID, "sign_in")
		if len(events) != 1 || events[0].Address != "127.0.0.1" || events[0].Details["client_id"] != shopID {
			t.Errorf("audit %+v", events)
		}
		if e.metrics.get("sign_in:success") != 1 {
			t.Errorf("metrics %v", e.metrics.counts)
		}
		account := b.get("/institutions/opera/account")
		if account.status != http.StatusOK || !strings.Contains(account.body, e.message("en", "account.signed_in_as",
			map[string]string{"email": "ann@example.org"})) {
			t.Errorf("account page: %d\n%s", account.status, account.body)
		}
	})
}

// attrEscape escapes like the pages do in an attribute.
func attrEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "+", "&#43;").Replace(s)
}

func setCookie(t *testing.T, cookies []*http.Cookie) *http.Cookie {
	t.Helper()
	for _, c := range cookies {
		if c.Name == "usher_session" {
			return c
		}
	}
	t.Fatal("no session cookie set")
	return nil
}

// Signing in gives a new session id every time; the old one is worthless.
func TestSignInRotatesSession(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		b.signIn("opera", "ann@example.org", goodPassword, "")
		first := b.cookie("opera")
		got := b.signIn("opera", "ann@example.org", goodPassword, "")
		second := b.cookie("opera")
		if got.status != http.StatusSeeOther || first == nil || second == nil || first.Value == second.Value {
			t.Fatalf("session id not rotated: %v → %v", first, second)
		}
		if e.authenticated(t, e.opera, first) != nil {
			t.Error("the session from before sign-in still authenticates")
		}
		if _, err := e.store.In(e.opera.ID).GetSession(e.ctx, recordID(first.Value)); err == nil {
			t.Error("the old session record survived")
		}
		if e.authenticated(t, e.opera, second) == nil {
			t.Error("the new session does not authenticate")
		}
	})
}

// A wrong email and a wrong password answer the same, in the same time.
func TestUnknownEmailLooksLikeWrongPassword(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		e.setSettings(t, e.opera, func(s *storage.Settings) {
			s.Lockout = storage.LockoutPolicy{FreeFailures: 1000, LockDuration: storage.Duration(time.Minute)}
		})
		b := e.browser(t)
		rt := returnTo("opera", shopID)
		attempt := func(email string) (response, time.Duration) {
			start := time.Now()
			got := b.signIn("opera", email, "wrong password!", rt)
			return got, time.Since(start)
		}
		wrong, _ := attempt("ann@example.org")
		unknown, _ := attempt("nobody@example.org")
		if wrong.status != http.StatusBadRequest || unknown.status != wrong.status {
			t.Fatalf("status: wrong password %d, unknown email %d", wrong.status, unknown.status)
		}
		if !strings.Contains(wrong.body, e.message("en", "signin.failed", nil)) {
			t.Errorf("no failure message:\n%s", wrong.body)
		}
		a := strings.ReplaceAll(wrong.body, "ann@example.org", "EMAIL")
		c := strings.ReplaceAll(unknown.body, "nobody@example.org", "EMAIL")
		if a != c {
			t.Errorf("the pages differ:\n%s\n---\n%s", a, c)
		}
		var known, missing []time.Duration
		for range 7 {
			_, d1 := attempt("ann@example.org")
			_, d2 := attempt("nobody@example.org")
			known, missing = append(known, d1), append(missing, d2)
		}
		mk, mu := median(known), median(missing)
		t.Logf("median time: wrong password %v, unknown email %v", mk, mu)
		if ratio := float64(mk) / float64(mu); ratio < 0.5 || ratio > 2 {
			t.Errorf("median time: wrong password %v, unknown email %v", mk, mu)
		}
	})
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// A pending or disabled account is refused with its own message, but only
// once the password is right; before, it looks like any wrong password. The
// pending one is sent to the page that offers its activation email again,
// signed in nowhere.
func TestPendingAndDisabledRefusedAfterRightPassword(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		s := e.store.In(e.opera.ID)
		hash, err := e.hasher.Hash(e.ctx, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			status  storage.AccountStatus
			message string
		}{{storage.Pending, "pending.intro"}, {storage.Disabled, "signin.disabled"}} {
			email := string(tt.status) + "@example.org"
			must(t, s.CreateAccount(e.ctx, &storage.Account{Kind: storage.Customer, Email: email,
				Status: tt.status, PasswordHash: hash}))
			b := e.browser(t)
			wrong := b.signIn("opera", email, "not the password", "")
			if wrong.status != http.StatusBadRequest || !strings.Contains(wrong.body, e.message("en", "signin.failed", nil)) {
				t.Errorf("%s, wrong password: %d\n%s", tt.status, wrong.status, wrong.body)
			}
			right := b.signIn("opera", email, goodPassword, "")
			if tt.status == storage.Pending {
				if right.status != http.StatusSeeOther || right.location != "/institutions/opera/activate/resend" {
					t.Fatalf("pending, right password: %d to %q", right.status, right.location)
				}
				right = b.get(right.location)
			}
			want := e.message("en", tt.message, map[string]string{"institution": "Institution opera", "email": email})
			if right.status != http.StatusForbidden || !strings.Contains(right.body, want) {
				t.Errorf("%s, right password: %d, want %q\n%s", tt.status, right.status, want, right.body)
			}
			if tt.status == storage.Disabled && b.cookie("opera") != nil {
				t.Errorf("%s: a session was created", tt.status)
			}
			if c := b.cookie("opera"); c != nil && e.authenticated(t, e.opera, c) != nil {
				t.Errorf("%s: signed in", tt.status)
			}
		}
		if e.metrics.get("sign_in:refused") != 2 || e.metrics.get("sign_in:failure") != 2 {
			t.Errorf("metrics %v", e.metrics.counts)
		}
	})
}

// return_to is only ever this institution's authorization endpoint: anything
// else lands on the account page.
func TestSignInRefusesOpenRedirects(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		e.institutionWithClients(t, "other")
		for _, evil := range []string{
			"https://evil.example/",
			"//evil.example",
			"//evil.example/institutions/opera/oauth2/authorize?client_id=shop",
			"/institutions/other/oauth2/authorize?client_id=shop",
			"/\\evil",
			"/institutions/opera/oauth2/authorize/../../../evil?client_id=shop",
			"https://usher.test/institutions/opera/oauth2/authorize?client_id=shop",
			"/institutions/opera/oauth2/authorize?client_id=shop\\@evil.example",
			"javascript:alert(1)",
		} {
			b := e.browser(t)
			page := b.get("/institutions/opera/login?return_to=" + url.QueryEscape(evil))
			if strings.Contains(page.body, "evil") || strings.Contains(page.body, "/institutions/other") {
				t.Errorf("%q is carried by the sign-in form", evil)
			}
			got := b.signIn("opera", "ann@example.org", goodPassword, evil)
			if got.status != http.StatusSeeOther || got.location != "/institutions/opera/account" {
				t.Errorf("return_to %q: %d to %q", evil, got.status, got.location)
			}
		}
	})
}

// login_hint pre-fills the email, ui_locales chooses the language, the
// client chooses the account kind.
func TestSignInFollowsTheRequest(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		b := e.browser(t)
		rt := returnTo("opera", shopID, "login_hint", "ann@example.org", "ui_locales", "fr-CA de")
		page := b.get("/institutions/opera/login?return_to=" + url.QueryEscape(rt))
		if !strings.Contains(page.body, `value="ann@example.org"`) || !strings.Contains(page.body, `<html lang="fr">`) ||
			!strings.Contains(page.body, e.message("fr", "signin.heading", map[string]string{"institution": "Institution opera"})) {
			t.Errorf("page:\n%s", page.body)
		}
		german := b.do(http.MethodGet, "/institutions/opera/login", nil, http.Header{"Accept-Language": {"de-CH, en;q=0.5"}})
		if !strings.Contains(german.body, `<html lang="de">`) {
			t.Errorf("Accept-Language de: %s", german.body)
		}

		op, err := e.accounts.Create(e.ctx, e.opera, flows.NewAccount{Kind: storage.Operator, Email: "op@example.org",
			Password: goodPassword}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		asCustomer := b.signIn("opera", "op@example.org", goodPassword, returnTo("opera", shopID))
		if asCustomer.status != http.StatusBadRequest {
			t.Errorf("an operator signed in to the shop: %d", asCustomer.status)
		}
		asOperator := b.signIn("opera", "op@example.org", goodPassword, returnTo("opera", boxOfficeID))
		if asOperator.status != http.StatusSeeOther {
			t.Fatalf("operator at the box office: %d\n%s", asOperator.status, asOperator.body)
		}
		if bs := e.authenticated(t, e.opera, b.cookie("opera")); bs == nil || bs.AccountID != op.ID {
			t.Errorf("Authenticated = %+v", bs)
		}
	})
}

func TestUnknownInstitutionIsNotFound(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		b := e.browser(t)
		for _, path := range []string{"/institutions/nope/login", "/institutions/nope/account"} {
			got := b.get(path)
			if got.status != http.StatusNotFound || !strings.Contains(got.body, e.message("en", "error.not_found.title", nil)) {
				t.Errorf("%s: %d\n%s", path, got.status, got.body)
			}
		}
		got := b.signIn("nope", "ann@example.org", goodPassword, "")
		if got.status != http.StatusNotFound {
			t.Errorf("POST to an unknown institution: %d", got.status)
		}
	})
}

// Every POST refuses a form sent from another site; the same form from the
// same origin passes.
func TestCrossSitePostRefused(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		form := url.Values{"email": {"ann@example.org"}, "password": {goodPassword}}
		for _, path := range []string{"/login", "/password/change", "/consent", "/logout"} {
			got := b.do(http.MethodPost, "/institutions/opera"+path, form, http.Header{"Sec-Fetch-Site": {"cross-site"}})
			if got.status != http.StatusForbidden || !strings.Contains(got.body, e.message("en", "error.cross_site.title", nil)) {
				t.Errorf("cross-site POST %s: %d\n%s", path, got.status, got.body)
			}
		}
		old := b.do(http.MethodPost, "/institutions/opera/login", form, http.Header{"Origin": {"https://evil.example"}})
		if old.status != http.StatusForbidden {
			t.Errorf("foreign Origin without Sec-Fetch-Site: %d", old.status)
		}
		if b.cookie("opera") != nil || e.metrics.get("sign_in:success") != 0 {
			t.Fatal("a cross-site POST signed in")
		}
		same := b.do(http.MethodPost, "/institutions/opera/login", form, http.Header{"Sec-Fetch-Site": {"same-origin"}})
		if same.status != http.StatusSeeOther {
			t.Errorf("same-origin POST: %d", same.status)
		}
		// Behind a proxy the Host differs from the public URL; its origin is ours.
		proxied := b.do(http.MethodPost, "/institutions/opera/login", form, http.Header{"Origin": {"http://usher.test"}})
		if proxied.status != http.StatusSeeOther {
			t.Errorf("POST from the public origin: %d", proxied.status)
		}
	})
}

// The form is read with limits: a huge body is refused with a page.
func TestSignInRefusesHugeForm(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		b := e.browser(t)
		got := b.post("/institutions/opera/login", url.Values{"email": {strings.Repeat("a", 20<<10)}, "password": {"x"}})
		if got.status != http.StatusRequestEntityTooLarge || !strings.Contains(got.body, e.message("en", "error.bad_form.title", nil)) {
			t.Errorf("huge form: %d\n%s", got.status, got.body)
		}
		empty := b.post("/institutions/opera/login", url.Values{"email": {""}, "password": {""}})
		if empty.status != http.StatusBadRequest || !strings.Contains(empty.body, e.message("en", "signin.email_required", nil)) ||
			!strings.Contains(empty.body, e.message("en", "signin.password_required", nil)) {
			t.Errorf("empty form: %d\n%s", empty.status, empty.body)
		}
	})
}

// Nothing secret reaches the log: not the password, not the cookie token,
// not the authorization request's query.
func TestNoSecretsInLogs(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		rt := returnTo("opera", shopID)
		b.signIn("opera", "ann@example.org", "a wrong guess 123", rt)
		token := setCookie(t, b.signIn("opera", "ann@example.org", goodPassword, rt).cookies).Value
		b.get("/institutions/opera/consent?return_to=" + url.QueryEscape(rt))
		b.post("/institutions/opera/logout", url.Values{})
		logs := e.logs.String()
		for _, secret := range []string{goodPassword, "a wrong guess 123", token, recordID(token), "st4te-s3cret", "ann@example.org"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log holds %q:\n%s", secret, logs)
			}
		}
		if !strings.Contains(logs, "signed in") || !strings.Contains(logs, "sign-in failed") {
			t.Errorf("the log misses the sign-in events:\n%s", logs)
		}
	})
}
