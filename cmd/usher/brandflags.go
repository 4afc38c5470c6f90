package main

import (
	"fmt"
	"io"
	"os"

	"github.com/usher-idp/usher/flows"
)

// brandOptions are the branding flags of `usher institution update`. An
// empty value removes the setting (an empty --logo-file or --favicon-file
// the uploaded image).
type brandOptions struct {
	displayName, logoURL, logoFile, faviconFile, accent, supportURL, footer *string
}

func brandFlags(fs *flags) *brandOptions {
	return &brandOptions{
		displayName: fs.String("display-name", "", "the name the pages and emails show"),
		logoURL:     fs.String("logo-url", "", "an https URL of the logo"),
		logoFile:    fs.String("logo-file", "", "a logo to upload: PNG, JPEG, GIF, WebP or SVG, at most 256 KiB"),
		faviconFile: fs.String("favicon-file", "", "a favicon to upload: ICO, PNG or SVG, at most 64 KiB"),
		accent:      fs.String("accent-color", "", "the accent colour, '#RRGGBB' (refused when controls would fail WCAG AA contrast)"),
		supportURL:  fs.String("support-url", "", "an https link to the institution's help, at the foot of pages and emails"),
		footer:      fs.String("footer-text", "", "a line at the foot of pages and emails"),
	}
}

// changes adds the flags given to ch, reading the uploaded files.
func (o *brandOptions) changes(fs *flags, ch *flows.InstitutionChanges) error {
	given := func(name string, v *string) *string {
		if fs.isSet(name) {
			return v
		}
		return nil
	}
	ch.DisplayName, ch.LogoURL = given("display-name", o.displayName), given("logo-url", o.logoURL)
	ch.AccentColour, ch.SupportURL = given("accent-color", o.accent), given("support-url", o.supportURL)
	ch.FooterText = given("footer-text", o.footer)
	var err error
	if ch.Logo, err = readUpload(given("logo-file", o.logoFile)); err != nil {
		return fmt.Errorf("--logo-file: %w", err)
	}
	if ch.Favicon, err = readUpload(given("favicon-file", o.faviconFile)); err != nil {
		return fmt.Errorf("--favicon-file: %w", err)
	}
	return nil
}

// readUpload reads an image to upload: nil when the flag was not given,
// empty (a removal) for an empty path.
func readUpload(path *string) ([]byte, error) {
	switch {
	case path == nil:
		return nil, nil
	case *path == "":
		return []byte{}, nil
	}
	f, err := os.Open(*path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Past any limit: flows refuses it, saying the limit.
	return io.ReadAll(io.LimitReader(f, 1<<20))
}
