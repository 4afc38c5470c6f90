package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/templates"
)

// The browser suite: a real Chromium (Debian's chromium package) driven
// through chromedp walks every page of Usher, in every language, at a
// desktop and a phone size, and runs axe-core (testdata/axe, as published)
// on each: zero violations of WCAG 2.2 AA and of axe's best practices.
//
// One browser serves the whole suite, and one Usher, started once; each
// language walks in a browser context of its own (its own cookies), with
// its own accounts.
//
// Without chromium the suite is skipped, saying so, unless CI asks for it
// (USHER_TEST_REQUIRE_BROWSER=1, or CI=true): then a missing browser fails.

// The sizes every page is audited at.
var browserSizes = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"desktop", 1280, 800, false},
	{"phone", 390, 844, true},
}

// axeTags are the rules the pages must pass: WCAG 2.0, 2.1 and 2.2 at
// levels A and AA, and axe's best practices.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

// browserLocales are the languages every page is walked in.
var browserLocales = []string{"en", "fr", "de", "it"}

// chromiumPath finds the browser, or skips the test when it may.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("USHER_TEST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "headless-shell"}
	for _, name := range candidates {
		if name == "" {
			continue
		}
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("USHER_TEST_REQUIRE_BROWSER") == "1" || os.Getenv("CI") == "true" {
		t.Fatal("no chromium found, and CI requires the browser suite (apt-get install -y chromium)")
	}
	t.Skip("browser suite skipped: no chromium found (apt-get install -y chromium, or set USHER_TEST_CHROMIUM)")
	return ""
}

// startChromium starts one headless browser for the suite.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	return ctx
}

// browserWorld is what the walks need of the Usher they walk.
type browserWorld struct {
	u                        *usherServer
	smtp                     *mailtest.Server
	axe                      string
	shop, partner, boxOffice string // client IDs
	callback                 string // the redirect URI of every client: a page of Usher (its 404)

	mu     sync.Mutex
	audits map[string]int // page → audits with no violation
}

func TestBrowserPages(t *testing.T) {
	start := time.Now()
	browser := startChromium(t)
	axe, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	u, smtp := startUsherWithMail(t, sqltest.SQLite(t))
	w := &browserWorld{u: u, smtp: smtp, axe: string(axe), audits: map[string]int{}, callback: u.url + "/rp/callback"}
	w.brand(t)
	for _, locale := range browserLocales {
		t.Run(locale, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			defer cancel()
			// The first action opens the tab, which lives as long as the
			// context of that action: run it without a timeout.
			if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
				t.Fatal(err)
			}
			s := &walk{t: t, ctx: ctx, w: w, locale: locale}
			s.start()
			s.errorPages()
			s.signInAndRecovery()
			s.accountAndLogout()
			s.registration()
			s.consent()
			s.passwordChange()
			s.twoFactor()
		})
	}
	var pages []string
	total := 0
	for p, n := range w.audits {
		pages = append(pages, p)
		total += n
	}
	slices.Sort(pages)
	t.Logf("axe-core: %d pages (%s) × %d languages × %d sizes: %d audits, 0 violations, in %s",
		len(pages), strings.Join(pages, ", "), len(browserLocales), len(browserSizes), total, time.Since(start).Round(time.Second))
}

// brand sets up the demo institution as a theatre would: its name, an
// uploaded logo, an accent colour, a support link and a footer, and the
// applications and people the walks use.
func (w *browserWorld) brand(t *testing.T) {
	t.Helper()
	u := w.u
	logo, _ := base64.StdEncoding.DecodeString(
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
	name, accent, support, footer := "Théâtre de Démo", "#8a1538", "https://help.example.org/", "Théâtre de Démo · 1 rue de la Scène"
	twoFactor := true
	inst, err := u.a.institutions.Update(context.Background(), "demo", flows.InstitutionChanges{DisplayName: &name,
		Logo: logo, Favicon: logo, AccentColour: &accent, SupportURL: &support, FooterText: &footer, TwoFactor: &twoFactor}, flows.ActorCLI)
	if err != nil {
		t.Fatal(err)
	}
	u.inst = inst
	w.shop, _ = u.client(inst, provider.ClientSpec{Name: "Demo Shop", RedirectURIs: []string{w.callback}, FirstParty: true,
		PointOfSale: true, HomeURL: u.url + "/rp/", PostLogoutRedirectURIs: []string{u.url + "/rp/"}})
	w.partner, _ = u.client(inst, provider.ClientSpec{Name: "Partner App", RedirectURIs: []string{w.callback}})
	w.boxOffice, _ = u.client(inst, provider.ClientSpec{Name: "Box Office", RedirectURIs: []string{w.callback},
		FirstParty: true, AccountKind: storage.Operator})
}

// walk is one language's way through the pages, in a browser context of
// its own.
type walk struct {
	t      *testing.T
	ctx    context.Context
	w      *browserWorld
	locale string
}

func (s *walk) email(who string) string { return who + "-" + s.locale + "@example.org" }

// start sends the walk's language with every request, as a browser set to
// it does.
func (s *walk) start() {
	s.t.Helper()
	s.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		return setAcceptLanguage(ctx, tg, s.locale)
	}))
	u := s.w.u
	for _, who := range []string{"ann", "temp"} {
		u.account(u.inst, storage.Customer, s.email(who))
	}
	tmp, err := u.a.store.In(u.inst.ID).GetAccountByEmail(context.Background(), storage.Customer, s.email("temp"))
	if err != nil {
		s.t.Fatal(err)
	}
	if err := u.a.accounts.SetPassword(context.Background(), u.inst, tmp.ID, "Temporary-passw0rd", true, flows.ActorCLI); err != nil {
		s.t.Fatal(err)
	}
	u.account(u.inst, storage.Operator, s.email("otto"))
}

