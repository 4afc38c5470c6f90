package templates

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

// frame is the fixed frame of the golden pages.
func frame(locale string) Frame {
	f := Frame{
		Locale: locale,
		Brand: Brand{Name: "City Opera", LogoURL: "https://cdn.example/opera.png",
			Stylesheet: "/institutions/city-opera/brand.css?v=3", FaviconURL: "/institutions/city-opera/favicon/0a1b",
			SupportURL: "https://opera.example/help", FooterText: "City Opera, 1 Stage Street <Verona>"},
		Base: "/institutions/city-opera",
		Back: &Link{URL: "https://shop.opera.example/", Text: Text{ID: "brand.back_to", Args: map[string]string{"client": "Ticket Shop"}}},
	}
	for _, l := range []struct{ tag, name string }{{"en", "English"}, {"fr", "Français"}, {"de", "Deutsch"}, {"it", "Italiano"}} {
		f.LanguageLinks = append(f.LanguageLinks, LanguageLink{Tag: l.tag, Name: l.name, Current: l.tag == locale,
			URL: "/institutions/city-opera/login?return_to=%2Fx&lang=" + l.tag})
	}
	return f
}

const goldenReturnTo = "/institutions/city-opera/oauth2/authorize?client_id=shop&scope=openid+email&state=x%3Cy"

