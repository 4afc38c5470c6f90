package flows_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
)

// The brand colour reaches the pages as a stylesheet of its own (the CSP
// forbids inline styles), with a readable text colour.
func TestBrandStylesheet(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		b := e.browser(t)
		if page := b.get("/institutions/opera/login"); strings.Contains(page.body, "brand.css") {
			t.Errorf("a page links a brand stylesheet without a colour:\n%s", page.body)
		}
		if css := b.get("/institutions/opera/brand.css"); css.status != http.StatusNotFound {
			t.Errorf("brand.css without a colour: %d", css.status)
		}
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Colour = "#FC0" })
		page := b.get("/institutions/opera/login")
		link := `<link rel="stylesheet" href="/institutions/opera/brand.css?v=`
		if !strings.Contains(page.body, link) || strings.Contains(page.body, "style=") {
			t.Errorf("page:\n%s", page.body)
		}
		css := b.get("/institutions/opera/brand.css")
		if css.status != http.StatusOK || css.header.Get("Content-Type") != "text/css; charset=utf-8" ||
			css.body != ":root{--brand:#ffcc00;--brand-text:#000000;--brand-ink:#1f4e8c}\n" {
			t.Errorf("brand.css: %d %q", css.status, css.body)
		}
		e.setSettings(t, e.opera, func(s *storage.Settings) { s.Colour = "#fff}body{display:none" })
		if css := b.get("/institutions/opera/brand.css"); css.status != http.StatusNotFound {
			t.Errorf("an invalid colour reached the stylesheet: %d %q", css.status, css.body)
		}
	})
}