// do runs browser actions, failing the test on an error.
func (s *walk) do(actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		s.t.Fatalf("%v (at %s)", err, s.location())
	}
}

// open loads a URL and returns the page's HTTP status.
func (s *walk) open(rawURL string) int64 {
	s.t.Helper()
	return s.load(chromedp.Navigate(rawURL))
}

// load runs actions that load a page (a click, a submit) and waits for it.
func (s *walk) load(actions ...chromedp.Action[chromedp.Void]) int64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		s.t.Fatalf("load: %v (at %s)", err, s.location())
	}
	return resp.Status
}

// submit fills the fields of the page's form (by name) and sends it with
// the button button ("" the first submit button).
func (s *walk) submit(fields map[string]string, button string) int64 {
	s.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for name, value := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(`[name="`+name+`"]`), value))
	}
	if button == "" {
		button = `main form button[type="submit"]`
	}
	s.do(steps...)
	return s.load(chromedp.Click(chromedp.CSS(button)))
}

func (s *walk) location() string {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// path is the path of the page shown.
func (s *walk) path() string {
	u, err := url.Parse(s.location())
	if err != nil {
		return ""
	}
	return u.Path
}

// eval evaluates JavaScript in the page.
func eval[T any](s *walk, expr string) T {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		s.t.Fatalf("evaluate %.60s: %v (at %s)", expr, err, s.location())
	}
	return v
}

// axeViolation is what axe reports of one broken rule.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// audit runs axe-core on the page shown, at every size, and checks its
// language; name names the page in the report, wantPath is where it must
// be.
func (s *walk) audit(name, wantPath string) {
	s.t.Helper()
	if got := s.path(); !strings.HasSuffix(got, wantPath) {
		s.t.Fatalf("%s: the browser is at %s, want …%s", name, s.location(), wantPath)
	}
	if lang := eval[string](s, `document.documentElement.lang`); lang != s.locale {
		s.t.Errorf("%s: lang %q, want %q", name, lang, s.locale)
	}
	if !eval[bool](s, `typeof axe !== "undefined"`) {
		eval[chromedp.Void](s, s.w.axe)
	}
	tags, _ := json.Marshal(axeTags)
	run := `axe.run(document, {runOnly: {type: "tag", values: ` + string(tags) + `}, resultTypes: ["violations"]})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)})))`
	clean := true
	for _, size := range browserSizes {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(3))
		}
		s.do(chromedp.EmulateViewport(size.width, size.height, opts...))
		for _, v := range eval[[]axeViolation](s, run) {
			clean = false
			s.t.Errorf("%s (%s, %s): axe %s (%s): %s\n\t%s", name, s.locale, size.name, v.ID, v.Impact, v.Help,
				strings.Join(v.Nodes, "\n\t"))
		}
	}
	if clean {
		s.w.mu.Lock()
		s.w.audits[name] += len(browserSizes)
		s.w.mu.Unlock()
	}
}