// renderers draws every page with fixed data: one entry per page, named as
// its golden file.
func renderers(p *Pages) map[string]func(w http.ResponseWriter, locale string) error {
	return map[string]func(http.ResponseWriter, string) error{
		pageSignIn: func(w http.ResponseWriter, l string) error {
			return p.SignIn(w, http.StatusBadRequest, SignInPage{Frame: frame(l), ClientName: "Ticket <Shop>",
				Email: "ann@example.org", Form: Form{ReturnTo: goldenReturnTo,
					Problems: []Problem{{Field: "password", ID: "signin.failed"}}}})
		},
		pageChangePassword: func(w http.ResponseWriter, l string) error {
			return p.ChangePassword(w, http.StatusBadRequest, ChangePasswordPage{Frame: frame(l),
				Rules: []Text{{ID: "password.too_short", Args: map[string]string{"min_length": "10"}},
					{ID: "password.needs_digit"}, {ID: "password_change.rule_common"}, {ID: "password.same_as_identity"}},
				Form: Form{Problems: []Problem{
					{Field: "password", ID: "password.too_short", Args: map[string]string{"min_length": "10"}},
					{Field: "password", ID: "password.needs_digit"},
					{Field: "password_confirm", ID: "password_change.mismatch"}}}})
		},
		pageConsent: func(w http.ResponseWriter, l string) error {
			return p.Consent(w, http.StatusOK, ConsentPage{Frame: frame(l), ClientName: "Ticket Shop",
				Email: "ann@example.org", Form: Form{ReturnTo: goldenReturnTo},
				Scopes: []Text{{ID: "scope.openid"}, {ID: "scope.email"}, {ID: "scope.profile"},
					{ID: "scope.offline_access"}, {ID: "scope.other", Args: map[string]string{"scope": "seats:read"}}}})
		},
		pageLogoutConfirm: func(w http.ResponseWriter, l string) error {
			return p.LogoutConfirm(w, http.StatusOK, LogoutConfirmPage{Frame: frame(l)})
		},
		pageSignedOut: func(w http.ResponseWriter, l string) error {
			return p.SignedOut(w, http.StatusOK, SignedOutPage{Frame: frame(l)})
		},
		pageSignedIn: func(w http.ResponseWriter, l string) error {
			at := time.Date(2031, time.March, 14, 15, 9, 0, 0, time.UTC)
			return p.SignedIn(w, http.StatusOK, SignedInPage{Frame: frame(l), Email: "ann@example.org",
				Notice: &Text{ID: "password_change.done"}, TwoFactor: FactorInfo{Enrolled: true, CanTurnOff: true, CodesLeft: 9},
				Sessions: []SessionRow{{Started: at, LastUsed: at.Add(time.Hour), Current: true}, {Started: at, LastUsed: at}}})
		},
		pageError: func(w http.ResponseWriter, l string) error {
			return p.Error(w, http.StatusBadRequest, ErrorPage{Frame: frame(l),
				Title: "error.oauth.title", Message: "error.oauth.redirect_uri"})
		},
		pageForgotPassword: func(w http.ResponseWriter, l string) error {
			return p.ForgotPassword(w, http.StatusBadRequest, ForgotPasswordPage{Frame: frame(l), Email: "ann@",
				Form: Form{ReturnTo: goldenReturnTo, Problems: []Problem{{Field: "email", ID: "account.email_invalid"}}}})
		},
		pageResetPassword: func(w http.ResponseWriter, l string) error {
			return p.ResetPassword(w, http.StatusBadRequest, ResetPasswordPage{Frame: frame(l), Token: "t0ken-<secret>",
				Email: "ann@example.org", Rules: []Text{{ID: "password.too_short", Args: map[string]string{"min_length": "10"}},
					{ID: "password.needs_upper"}},
				Form: Form{Problems: []Problem{{Field: "password_confirm", ID: "password_change.mismatch"}}}})
		},
		pageTwoFactor: func(w http.ResponseWriter, l string) error {
			return p.TwoFactor(w, http.StatusBadRequest, TwoFactorPage{Frame: frame(l), Form: Form{ReturnTo: goldenReturnTo,
				Problems: []Problem{{Field: "code", ID: "two_factor.code_wrong"}}}})
		},
		pageTwoFactorSetup: func(w http.ResponseWriter, l string) error {
			return p.TwoFactorSetup(w, http.StatusOK, TwoFactorSetupPage{Frame: frame(l), QRPath: "M0 0h1v1h-1zM2 0h1v1h-1z",
				QRSize: 21, Key: "JBSW Y3DP EHPK 3PXP", Account: "ann@example.org"})
		},
		pageRecoveryCodes: func(w http.ResponseWriter, l string) error {
			return p.RecoveryCodes(w, http.StatusOK, RecoveryCodesPage{Frame: frame(l),
				Codes: []string{"abcde-fghij", "klmno-pqrst"}, Next: Link{URL: goldenReturnTo, Text: Text{ID: "reset.continue"}}})
		},
		pageRegister: func(w http.ResponseWriter, l string) error {
			return p.Register(w, http.StatusBadRequest, RegisterPage{Frame: frame(l), Email: "ann@example.org", GivenName: "Ann",
				Language: "fr", Languages: []Language{{"en", "English"}, {"fr", "Français"}},
				Rules: []Text{{ID: "password.too_short", Args: map[string]string{"min_length": "10"}}},
				Form: Form{ReturnTo: goldenReturnTo, Problems: []Problem{{Field: "family_name", ID: "register.name_required"},
					{Field: "password_confirm", ID: "password_change.mismatch"}}}})
		},
		pageActivate: func(w http.ResponseWriter, l string) error {
			return p.Activate(w, http.StatusOK, ActivatePage{Frame: frame(l), Token: "t0ken", Email: "ann@example.org",
				SetPassword: true, Rules: []Text{{ID: "password.needs_digit"}}})
		},
		pagePending: func(w http.ResponseWriter, l string) error {
			return p.Pending(w, http.StatusForbidden, PendingPage{Frame: frame(l), Email: "ann@example.org",
				Notice: &Text{ID: "pending.sent"}})
		},
		pageMessage: func(w http.ResponseWriter, l string) error {
			return p.Message(w, http.StatusOK, MessagePage{Frame: frame(l),
				Title: "password_change.title", Message: "password_change.done"})
		},
	}
}

func newTestPages(t *testing.T) (*Pages, *Catalog) {
	t.Helper()
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPages(c)
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

// rendered is one page drawn in one locale.
type rendered struct {
	page, locale string
	rec          *httptest.ResponseRecorder
}

func renderAll(t *testing.T) []rendered {
	t.Helper()
	p, c := newTestPages(t)
	var out []rendered
	for _, page := range pageNames() {
		render, ok := renderers(p)[page]
		if !ok {
			t.Fatalf("no test data for page %s", page)
		}
		for _, locale := range c.Locales() {
			rec := httptest.NewRecorder()
			if err := render(rec, locale); err != nil {
				t.Fatalf("%s.%s: %v", page, locale, err)
			}
			out = append(out, rendered{page, locale, rec})
		}
	}
	return out
}

// Every page in every locale matches its golden file byte for byte; run
// `go test ./templates -update` to accept a change.
func TestPagesGolden(t *testing.T) {
	for _, r := range renderAll(t) {
		path := filepath.Join("testdata", "golden", r.page+"."+r.locale+".html")
		checkGolden(t, path, r.rec.Body.Bytes())
	}
}

// DESIGN.md: pages that carry tokens send no Referer. Every page may carry
// one (a reset link's token, an authorization request in return_to, both
// echoed in the language links), so every page says no-referrer itself,
// whatever the server's middleware adds.
func TestPagesNoReferrer(t *testing.T) {
	for _, r := range renderAll(t) {
		if got := r.rec.Header().Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s.%s: Referrer-Policy %q, want no-referrer", r.page, r.locale, got)
		}
	}
}

