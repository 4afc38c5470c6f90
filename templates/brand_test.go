package templates

import (
	"reflect"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
)

func TestParseColour(t *testing.T) {
	for s, ok := range map[string]bool{"#1a2b3c": true, "#fff": true, "#FFF": true, "1a2b3c": false, "#12345": false,
		"#1a2b3g": false, "red": false, "#fff;}body{": false, "": false, "#+1+2+3": false} {
		if _, got := ParseColour(s); got != ok {
			t.Errorf("ParseColour(%q) = %v", s, got)
		}
	}
	if c, _ := ParseColour("#FC0"); c.String() != "#ffcc00" {
		t.Errorf("#FC0 = %s", c)
	}
}

// The text on the brand colour, and the brand colour as text, stay
// readable (WCAG AA, 4.5:1).
func TestBrandStylesheetIsReadable(t *testing.T) {
	if c := contrast(Colour{0, 0, 0}, Colour{255, 255, 255}); c < 20.9 || c > 21.1 {
		t.Errorf("black on white: %v", c)
	}
	for _, tt := range []struct{ colour, want string }{
		{"#1a2b3c", ":root{--brand:#1a2b3c;--brand-text:#ffffff;--brand-ink:#1a2b3c}\n"},
		{"#ffcc00", ":root{--brand:#ffcc00;--brand-text:#000000;--brand-ink:#1f4e8c}\n"},
		{"#777777", ":root{--brand:#777777;--brand-text:#000000;--brand-ink:#1f4e8c}\n"},
	} {
		c, _ := ParseColour(tt.colour)
		if got := BrandStylesheet(c); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.colour, got, tt.want)
		}
	}
	for r := 0; r < 256; r += 15 {
		for g := 0; g < 256; g += 15 {
			for b := 0; b < 256; b += 15 {
				c := Colour{uint8(r), uint8(g), uint8(b)}
				css := BrandStylesheet(c)
				text := Colour{}
				if strings.Contains(css, "--brand-text:#ffffff") {
					text = Colour{255, 255, 255}
				}
				if contrast(c, text) < 4.5 {
					t.Fatalf("%s: text unreadable (%v)", c, contrast(c, text))
				}
			}
		}
	}
}

func TestFrameFor(t *testing.T) {
	inst := &storage.Institution{Slug: "opera", Name: "Opera", Version: 7, Settings: storage.DefaultSettings()}
	inst.Settings.LogoURL = "javascript:alert(1)"
	f := FrameFor(inst, "fr")
	if f.Brand.Name != "Opera" || f.Brand.LogoURL != "" || f.Brand.Stylesheet != "" || f.Base != "/institutions/opera" || f.Locale != "fr" {
		t.Errorf("frame %+v", f)
	}
	inst.Settings.DisplayName, inst.Settings.LogoURL, inst.Settings.Colour = "City Opera", "https://cdn.example/l.png", "#123"
	f = FrameFor(inst, "fr")
	if f.Brand.Name != "City Opera" || f.Brand.LogoURL != "https://cdn.example/l.png" ||
		f.Brand.Stylesheet != "/institutions/opera/brand.css?v=7" {
		t.Errorf("frame %+v", f)
	}
	if f := FrameFor(nil, "de"); !reflect.DeepEqual(f, Frame{Locale: "de"}) {
		t.Errorf("frame of no institution %+v", f)
	}
}
