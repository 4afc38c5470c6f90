package templates

import (
	"regexp"
	"testing"
)

// cssColours are the custom properties of usher.css's :root that hold a
// colour.
func cssColours(t *testing.T) map[string]Colour {
	t.Helper()
	css, err := staticFiles.ReadFile("static/usher.css")
	if err != nil {
		t.Fatal(err)
	}
	colours := map[string]Colour{}
	for _, m := range regexp.MustCompile(`(--[a-z-]+):\s*(#[0-9a-fA-F]{3,6})\s*;`).FindAllStringSubmatch(string(css), -1) {
		c, ok := ParseColour(m[2])
		if !ok {
			t.Fatalf("usher.css: %s: %s is no colour", m[1], m[2])
		}
		colours[m[1]] = c
	}
	return colours
}

// Non-text contrast (WCAG 2.2 AA, 1.4.11, which axe does not test): the
// borders of inputs, the focus ring and the buttons have 3:1 against every
// background they are drawn on; the error border too.
func TestNonTextContrast(t *testing.T) {
	c := cssColours(t)
	for _, tt := range []struct{ what, fg, bg string }{
		{"input border on the content", "--line", "--surface"},
		{"input border on the page", "--line", "--page"},
		{"focus ring on the content", "--focus", "--surface"},
		{"focus ring on the page", "--focus", "--page"},
		{"invalid input border", "--danger", "--surface"},
		{"button on the content", "--brand", "--surface"},
		{"button text", "--brand-text", "--brand"},
	} {
		fg, okF := c[tt.fg]
		bg, okB := c[tt.bg]
		if !okF || !okB {
			t.Fatalf("%s: usher.css defines no %s or %s", tt.what, tt.fg, tt.bg)
		}
		if r := contrast(fg, bg); r < 3 {
			t.Errorf("%s: %s %s on %s %s is %.2f:1, want 3:1", tt.what, tt.fg, fg, tt.bg, bg, r)
		}
	}
	for _, tt := range []struct{ what, fg, bg string }{
		{"text", "--text", "--surface"}, {"muted text", "--muted", "--surface"},
		{"muted text on the page", "--muted", "--page"}, {"links", "--brand-ink", "--surface"},
	} {
		if r := contrast(c[tt.fg], c[tt.bg]); r < 4.5 {
			t.Errorf("%s: %s on %s is %.2f:1, want 4.5:1", tt.what, tt.fg, tt.bg, r)
		}
	}
}

// An accent colour is refused when buttons in it would not stand out on
// white (3:1), with the reason; an accepted one keeps every brand colour
// of BrandStylesheet readable.
func TestCheckAccent(t *testing.T) {
	for s, ok := range map[string]bool{"#1f4e8c": true, "#000": true, "#767676": true, "#ffcc00": false,
		"#fff": false, "#c4c6cc": false, "#8a8d93": true, "#e4002b": true} {
		c, _ := ParseColour(s)
		err := CheckAccent(c)
		if (err == nil) != ok {
			t.Errorf("CheckAccent(%s) = %v", s, err)
		}
		if err != nil && !regexp.MustCompile(`contrast of [0-9.]+:1 .*3:1`).MatchString(err.Error()) {
			t.Errorf("CheckAccent(%s): the reason %q does not give the contrast", s, err)
		}
	}
	for r := 0; r < 256; r += 17 {
		for g := 0; g < 256; g += 17 {
			for b := 0; b < 256; b += 17 {
				c := Colour{uint8(r), uint8(g), uint8(b)}
				if CheckAccent(c) != nil {
					continue
				}
				if contrast(c, white) < 3 {
					t.Fatalf("%s accepted with %.2f:1", c, contrast(c, white))
				}
			}
		}
	}
}