// nonTextContrast measures in the browser what axe does not test (WCAG
// 1.4.11, non-text contrast): the border of an input and the focus ring
// (moved by the keyboard, as a person does) against the background of the
// content they are drawn on, 3:1 at least.
func (s *walk) nonTextContrast() {
	s.t.Helper()
	s.do(chromedp.KeyEvent(kb.Tab))
	type drawn struct {
		Border, Ring, Background, Focused string
		RingWidth                         float64
	}
	d := eval[drawn](s, `(() => { const input = getComputedStyle(document.querySelector("#email")),
		f = document.activeElement, ring = getComputedStyle(f), main = getComputedStyle(document.querySelector("main"));
		return {Border: input.borderTopColor, Ring: ring.outlineColor, RingWidth: parseFloat(ring.outlineWidth),
			Background: main.backgroundColor, Focused: f.id}; })()`)
	bg := cssColour(s.t, d.Background)
	if r := templates.Contrast(cssColour(s.t, d.Border), bg); r < 3 {
		s.t.Errorf("input border %s on %s: %.2f:1, want 3:1", d.Border, d.Background, r)
	}
	if r := templates.Contrast(cssColour(s.t, d.Ring), bg); r < 3 || d.RingWidth < 2 {
		s.t.Errorf("focus ring of #%s: %gpx %s on %s: %.2f:1, want 3:1 and 2px", d.Focused, d.RingWidth, d.Ring, d.Background, r)
	}
}

// cssColour parses a computed colour, "rgb(r, g, b)".
func cssColour(t *testing.T, s string) templates.Colour {
	t.Helper()
	var c templates.Colour
	if _, err := fmt.Sscanf(s, "rgb(%d, %d, %d)", &c[0], &c[1], &c[2]); err != nil {
		t.Fatalf("computed colour %q: %v", s, err)
	}
	return c
}

// focused is a description of the element that has the focus.
func (s *walk) focused() string {
	return eval[string](s, `(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""))(document.activeElement)`)
}

// authorize starts an authorization request of the client, as its
// application would.
func (s *walk) authorize(clientID string, extra url.Values) int64 {
	s.t.Helper()
	q := authParams(clientID, newFlow(), url.Values{"redirect_uri": {s.w.callback}})
	for k, v := range extra {
		q[k] = v
	}
	return s.open(s.w.u.authorizeURL(q))
}

// errorPages: the router's 404 and 405, outside and inside the
// institution, and the error page of a refused authorization request.
func (s *walk) errorPages() {
	u := s.w.u
	if status := s.open(u.url + "/nowhere"); status != 404 {
		s.t.Errorf("/nowhere: %d", status)
	}
	s.audit("404", "/nowhere")
	if status := s.open(u.issuer + "/nowhere"); status != 404 {
		s.t.Errorf("%s/nowhere: %d", u.issuer, status)
	}
	s.audit("404 (institution)", "/institutions/demo/nowhere")
	// A form that posts where only GET is served: 405.
	status := s.load(chromedp.Evaluate[chromedp.Void](`(() => { const f = document.createElement("form");
		f.method = "post"; f.action = "/healthz"; document.body.append(f); f.submit(); })()`))
	if status != 405 {
		s.t.Errorf("POST /healthz: %d", status)
	}
	s.audit("405", "/healthz")
	if status := s.authorize(s.w.shop, url.Values{"redirect_uri": {"https://evil.example/cb"}}); status != 400 {
		s.t.Errorf("an unregistered redirect URI: %d", status)
	}
	s.audit("error", "/oauth2/authorize")
}

var (
	keyPattern = regexp.MustCompile(`[A-Z2-7]{4}(?: [A-Z2-7]{1,4})+`)
)

// signInAndRecovery: the sign-in page, a wrong password (the focus on the
// summary of the problems), the forgotten password and its emailed link.
func (s *walk) signInAndRecovery() {
	s.authorize(s.w.shop, nil)
	s.audit("sign-in", "/login")
	s.nonTextContrast()
	if status := s.submit(map[string]string{"email": s.email("ann"), "password": "wrong password"}, ""); status != 401 && status != 400 {
		s.t.Errorf("a wrong password: %d", status)
	}
	s.audit("sign-in (wrong password)", "/login")
	if f := s.focused(); f != "div#problems.problems" {
		s.t.Errorf("after a wrong password the focus is on %s, want the summary of the problems", f)
	}
	s.load(chromedp.Click(chromedp.CSS(`a[href*="/password/forgot"]`)))
	s.audit("forgot password", "/password/forgot")
	s.submit(map[string]string{"email": s.email("ann")}, "")
	s.audit("forgot password (sent)", "/password/forgot")
	link := s.w.linkTo(s.t, s.email("ann"), resetLinkPattern)
	s.open(link)
	s.audit("reset password", "/password/reset")
	s.submit(map[string]string{"password": "New-passw0rd-long", "password_confirm": "Other-passw0rd"}, "")
	s.audit("reset password (mismatch)", "/password/reset")
	s.submit(map[string]string{"password": "New-passw0rd-long", "password_confirm": "New-passw0rd-long"}, "")
	s.audit("reset password (done)", "/password/reset")
}

