package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// The box office brands the institution through the admin API
// (settings:write), checked as the command line's flags are: a colour and
// texts through PATCH settings, a logo and a favicon uploaded as the body
// of PUT settings/logo and settings/favicon, served by Usher. The sign-in
// page then shows them; reading the settings shows them; each change is
// audited with the operator as its actor.
func TestE2EAdminBranding(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		op, token := u.operatorToken(u.inst, "op@example.org")
		api := u.adminOf(u.inst, token)

		got := api.want("branding", api.call(http.MethodPatch, "/settings", map[string]any{"branding": map[string]any{
			"display_name": "City Opera", "accent_color": "#8A1538", "support_url": "https://opera.example/help",
			"footer_text": "City Opera, Verona"}}), http.StatusOK)
		if b := branding(got); b["display_name"] != "City Opera" || b["accent_color"] != "#8a1538" ||
			b["support_url"] != "https://opera.example/help" || b["footer_text"] != "City Opera, Verona" ||
			b["logo_url"] != "" || b["uploaded_logo_url"] != nil || b["uploaded_favicon_url"] != nil {
			t.Errorf("after PATCH branding: %s", got.raw)
		}
		// A logo larger than the server's limit of other bodies (64 KiB),
		// within the logo's (256 KiB).
		logo := noisePNG(t, 160)
		if len(logo) <= maxBodyBytes || len(logo) > 256<<10 {
			t.Fatalf("the test logo has %d bytes", len(logo))
		}
		got = api.want("upload the logo", api.upload(http.MethodPut, "/settings/logo", "image/png", logo), http.StatusOK)
		logoURL, _ := branding(got)["uploaded_logo_url"].(string)
		if !strings.HasPrefix(logoURL, u.url+issuer.Path(u.inst.Slug)+"/logo/") {
			t.Fatalf("uploaded logo at %q: %s", logoURL, got.raw)
		}
		got = api.want("upload the favicon", api.upload(http.MethodPut, "/settings/favicon", "image/svg+xml",
			[]byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" fill="#8a1538"/></svg>`)),
			http.StatusOK)
		faviconURL, _ := branding(got)["uploaded_favicon_url"].(string)
		if read := api.call(http.MethodGet, "/settings", nil); read.raw != got.raw {
			t.Errorf("settings read back: %s, want %s", read.raw, got.raw)
		}

		// The sign-in page shows them: the logo and favicon served by
		// Usher, the colour in the page's brand stylesheet.
		page := u.signInPage(t)
		logoPath, faviconPath := strings.TrimPrefix(logoURL, u.url), strings.TrimPrefix(faviconURL, u.url)
		for _, want := range []string{`<img class="logo" src="` + logoPath + `"`, `<link rel="icon" href="` + faviconPath + `"`,
			`<p class="name">City Opera</p>`, "City Opera, Verona", `href="https://opera.example/help"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the sign-in page lacks %s:\n%s", want, page)
			}
		}
		css := brandStylesheet.FindStringSubmatch(page)
		if css == nil {
			t.Fatalf("the sign-in page links no brand stylesheet:\n%s", page)
		}
		if resp, body := rawGet(t, u.url+htmlUnescape(css[1])); resp.StatusCode != http.StatusOK || !strings.Contains(body, "--brand:#8a1538") {
			t.Errorf("brand stylesheet: %d %q", resp.StatusCode, body)
		}
		if resp, body := rawGet(t, logoURL); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" ||
			body != string(logo) {
			t.Errorf("the logo: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if resp, _ := rawGet(t, faviconURL); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" {
			t.Errorf("the favicon: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}

		// Removed, they are gone from the settings, the page and the URL.
		got = api.want("remove the favicon", api.call(http.MethodDelete, "/settings/favicon", nil), http.StatusOK)
		if b := branding(got); b["uploaded_favicon_url"] != nil || b["uploaded_logo_url"] != logoURL {
			t.Errorf("after DELETE favicon: %s", got.raw)
		}
		got = api.want("remove the logo", api.call(http.MethodDelete, "/settings/logo", nil), http.StatusOK)
		if b := branding(got); b["uploaded_logo_url"] != nil || b["logo_url"] != "" {
			t.Errorf("after DELETE logo: %s", got.raw)
		}
		if page := u.signInPage(t); strings.Contains(page, `class="logo"`) || strings.Contains(page, faviconPath) {
			t.Errorf("the sign-in page still shows the removed logo or favicon:\n%s", page)
		}
		if resp, _ := rawGet(t, logoURL); resp.StatusCode != http.StatusNotFound {
			t.Errorf("the removed logo: %d", resp.StatusCode)
		}

		events, err := u.a.store.In(u.inst.ID).ListAudit(context.Background(), storage.AuditFilter{Action: "settings_changed"})
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, e := range events {
			if e.Actor != "operator:"+op.ID {
				t.Errorf("settings changed by %q, want the operator", e.Actor)
			}
			changes = append(changes, e.Details["changed"])
		}
		for _, want := range []string{"display_name accent_colour support_url footer_text", "logo", "favicon"} {
			if !slices.Contains(changes, want) {
				t.Errorf("no settings_changed event of %q in %q", want, changes)
			}
		}
	})
}

// Refused branding changes nothing: a colour that fails contrast (the
// reason in the caller's language, beside the other refused values), an
// http link, an upload too large (refused before it is read), not an
// image, empty, or not sent as an image; and a token without
// settings:write may not brand.
func TestE2EAdminBrandingRefused(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		_, token := u.operatorToken(u.inst, "op@example.org")
		api := u.adminOf(u.inst, token)
		logo := noisePNG(t, 8)
		api.want("brand", api.call(http.MethodPatch, "/settings", map[string]any{"branding": map[string]any{
			"accent_color": "#1f4e8c", "footer_text": "Opera"}}), http.StatusOK)
		api.want("upload a logo", api.upload(http.MethodPut, "/settings/logo", "image/png", logo), http.StatusOK)
		before := api.want("settings", api.call(http.MethodGet, "/settings", nil), http.StatusOK)
		unchanged := func(what string) {
			t.Helper()
			if after := api.call(http.MethodGet, "/settings", nil); after.raw != before.raw {
				t.Errorf("%s changed the settings: %s, was %s", what, after.raw, before.raw)
			}
		}

		req, _ := http.NewRequest(http.MethodPatch, api.base+"/settings", strings.NewReader(
			`{"branding": {"accent_color": "#ffcc00", "footer_text": "Yellow", "support_url": "http://opera.example/"},
			  "manual_password": true}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", "fr")
		r := api.do(req)
		wantProblem(t, "a colour that fails contrast", r, http.StatusBadRequest, "invalid-input",
			"branding.support_url:institution.https_url_invalid", "branding.accent_color:institution.accent_contrast")
		if msg := r.raw; !strings.Contains(msg, "WCAG") || !strings.Contains(msg, "couleur") {
			t.Errorf("the reason is not given in French: %s", msg)
		}
		unchanged("a colour that fails contrast")
		wantProblem(t, "a colour that is none", api.call(http.MethodPatch, "/settings", `{"branding": {"accent_color": "red"}}`),
			http.StatusBadRequest, "invalid-input", "branding.accent_color:institution.colour_invalid")
		wantProblem(t, "a member branding does not have", api.call(http.MethodPatch, "/settings",
			`{"branding": {"logo": "x", "display_name": 5}}`), http.StatusBadRequest, "invalid-input",
			"branding.display_name:admin.field_type", "branding.logo:admin.field_unknown")

		for _, c := range []struct {
			what, path, contentType string
			body                    []byte
			status                  int
			kind                    string
			errors                  []string
		}{
			{"a logo too large", "/settings/logo", "image/png", append(bytes.Clone(logo), make([]byte, 256<<10)...), 413, "", nil},
			{"a favicon too large", "/settings/favicon", "image/png", append(bytes.Clone(logo), make([]byte, 64<<10)...), 413, "", nil},
			{"not an image", "/settings/logo", "image/png", []byte("\x89PNG\r\n\x1a\nnot really"), 400, "invalid-input",
				[]string{":institution.image_invalid"}},
			{"a script in an SVG", "/settings/favicon", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
				400, "invalid-input", []string{":institution.image_invalid"}},
			{"empty", "/settings/logo", "image/png", nil, 400, "invalid-input", []string{":institution.image_invalid"}},
			{"not sent as an image", "/settings/logo", "text/plain", logo, 415, "", nil},
			{"an icon as a logo", "/settings/logo", "image/x-icon", logo, 415, "", nil},
		} {
			wantProblem(t, c.what, api.upload(http.MethodPut, c.path, c.contentType, c.body), c.status, c.kind, c.errors...)
			unchanged(c.what)
		}
		// Too large without a Content-Length: refused as it is read.
		req, _ = http.NewRequest(http.MethodPut, api.base+"/settings/logo", io.MultiReader(bytes.NewReader(logo),
			bytes.NewReader(make([]byte, 300<<10))))
		req.Header.Set("Content-Type", "image/png")
		req.ContentLength = -1
		wantProblem(t, "a logo too large, chunked", api.do(req), http.StatusRequestEntityTooLarge, "")
		unchanged("a logo too large, chunked")

		_, readOnly := u.serviceToken(u.inst, issuer.ScopeAccountsRead, issuer.ScopeAccountsWrite)
		other := u.adminOf(u.inst, readOnly)
		for _, r := range []apiResponse{
			other.call(http.MethodPatch, "/settings", map[string]any{"branding": map[string]any{"accent_color": "#000000"}}),
			other.upload(http.MethodPut, "/settings/logo", "image/png", noisePNG(t, 4)),
			other.call(http.MethodDelete, "/settings/logo", nil),
			other.call(http.MethodDelete, "/settings/favicon", nil),
		} {
			wantProblem(t, "without settings:write", r, http.StatusForbidden, "")
		}
		if b := branding(other.call(http.MethodGet, "/settings", nil)); b["accent_color"] != "#1f4e8c" || b["uploaded_logo_url"] == nil {
			t.Errorf("the branding read without settings:write: %v", b)
		}
		unchanged("a token without settings:write")
	})
}

// upload sends body with this Content-Type and decodes the JSON answer.
func (c *adminClient) upload(method, path, contentType string, body []byte) apiResponse {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return c.do(req)
}

// branding is the branding member of a settings answer.
func branding(r apiResponse) map[string]any {
	b, _ := r.body["branding"].(map[string]any)
	return b
}

// signInPage is the sign-in page a shop's customer meets.
func (u *usherServer) signInPage(t *testing.T) string {
	t.Helper()
	id, secret := u.shop()
	resp, body := newBrowser(t).open(newRP(t, u.issuer, id, secret).authURL(newFlow()))
	if !onSignInPage(resp) {
		t.Fatalf("not the sign-in page: %d %s", resp.StatusCode, resp.Request.URL)
	}
	return body
}

// noisePNG is a PNG of side × side random pixels: about 4 bytes a pixel,
// as noise does not compress.
func noisePNG(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range side {
		for x := range side {
			img.Set(x, y, color.NRGBA{uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32()), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// brandStylesheet finds the link of a page to its brand stylesheet.
var brandStylesheet = regexp.MustCompile(`<link rel="stylesheet" href="([^"]*/brand\.css[^"]*)">`)
