package flows

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"github.com/usher-idp/usher/storage"
)

// Uploaded brand images: bounded in size and dimensions, of a type every
// browser shows, and never an SVG that could run anything (no script, no
// event handler, no reference outside the file).
const (
	maxLogoBytes    = 256 << 10
	maxFaviconBytes = 64 << 10
	maxImageSide    = 4096
)

// BrandImageLimit is the size limit of an uploaded brand image
// (storage.AssetLogo or storage.AssetFavicon) in bytes, 0 for another
// name: what reads an upload stops there, and Institutions.Update refuses
// more.
func BrandImageLimit(name string) int {
	switch name {
	case storage.AssetLogo:
		return maxLogoBytes
	case storage.AssetFavicon:
		return maxFaviconBytes
	}
	return 0
}

// brandImage is an uploaded logo or favicon, checked.
type brandImage struct {
	contentType string
	data        []byte
	digest      string // hex SHA-256 of data, in the image's URL
}

// digestOrNone is the image's digest, "" for none (a removal).
func (img *brandImage) digestOrNone() string {
	if img == nil {
		return ""
	}
	return img.digest
}

// checkBrandImage checks an uploaded image (what: "logo" or "favicon").
func checkBrandImage(what string, data []byte, maxBytes int, icon bool) (brandImage, error) {
	if len(data) == 0 {
		return brandImage{}, fmt.Errorf("%s: the file is empty", what)
	}
	if len(data) > maxBytes {
		return brandImage{}, fmt.Errorf("%s: at most %d KiB, got %d KiB", what, maxBytes>>10, (len(data)+1023)>>10)
	}
	contentType, err := imageType(data, icon)
	if err != nil {
		return brandImage{}, fmt.Errorf("%s: %w", what, err)
	}
	sum := sha256.Sum256(data)
	return brandImage{contentType: contentType, data: data, digest: hex.EncodeToString(sum[:])}, nil
}

// imageType is the content type of an image Usher accepts: PNG, JPEG, GIF,
// WebP, a safe SVG, and (icon) an ICO.
func imageType(data []byte, icon bool) (string, error) {
	decoders := []struct {
		magic       string
		contentType string
		config      func(io.Reader) (image.Config, error)
	}{
		{"\x89PNG\r\n\x1a\n", "image/png", png.DecodeConfig},
		{"\xff\xd8\xff", "image/jpeg", jpeg.DecodeConfig},
		{"GIF87a", "image/gif", gif.DecodeConfig},
		{"GIF89a", "image/gif", gif.DecodeConfig},
	}
	for _, d := range decoders {
		if !bytes.HasPrefix(data, []byte(d.magic)) {
			continue
		}
		c, err := d.config(bytes.NewReader(data))
		if err != nil {
			return "", fmt.Errorf("not a valid %s image: %w", d.contentType, err)
		}
		if c.Width < 1 || c.Height < 1 || c.Width > maxImageSide || c.Height > maxImageSide {
			return "", fmt.Errorf("%dx%d pixels: each side must be 1 to %d", c.Width, c.Height, maxImageSide)
		}
		return d.contentType, nil
	}
	switch {
	case len(data) > 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp", nil
	case icon && bytes.HasPrefix(data, []byte{0, 0, 1, 0}):
		return "image/vnd.microsoft.icon", nil
	case looksLikeSVG(data):
		if err := checkSVG(data); err != nil {
			return "", err
		}
		return "image/svg+xml", nil
	}
	return "", errors.New("use a PNG, JPEG, GIF, WebP or SVG image")
}

func looksLikeSVG(data []byte) bool {
	head := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf")
	return bytes.HasPrefix(head, []byte("<")) && bytes.Contains(data, []byte("<svg"))
}

// svgRefused are the SVG elements that can run script, embed other
// documents or change a link as it animates.
var svgRefused = map[string]bool{"script": true, "foreignobject": true, "iframe": true, "embed": true,
	"object": true, "audio": true, "video": true, "handler": true, "listener": true, "set": true,
	"animate": true, "animatemotion": true, "animatetransform": true, "discard": true}

// checkSVG refuses an SVG that could run or load anything: a DOCTYPE (and
// its entities), processing instructions, the elements of svgRefused,
// event handler attributes, links and url() that leave the file.
func checkSVG(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	root := true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if root {
				return errors.New("the SVG has no <svg> element")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("the SVG does not parse: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errors.New("the SVG has a DOCTYPE or an entity: remove it")
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("the SVG has a processing instruction <?%s?>: remove it", t.Target)
			}
		case xml.StartElement:
			if root && t.Name.Local != "svg" {
				return fmt.Errorf("the root element is <%s>, not <svg>", t.Name.Local)
			}
			root = false
			if err := checkSVGElement(t); err != nil {
				return err
			}
		case xml.CharData:
			if leavesFile(string(t)) {
				return errors.New("the SVG's style loads something from outside the file: remove it")
			}
		}
	}
}

func checkSVGElement(t xml.StartElement) error {
	name := strings.ToLower(t.Name.Local)
	if svgRefused[name] {
		return fmt.Errorf("the SVG has a <%s> element, which could run or load something: remove it", t.Name.Local)
	}
	for _, a := range t.Attr {
		key := strings.ToLower(a.Name.Local)
		switch {
		case strings.HasPrefix(key, "on"):
			return fmt.Errorf("the SVG has an event handler (%s): remove it", a.Name.Local)
		case key == "href" || key == "src":
			if !strings.HasPrefix(strings.TrimSpace(a.Value), "#") {
				return fmt.Errorf("the SVG links outside the file (%s=%q): keep only links within it (#id)", a.Name.Local, a.Value)
			}
		case leavesFile(a.Value):
			return fmt.Errorf("the SVG's %s loads something from outside the file: remove it", a.Name.Local)
		}
	}
	return nil
}

// leavesFile reports whether a style or attribute value loads or runs
// something: url() other than #id, @import, javascript:.
func leavesFile(v string) bool {
	v = strings.ToLower(strings.Join(strings.Fields(v), ""))
	if strings.Contains(v, "@import") || strings.Contains(v, "javascript:") || strings.Contains(v, "expression(") {
		return true
	}
	for rest := v; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return false
		}
		rest = strings.TrimLeft(rest[i+4:], `"'`)
		if !strings.HasPrefix(rest, "#") {
			return true
		}
	}
}