func TestPagesHeaders(t *testing.T) {
	for _, r := range renderAll(t) {
		h := r.rec.Header()
		if h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s.%s: headers %v", r.page, r.locale, h)
		}
	}
	p, _ := newTestPages(t)
	rec := httptest.NewRecorder()
	if err := p.Error(rec, http.StatusNotFound, ErrorPage{Frame: frame("de"), Title: "error.not_found.title",
		Message: "error.not_found.message"}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "Fehler 404") {
		t.Errorf("error page: status %d, body %s", rec.Code, rec.Body)
	}
}

// The pages speak the language asked for: the same page differs per locale
// and carries its words, not the English ones.
func TestPagesAreTranslated(t *testing.T) {
	p, _ := newTestPages(t)
	for _, tt := range []struct{ locale, want string }{
		{"en", "Sign in to City Opera"}, {"fr", "Connexion à City Opera"},
		{"de", "Bei City Opera anmelden"}, {"it", "Accedi a City Opera"},
		{"pt", "Sign in to City Opera"}, // unsupported: English
	} {
		rec := httptest.NewRecorder()
		if err := p.SignIn(rec, http.StatusOK, SignInPage{Frame: frame(tt.locale)}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: no %q in\n%s", tt.locale, tt.want, rec.Body)
		}
	}
}

// Data is escaped: a client name or an email cannot inject markup.
func TestPagesEscapeData(t *testing.T) {
	p, _ := newTestPages(t)
	rec := httptest.NewRecorder()
	err := p.SignIn(rec, http.StatusOK, SignInPage{Frame: frame("en"), ClientName: `<script>alert(1)</script>`,
		Email: `"><script>x</script>`, Form: Form{ReturnTo: `"><b>`}})
	if err != nil {
		t.Fatal(err)
	}
	if body := rec.Body.String(); strings.Contains(body, "<script>") || strings.Contains(body, `"><b>`) {
		t.Errorf("unescaped data:\n%s", body)
	}
}

func TestNewPagesRefusesMissingPage(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, name := range append(pageNames(), layoutFile) {
		if name == pageConsent {
			continue
		}
		b, err := pageFiles.ReadFile("pages/" + name + ".html")
		if err != nil {
			t.Fatal(err)
		}
		fsys["pages/"+name+".html"] = &fstest.MapFile{Data: b}
	}
	if _, err := newPages(c, fsys); err == nil || !strings.Contains(err.Error(), "consent") {
		t.Errorf("a missing page gave %v", err)
	}
	fsys["pages/consent.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}{{t "no.such.id"}}{{end}}{{define "content"}}{{end}}`)}
	if _, err := newPages(c, fsys); err == nil || !strings.Contains(err.Error(), "no.such.id") {
		t.Errorf("an unknown message id gave %v", err)
	}
}

var (
	templateAction = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	markupTag      = regexp.MustCompile(`(?s)<[^>]*>`)
	visibleAttr    = regexp.MustCompile(`\b(alt|title|placeholder|aria-label)="[^"{]*\pL`)
)

// Templates hold no words: every text people read comes from the catalogue.
func TestTemplatesHaveNoLiteralText(t *testing.T) {
	entries, err := pageFiles.ReadDir("pages")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := pageFiles.ReadFile("pages/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		src := templateAction.ReplaceAllString(string(b), "")
		if m := visibleAttr.FindString(src); m != "" {
			t.Errorf("%s: literal text in an attribute: %s", e.Name(), m)
		}
		text := markupTag.ReplaceAllString(src, "")
		if i := strings.IndexFunc(text, unicode.IsLetter); i >= 0 {
			t.Errorf("%s: literal text %q", e.Name(), strings.TrimSpace(text[i:min(len(text), i+40)]))
		}
	}
}
