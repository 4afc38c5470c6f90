package flows_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// onePixelPNG is a 1×1 PNG.
var onePixelPNG, _ = base64.StdEncoding.DecodeString(
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

// An uploaded logo is stored with the settings that name it, served by its
// digest for a year with its content type, shown on the pages; a logo URL
// replaces it; another digest is not found.
func TestBrandLogoUpload(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		b := e.browser(t)
		inst, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{Logo: onePixelPNG}, flows.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		path := "/institutions/opera/logo/" + inst.Settings.Logo
		page := b.get("/institutions/opera/login")
		if !strings.Contains(page.body, `<img class="logo" src="`+path+`" alt="">`) {
			t.Errorf("the page does not show the uploaded logo:\n%s", page.body)
		}
		logo := b.get(path)
		if logo.status != http.StatusOK || logo.header.Get("Content-Type") != "image/png" ||
			logo.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || logo.body != string(onePixelPNG) {
			t.Errorf("logo: %d %v", logo.status, logo.header)
		}
		if !strings.Contains(logo.header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("logo CSP %q", logo.header.Get("Content-Security-Policy"))
		}
		if old := b.get("/institutions/opera/logo/0123"); old.status != http.StatusNotFound || !strings.Contains(old.body, "<html") {
			t.Errorf("another digest: %d %.200s", old.status, old.body)
		}
		u := "https://cdn.example/opera.png"
		if inst, err = f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{LogoURL: &u}, flows.ActorCLI); err != nil {
			t.Fatal(err)
		}
		if inst.Settings.Logo != "" || !strings.Contains(b.get("/institutions/opera/login").body, `src="`+u+`"`) {
			t.Errorf("a logo URL does not replace the upload: %+v", inst.Settings)
		}
		if _, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{Favicon: onePixelPNG}, flows.ActorCLI); err != nil {
			t.Fatal(err)
		}
		if inst, err = f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{Favicon: []byte{}}, flows.ActorCLI); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.In(inst.ID).GetAsset(f.ctx, storage.AssetFavicon); inst.Settings.Favicon != "" || err == nil {
			t.Errorf("an empty favicon does not remove it: %q, %v", inst.Settings.Favicon, err)
		}
	})
}

// Branding that would break the pages is refused with the reason, and
// nothing is changed.
func TestBrandRefusesBadSettings(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.institution(t, "opera")
		for _, tt := range []struct {
			name string
			ch   flows.InstitutionChanges
			want string
		}{
			{"light colour", flows.InstitutionChanges{AccentColour: ptr("#ffcc00")}, "contrast of 1.51:1"},
			{"no colour", flows.InstitutionChanges{AccentColour: ptr("gold")}, "#RRGGBB"},
			{"http logo", flows.InstitutionChanges{LogoURL: ptr("http://cdn.example/l.png")}, "https URL"},
			{"javascript support", flows.InstitutionChanges{SupportURL: ptr("javascript:alert(1)")}, "https URL"},
			{"footer on two lines", flows.InstitutionChanges{FooterText: ptr("a\nb")}, "one line"},
			{"big logo", flows.InstitutionChanges{Logo: bytes.Repeat([]byte{0}, 300<<10)}, "at most 256 KiB"},
			{"not an image", flows.InstitutionChanges{Logo: []byte("%PDF-1.4")}, "PNG, JPEG, GIF, WebP or SVG"},
			{"svg script", flows.InstitutionChanges{Logo: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}, "<script>"},
			{"svg handler", flows.InstitutionChanges{Logo: []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)}, "event handler"},
			{"svg link", flows.InstitutionChanges{Logo: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>`)}, "outside the file"},
			{"svg entity", flows.InstitutionChanges{Logo: []byte(`<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>`)}, "DOCTYPE"},
			{"svg import", flows.InstitutionChanges{Logo: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css);</style></svg>`)}, "outside the file"},
			{"svg foreign", flows.InstitutionChanges{Logo: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe/></foreignObject></svg>`)}, "foreignObject"},
		} {
			_, err := f.institutions.Update(f.ctx, "opera", tt.ch, flows.ActorCLI)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
			}
		}
		inst, _ := f.store.GetInstitutionBySlug(f.ctx, "opera")
		if inst.Version != 1 {
			t.Errorf("a refused change changed the institution (version %d)", inst.Version)
		}
		safe := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><defs><linearGradient id="g"/></defs>` +
			`<style>rect{fill:url(#g)}</style><rect width="4" height="4"/><use href="#g"/></svg>`)
		if _, err := f.institutions.Update(f.ctx, "opera", flows.InstitutionChanges{Logo: safe, AccentColour: ptr("#8A1538")}, flows.ActorCLI); err != nil {
			t.Errorf("a safe SVG and a dark colour: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Every page of a client's request leads back to the client's registered
// home page, never to an address of the request; the signed-out page
// offers the points of sale.
func TestWaysBack(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.pointOfSale(t, e.opera)
		b := e.browser(t)
		back := `<p class="back"><a href="https://shop.example/">`
		rt := returnTo("opera", "pos")
		for _, path := range []string{"/login", "/password/forgot", "/register"} {
			page := b.get("/institutions/opera" + path + "?return_to=" + url.QueryEscape(rt))
			if strings.Count(page.body, back) != 1 {
				t.Errorf("%s: no way back to the point of sale:\n%s", path, page.body)
			}
		}
		// The provider's error page of an authorization request: back to the
		// client's home page, never to the redirect_uri it sent.
		authorize := &http.Request{Method: http.MethodGet, Header: http.Header{},
			URL: &url.URL{Path: "/institutions/opera/oauth2/authorize", RawQuery: "client_id=pos&redirect_uri=https%3A%2F%2Fevil.example%2F"}}
		rec := httptest.NewRecorder()
		e.site.Error(rec, authorize, e.opera, http.StatusBadRequest, "error.oauth.title", "error.oauth.redirect_uri")
		if body := rec.Body.String(); !strings.Contains(body, back) || strings.Contains(body, "evil.example") || strings.Contains(body, "lang=de") {
			t.Errorf("the authorization error page:\n%s", body)
		}
		if page := b.get("/institutions/opera/login?return_to=" + url.QueryEscape(returnTo("opera", shopID))); strings.Contains(page.body, `class="back"`) {
			t.Errorf("a client without a home page has a way back:\n%s", page.body)
		}
		e.customer(t, e.opera, "ann@example.org")
		b.signIn("opera", "ann@example.org", goodPassword, "")
		out := b.post("/institutions/opera/logout", url.Values{})
		if !strings.Contains(out.body, `<li><a href="https://shop.example/">`+e.message("en", "reset.continue_to", map[string]string{"place": "Opera Tickets"})) {
			t.Errorf("the signed-out page does not offer the point of sale:\n%s", out.body)
		}
	})
}

// The language links keep the request in progress, and the choice holds
// for the institution's next pages (a cookie), over ui_locales.
func TestLanguageSwitch(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		b := e.browser(t)
		rt := returnTo("opera", shopID, "ui_locales", "fr")
		login := "/institutions/opera/login?return_to=" + url.QueryEscape(rt)
		page := b.get(login)
		de := "/institutions/opera/login?" + url.Values{"lang": {"de"}, "return_to": {rt}}.Encode()
		if !strings.Contains(page.body, `<html lang="fr">`) ||
			!strings.Contains(page.body, `<a href="`+strings.ReplaceAll(de, "&", "&amp;")+`" hreflang="de" lang="de">Deutsch</a>`) {
			t.Fatalf("no link to the page in German keeping the request:\n%s", page.body)
		}
		if page := b.get(de); !strings.Contains(page.body, `<html lang="de">`) || !strings.Contains(page.body, `name="return_to" value="/institutions/opera/oauth2/authorize?client_id=shop&amp;`) {
			t.Errorf("?lang=de:\n%s", page.body)
		}
		if page := b.get(login); !strings.Contains(page.body, `<html lang="de">`) {
			t.Errorf("the choice is not remembered over ui_locales:\n%.300s", page.body)
		}
		if page := b.post("/institutions/opera/login", url.Values{"return_to": {rt}}); !strings.Contains(page.body, `<html lang="de">`) ||
			!strings.Contains(page.body, strings.ReplaceAll(de, "&", "&amp;")) {
			t.Errorf("after a form: %.2000s", page.body)
		}
		if page := b.get("/institutions/opera/login?lang=xx"); !strings.Contains(page.body, `<html lang="de">`) {
			t.Errorf("an unknown language replaced the choice:\n%.300s", page.body)
		}
	})
}

