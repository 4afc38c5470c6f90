package templates

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"text/template/parse"
)

//go:embed pages/*.html
var pageFiles embed.FS

// The pages, by the name of their file in pages/ (without ".html"). The
// layout is pages/layout.html; it defines the frame every page is drawn in
// and the "errors" summary that forms share.
const (
	pageSignIn         = "signin"
	pageChangePassword = "changepassword"
	pageConsent        = "consent"
	pageLogoutConfirm  = "logoutconfirm"
	pageSignedOut      = "signedout"
	pageSignedIn       = "signedin"
	pageError          = "error"
	pageMessage        = "message"
	pageForgotPassword = "forgotpassword"
	pageResetPassword  = "resetpassword"
	pageTwoFactor      = "twofactor"
	pageTwoFactorSetup = "twofactorsetup"
	pageRecoveryCodes  = "recoverycodes"
	pageRegister       = "register"
	pageActivate       = "activate"
	pagePending        = "pending"

	layoutFile = "layout"
)

// pageNames lists every page NewPages must find.
func pageNames() []string {
	return []string{pageSignIn, pageChangePassword, pageConsent, pageLogoutConfirm,
		pageSignedOut, pageSignedIn, pageError, pageMessage, pageForgotPassword, pageResetPassword,
		pageTwoFactor, pageTwoFactorSetup, pageRecoveryCodes, pageRegister, pageActivate, pagePending}
}

// Pages draws Usher's HTML pages. Build it once with NewPages and share it:
// it is read-only afterwards and safe for concurrent use.
//
// Every page is a typed method: it renders into a buffer first (a template
// error never leaves a half-written page), then writes the page with
// Content-Type text/html, Cache-Control no-store and the given status.
type Pages struct {
	catalog *Catalog
	assets  *Assets
	sets    map[string]map[string]*template.Template // locale → page → template set
}

// NewPages parses every page once with the shared layout and binds it to
// every locale of c. A missing page, a template that does not parse, or a
// message id that the catalogue does not know is a startup error.
func NewPages(c *Catalog) (*Pages, error) {
	return newPages(c, pageFiles)
}

func newPages(c *Catalog, fsys fs.FS) (*Pages, error) {
	assets, err := NewAssets()
	if err != nil {
		return nil, err
	}
	parsed := map[string]*template.Template{}
	for _, name := range pageNames() {
		t, err := parsePage(fsys, name)
		if err != nil {
			return nil, err
		}
		var trees []*parse.Tree
		for _, tt := range t.Templates() {
			trees = append(trees, tt.Tree)
		}
		if err := checkMessageIDs(c, trees); err != nil {
			return nil, fmt.Errorf("page %s: %w", name, err)
		}
		parsed[name] = t
	}
	p := &Pages{catalog: c, assets: assets, sets: map[string]map[string]*template.Template{}}
	for _, locale := range c.Locales() {
		p.sets[locale] = map[string]*template.Template{}
		for name, t := range parsed {
			bound, err := t.Clone()
			if err != nil {
				return nil, fmt.Errorf("page %s: %w", name, err)
			}
			p.sets[locale][name] = bound.Funcs(c.funcs(locale)).Funcs(template.FuncMap{"asset": assets.URL})
		}
	}
	return p, nil
}

// parsePage parses the layout and one page into a template set.
func parsePage(fsys fs.FS, name string) (*template.Template, error) {
	files := []string{"pages/" + layoutFile + ".html", "pages/" + name + ".html"}
	for _, f := range files {
		if _, err := fs.Stat(fsys, f); err != nil {
			return nil, fmt.Errorf("page %s: %w", name, err)
		}
	}
	t, err := template.New(name).Funcs(placeholderFuncs()).ParseFS(fsys, files...)
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", name, err)
	}
	for _, block := range []string{"layout", "title", "content"} {
		if t.Lookup(block) == nil {
			return nil, fmt.Errorf("page %s: no %q template", name, block)
		}
	}
	return t, nil
}

// Assets are the static files the pages link to.
func (p *Pages) Assets() *Assets { return p.assets }

