package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// usher institution update sets the branding: display name, a logo by URL
// or by file, the accent colour (refused, with the reason, when controls
// would fail WCAG AA contrast), the support link, the footer, the favicon;
// an empty value removes a setting.
func TestCLIInstitutionBranding(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := newTestCLI(t, db)
		tc.ok("", "migrate")
		tc.ok("", "institution", "create", "opera", "--name", "Opera")
		png, _ := base64.StdEncoding.DecodeString(
			"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
		logo := filepath.Join(t.TempDir(), "logo.png")
		if err := os.WriteFile(logo, png, 0o600); err != nil {
			t.Fatal(err)
		}
		var got institutionJSON
		tc.json(&got, "institution", "update", "opera", "--display-name", "City Opera", "--logo-file", logo,
			"--accent-color", "#8A1538", "--support-url", "https://opera.example/help", "--footer-text", "City Opera, Verona",
			"--favicon-file", logo, "--json")
		s := got.Settings
		if s.DisplayName != "City Opera" || len(s.Logo) != 64 || s.Favicon != s.Logo || s.Colour != "#8a1538" ||
			s.SupportURL != "https://opera.example/help" || s.FooterText != "City Opera, Verona" || s.LogoURL != "" {
			t.Errorf("branding not applied: %+v", s)
		}
		tc.fails("contrast of 1.51:1", "", "institution", "update", "opera", "--accent-color", "#ffcc00")
		tc.fails("https URL", "", "institution", "update", "opera", "--logo-url", "http://cdn.example/l.png")
		tc.fails("PNG, JPEG, GIF, WebP or SVG", "", "institution", "update", "opera", "--logo-file", "cli_test.go")
		tc.fails("no such file", "", "institution", "update", "opera", "--logo-file", "/nonexistent.png")
		var after institutionJSON
		tc.json(&after, "institution", "update", "opera", "--logo-url", "https://cdn.example/l.png", "--accent-color", "",
			"--favicon-file", "", "--json")
		if s := after.Settings; s.Logo != "" || s.LogoURL != "https://cdn.example/l.png" || s.Colour != "" || s.Favicon != "" {
			t.Errorf("a logo URL, an empty colour and an empty favicon: %+v", s)
		}
	})
}