// What the router has no route for gets Usher's localized pages: 404, and
// 405 with its Allow header, branded under an institution.
func TestRouterErrorPages(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /only-get", func(w http.ResponseWriter, r *http.Request) {})
		(&flows.Handlers{Site: e.site}).Routes(mux)
		srv := e.site.RouterErrors(mux)
		for _, tt := range []struct {
			method, path, lang string
			status             int
			want               string
		}{
			{"GET", "/nowhere", "fr", http.StatusNotFound, e.message("fr", "error.not_found.title", nil)},
			{"GET", "/institutions/opera/nowhere", "de", http.StatusNotFound, "Institution opera"},
			{"POST", "/only-get", "it", http.StatusMethodNotAllowed, e.message("it", "error.method_not_allowed.title", nil)},
			{"DELETE", "/institutions/opera/login", "en", http.StatusMethodNotAllowed, "Institution opera"},
			{"GET", "/static/nothing.css", "en", http.StatusNotFound, e.message("en", "error.not_found.title", nil)},
		} {
			req, _ := http.NewRequest(tt.method, tt.path, nil)
			req.Header.Set("Accept-Language", tt.lang)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, `<html lang="`+tt.lang+`">`) || !strings.Contains(body, tt.want) ||
				rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("%s %s: %d %v\n%s", tt.method, tt.path, rec.Code, rec.Header(), body)
			}
			if tt.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Errorf("%s %s: no Allow header", tt.method, tt.path)
			}
		}
	})
}

// The static files are linked by a hashed name, cached for a year; the
// plain name still answers for an hour; /favicon.ico answers.
func TestStaticFiles(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		b := e.browser(t)
		css := e.site.Pages.Assets().URL("usher.css")
		if !strings.Contains(b.get("/institutions/opera/login").body, `href="`+css+`"`) || css == "/static/usher.css" {
			t.Fatalf("the page does not link %s", css)
		}
		for path, cache := range map[string]string{css: "public, max-age=31536000, immutable",
			"/static/usher.css": "public, max-age=3600", "/favicon.ico": "public, max-age=3600",
			e.site.Pages.Assets().URL("favicon.svg"): "public, max-age=31536000, immutable"} {
			got := b.get(path)
			if got.status != http.StatusOK || got.header.Get("Cache-Control") != cache || got.body == "" {
				t.Errorf("%s: %d %q", path, got.status, got.header.Get("Cache-Control"))
			}
		}
	})
}
