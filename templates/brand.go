package templates

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// FrameFor is the frame of an institution's pages in a locale: its display
// name (or name), its logo (the one Usher serves, else an https URL: the
// pages' CSP allows no other remote image), its favicon, its brand
// stylesheet when it has a valid colour, its support link and footer text,
// and its issuer path. A nil institution (an unknown slug) gets a bare
// frame.
func FrameFor(inst *storage.Institution, locale string) Frame {
	f := Frame{Locale: locale}
	if inst == nil {
		return f
	}
	f.Base = issuer.Path(inst.Slug)
	set := inst.Settings
	f.Brand.Name = inst.ShownName()
	switch {
	case set.Logo != "":
		f.Brand.LogoURL = BrandAssetPath(inst.Slug, storage.AssetLogo, set.Logo)
	case httpsURL(set.LogoURL):
		f.Brand.LogoURL = set.LogoURL
	}
	if set.Favicon != "" {
		f.Brand.FaviconURL = BrandAssetPath(inst.Slug, storage.AssetFavicon, set.Favicon)
	}
	if httpsURL(set.SupportURL) {
		f.Brand.SupportURL = set.SupportURL
	}
	f.Brand.FooterText = set.FooterText
	if _, ok := ParseColour(set.Colour); ok {
		f.Brand.Stylesheet = f.Base + "/brand.css?v=" + strconv.FormatInt(inst.Version, 10)
	}
	return f
}

// The emails' default accent: buttons and links when the institution sets
// no colour.
const defaultEmailAccent = "#1d4ed8"

// EmailBrandFor is the branding of the institution's HTML emails: its
// logo (the uploaded one at publicURL, or its https URL), accent colour,
// support link and footer text, as on its pages.
func EmailBrandFor(inst *storage.Institution, publicURL string) EmailBrand {
	b := EmailBrand{Accent: defaultEmailAccent, AccentText: "#ffffff", LinkColour: defaultEmailAccent}
	if inst == nil {
		return b
	}
	set := inst.Settings
	switch {
	case set.Logo != "" && publicURL != "":
		b.LogoURL = publicURL + BrandAssetPath(inst.Slug, storage.AssetLogo, set.Logo)
	case httpsURL(set.LogoURL):
		b.LogoURL = set.LogoURL
	}
	if c, ok := ParseColour(set.Colour); ok {
		b.Accent, b.AccentText, b.LinkColour = c.String(), "#ffffff", c.String()
		if contrast(c, white) < 4.5 {
			b.AccentText, b.LinkColour = "#000000", defaultEmailAccent
		}
	}
	if httpsURL(set.SupportURL) {
		b.SupportURL = set.SupportURL
	}
	b.FooterText = set.FooterText
	return b
}

// The styles of layout.html's "action" template, in the default accent.
// The template is called with the link and its label only (overrides call
// it too), so the institution's accent is painted over them once the HTML
// part is drawn.
const (
	emailButtonStyle = "background-color:" + defaultEmailAccent + ";color:#ffffff;"
	emailLinkStyle   = "color:" + defaultEmailAccent + ";"
)

// paint gives the buttons and links of an HTML email drawn by the layout
// the brand's accent colour.
func (b EmailBrand) paint(html string) string {
	if b.Accent == "" || b.Accent == defaultEmailAccent {
		return html
	}
	return strings.NewReplacer(
		emailButtonStyle, "background-color:"+b.Accent+";color:"+b.AccentText+";",
		emailLinkStyle, "color:"+b.LinkColour+";",
	).Replace(html)
}

// BrandAssetPath is the path under which Usher serves an institution's
// uploaded logo or favicon: the digest of its content is in the path, so it
// may be cached for a year.
func BrandAssetPath(slug, name, digest string) string {
	return issuer.Path(slug) + "/" + name + "/" + digest
}

// httpsURL reports whether s is an https URL short enough to show.
func httpsURL(s string) bool { return strings.HasPrefix(s, "https://") && len(s) <= 2048 }

// The brand colour. The pages' Content-Security-Policy forbids inline
// styles, so a colour cannot be written into a page; an institution with a
// colour gets a tiny stylesheet of its own ({issuer}/brand.css, served by
// package flows) that sets the custom properties usher.css uses. Its URL
// carries the institution's version, so it may be cached: another colour is
// another URL.

// Colour is an sRGB colour.
type Colour [3]uint8

// ParseColour parses "#rgb" or "#rrggbb"; nothing else reaches a stylesheet.
func ParseColour(s string) (Colour, bool) {
	hex, ok := strings.CutPrefix(s, "#")
	if !ok || (len(hex) != 3 && len(hex) != 6) {
		return Colour{}, false
	}
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var c Colour
	for i := range c {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			return Colour{}, false
		}
		c[i] = uint8(v)
	}
	return c, true
}

// String is the colour as "#rrggbb".
func (c Colour) String() string { return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2]) }

// defaultInk is usher.css's own brand colour, used for text when the
// institution's colour is too light to read on white.
const defaultInk = "#1f4e8c"

// BrandStylesheet is the stylesheet of a brand colour: the colour itself
// (--brand, for borders and button backgrounds), the text on it
// (--brand-text, black or white, whichever reads better) and the colour of
// links and secondary buttons on white (--brand-ink: the brand colour when
// it meets WCAG AA contrast for text, else the default).
func BrandStylesheet(c Colour) string {
	text, ink := "#ffffff", c.String()
	if contrast(c, Colour{255, 255, 255}) < 4.5 {
		text, ink = "#000000", defaultInk
	}
	return ":root{--brand:" + c.String() + ";--brand-text:" + text + ";--brand-ink:" + ink + "}\n"
}

// White is the background of the pages' content and of the emails.
var white = Colour{255, 255, 255}

// ContrastError tells why an accent colour is refused.
type ContrastError struct {
	Colour Colour
	Ratio  float64 // its contrast with white
}

func (e *ContrastError) Error() string {
	return fmt.Sprintf("%s has a contrast of %.2f:1 with the white page: buttons and borders in it would not "+
		"stand out (WCAG 2.2 AA asks 3:1 for controls, 1.4.11); choose a darker colour", e.Colour, e.Ratio)
}

// CheckAccent refuses an accent colour that would make controls fail WCAG
// AA: buttons are filled with it on white, so it needs a contrast of 3:1
// with white. The text drawn on it (black or white, whichever reads
// better) then always has 4.5:1, and links take it only where it has 4.5:1
// with white (BrandStylesheet).
func CheckAccent(c Colour) error {
	if r := contrast(c, white); r < 3 {
		return &ContrastError{Colour: c, Ratio: r}
	}
	return nil
}

// Contrast is the WCAG contrast ratio of two colours, from 1 to 21.
func Contrast(a, b Colour) float64 { return contrast(a, b) }

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b Colour) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG relative luminance of a colour.
func luminance(c Colour) float64 {
	var l [3]float64
	for i, v := range c {
		s := float64(v) / 255
		if s <= 0.04045 {
			l[i] = s / 12.92
		} else {
			l[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}