// accountAndLogout: the account page of the person signed in by the reset,
// then signing out.
func (s *walk) accountAndLogout() {
	u := s.w.u
	s.open(u.issuer + "/account")
	s.audit("account", "/account")
	s.open(u.issuer + "/logout")
	s.audit("sign out", "/logout")
	s.submit(nil, "")
	s.audit("signed out", "/logout")
	if n := eval[int](s, `document.querySelectorAll('ul.ways a[href$="/rp/"]').length`); n != 1 {
		s.t.Errorf("the signed-out page offers %d ways to the shop, want 1", n)
	}
}

// registration: the form, the pending account, the activation link.
func (s *walk) registration() {
	s.authorize(s.w.shop, nil)
	s.load(chromedp.Click(chromedp.CSS(`a[href*="/register"]`)))
	s.audit("register", "/register")
	s.submit(map[string]string{"email": s.email("reg"), "given_name": "Régine", "family_name": "Lee",
		"locale": s.locale, "password": "Reg-passw0rd-long", "password_confirm": "Reg-passw0rd-long"}, "")
	s.audit("register (sent)", "/register")
	s.authorize(s.w.shop, nil)
	s.submit(map[string]string{"email": s.email("reg"), "password": "Reg-passw0rd-long"}, "")
	s.audit("pending account", "/activate/resend")
	link := s.w.linkTo(s.t, s.email("reg"), activationLinkPattern)
	s.open(link)
	s.audit("activate", "/activate")
	s.submit(nil, "")
	s.audit("activate (done)", "/activate")
	s.signOut()
}

// consent: a third-party application asks.
func (s *walk) consent() {
	s.authorize(s.w.partner, nil)
	s.submit(map[string]string{"email": s.email("ann"), "password": "New-passw0rd-long"}, "")
	s.audit("consent", "/consent")
	s.signOut()
}

// passwordChange: a temporary password must be replaced.
func (s *walk) passwordChange() {
	s.authorize(s.w.shop, nil)
	s.submit(map[string]string{"email": s.email("temp"), "password": "Temporary-passw0rd"}, "")
	s.audit("password change", "/password/change")
	s.submit(map[string]string{"password": "short", "password_confirm": "other"}, "")
	s.audit("password change (refused)", "/password/change")
	s.signOut()
}

// twoFactor: an operator who must use a second factor enrols (QR code,
// key, first code), gets the recovery codes, and next time gives a code.
func (s *walk) twoFactor() {
	s.authorize(s.w.boxOffice, nil)
	s.submit(map[string]string{"email": s.email("otto"), "password": testPassword}, "")
	s.audit("two-factor setup", "/2fa/setup")
	key := strings.ReplaceAll(keyPattern.FindString(eval[string](s, `document.querySelector(".key").textContent`)), " ", "")
	if key == "" {
		s.t.Fatal("no key on the enrolment page")
	}
	s.submit(map[string]string{"code": "000000"}, "")
	s.audit("two-factor setup (wrong code)", "/2fa/setup")
	s.submit(map[string]string{"code": totpCode(s.t, key, 0)}, "")
	s.audit("recovery codes", "/2fa/setup")
	s.signOut()
	s.authorize(s.w.boxOffice, nil)
	s.submit(map[string]string{"email": s.email("otto"), "password": testPassword}, "")
	s.audit("two-factor", "/login/2fa")
	s.submit(map[string]string{"code": "000000"}, "")
	s.audit("two-factor (wrong code)", "/login/2fa")
	s.signOut()
}

// signOut ends the browser's session at Usher.
func (s *walk) signOut() {
	s.t.Helper()
	s.open(s.w.u.issuer + "/logout")
	if eval[bool](s, `document.querySelector('main form') !== null`) {
		s.submit(nil, "")
	}
}

// linkTo waits for the newest email to the recipient and returns its link
// of pattern.
func (w *browserWorld) linkTo(t *testing.T, to string, pattern *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		msgs := w.smtp.Messages()
		for i := len(msgs) - 1; i >= 0; i-- {
			if slices.Contains(msgs[i].To, to) {
				if link := pattern.FindString(textBody(t, msgs[i])); link != "" {
					return link
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no email with a link to %s", to)
	return ""
}

// setAcceptLanguage makes the tab send Accept-Language: locale.
func setAcceptLanguage(ctx context.Context, tg *chromedp.Target, locale string) error {
	if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": locale}})
	return err
}
