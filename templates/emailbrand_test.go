package templates

import (
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
)

// The HTML emails carry the institution's branding, as its pages do: its
// logo (the uploaded one from Usher's public URL), its accent on buttons
// and links, its support link and footer text; the text part stays plain.
func TestEmailBrand(t *testing.T) {
	e, _ := newTestEmails(t)
	inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
	inst.Settings.Logo, inst.Settings.Colour = "d1g35t", "#8a1538"
	inst.Settings.SupportURL, inst.Settings.FooterText = "https://opera.example/help", "Opera, 1 Stage St <Verona>"
	frame := sampleFrame("fr")
	frame.Brand = EmailBrandFor(inst, "https://id.example.org")
	r, err := e.Render(frame, SampleEmail(ClassPasswordReset, "https://id.example.org/institutions/opera"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<img src="https://id.example.org/institutions/opera/logo/d1g35t" alt=""`,
		"background-color:#8a1538;color:#ffffff;", "color:#8a1538;word-break:break-all",
		`<a href="https://opera.example/help" style="color:#18181b">Aide et assistance</a>`,
		"Opera, 1 Stage St &lt;Verona&gt;"} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("no %q in\n%s", want, r.HTML)
		}
	}
	if strings.Contains(r.HTML, defaultEmailAccent) || strings.Contains(r.Text, "<img") {
		t.Errorf("the default accent, or markup in the text:\n%s\n%s", r.HTML, r.Text)
	}
	// An accent that reads on white only as a background: black text on
	// it, links in the default accent.
	inst.Settings.Colour = "#8a8d93"
	b := EmailBrandFor(inst, "")
	if b.AccentText != "#000000" || b.LinkColour != defaultEmailAccent || b.LogoURL != "" {
		t.Errorf("brand %+v", b)
	}
}