// render draws page in the locale of data's frame and writes it.
func (p *Pages) render(w http.ResponseWriter, status int, page, locale string, data any) error {
	locale = p.catalog.Match(locale)
	if locale == "" {
		locale = DefaultLocale
	}
	t := p.sets[locale][page]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("page %s (%s): %w", page, locale, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // pages carry authorization requests
	// The length lets a handler flush the page and go on working while the
	// browser has all of it (the recovery page answers before its work).
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("page %s: %w", page, err)
	}
	return nil
}

// SignIn writes the sign-in page.
func (p *Pages) SignIn(w http.ResponseWriter, status int, d SignInPage) error {
	return p.render(w, status, pageSignIn, d.Locale, d)
}

// ChangePassword writes the page that replaces a temporary password.
func (p *Pages) ChangePassword(w http.ResponseWriter, status int, d ChangePasswordPage) error {
	return p.render(w, status, pageChangePassword, d.Locale, d)
}

// Consent writes the page that asks to let an application have scopes.
func (p *Pages) Consent(w http.ResponseWriter, status int, d ConsentPage) error {
	return p.render(w, status, pageConsent, d.Locale, d)
}

// LogoutConfirm writes the page that asks whether to sign out.
func (p *Pages) LogoutConfirm(w http.ResponseWriter, status int, d LogoutConfirmPage) error {
	return p.render(w, status, pageLogoutConfirm, d.Locale, d)
}

// SignedOut writes the page shown after signing out.
func (p *Pages) SignedOut(w http.ResponseWriter, status int, d SignedOutPage) error {
	return p.render(w, status, pageSignedOut, d.Locale, d)
}

// SignedIn writes the account page of a signed-in person.
func (p *Pages) SignedIn(w http.ResponseWriter, status int, d SignedInPage) error {
	return p.render(w, status, pageSignedIn, d.Locale, d)
}

// Error writes an error page: a title and a message from the catalogue,
// never a technical detail.
func (p *Pages) Error(w http.ResponseWriter, status int, d ErrorPage) error {
	d.Status = status
	return p.render(w, status, pageError, d.Locale, d)
}

// Message writes a page that tells something: a title and a message.
func (p *Pages) Message(w http.ResponseWriter, status int, d MessagePage) error {
	return p.render(w, status, pageMessage, d.Locale, d)
}

// ForgotPassword writes the form that asks for a reset link.
func (p *Pages) ForgotPassword(w http.ResponseWriter, status int, d ForgotPasswordPage) error {
	return p.render(w, status, pageForgotPassword, d.Locale, d)
}

// ResetPassword writes the form that an emailed reset link opens.
func (p *Pages) ResetPassword(w http.ResponseWriter, status int, d ResetPasswordPage) error {
	return p.render(w, status, pageResetPassword, d.Locale, d)
}

// TwoFactor writes the page that asks for the code of the second factor.
func (p *Pages) TwoFactor(w http.ResponseWriter, status int, d TwoFactorPage) error {
	return p.render(w, status, pageTwoFactor, d.Locale, d)
}

// TwoFactorSetup writes the enrolment of a second factor.
func (p *Pages) TwoFactorSetup(w http.ResponseWriter, status int, d TwoFactorSetupPage) error {
	return p.render(w, status, pageTwoFactorSetup, d.Locale, d)
}

// RecoveryCodes writes the page that shows the recovery codes once.
func (p *Pages) RecoveryCodes(w http.ResponseWriter, status int, d RecoveryCodesPage) error {
	return p.render(w, status, pageRecoveryCodes, d.Locale, d)
}

// Register writes the form that creates a customer's account.
func (p *Pages) Register(w http.ResponseWriter, status int, d RegisterPage) error {
	return p.render(w, status, pageRegister, d.Locale, d)
}

// Activate writes the page of an activation or invitation link.
func (p *Pages) Activate(w http.ResponseWriter, status int, d ActivatePage) error {
	return p.render(w, status, pageActivate, d.Locale, d)
}

// Pending writes the page of an account not activated yet.
func (p *Pages) Pending(w http.ResponseWriter, status int, d PendingPage) error {
	return p.render(w, status, pagePending, d.Locale, d)
}
