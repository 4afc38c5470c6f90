package flows

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// refuser records a refused change: its field and message (the admin API
// lists them) and an English line (the command line prints it).
type refuser func(field, id string, args map[string]string, line error)

// validateBrand checks the branding texts, links and colour.
func (ch InstitutionChanges) validateBrand(refuse refuser) {
	text := func(field, what string, v *string, max int) {
		if v != nil && (len(*v) > max || strings.IndexFunc(*v, unicode.IsControl) >= 0) {
			refuse(field, "institution.text_invalid", map[string]string{"max": strconv.Itoa(max)},
				fmt.Errorf("%s: at most %d bytes on one line", what, max))
		}
	}
	text("display_name", "display name", ch.DisplayName, 200)
	text("footer_text", "footer text", ch.FooterText, 300)
	link := func(field, what string, v *string) {
		if v == nil || *v == "" {
			return
		}
		if u, err := url.Parse(*v); err != nil || u.Scheme != "https" || u.Host == "" || len(*v) > 2048 {
			refuse(field, "institution.https_url_invalid", nil,
				fmt.Errorf("%s: an https URL of at most 2048 bytes, got %q", what, *v))
		}
	}
	link("logo_url", "logo URL", ch.LogoURL)
	link("support_url", "support URL", ch.SupportURL)
	if ch.LogoURL != nil && *ch.LogoURL != "" && len(ch.Logo) > 0 {
		refuse("logo", "institution.logo_url_or_file", nil, errors.New("logo: give a URL or a file, not both"))
	}
	if ch.AccentColour != nil && *ch.AccentColour != "" {
		if c, ok := templates.ParseColour(*ch.AccentColour); !ok {
			refuse("accent_colour", "institution.colour_invalid", nil,
				fmt.Errorf("accent colour: use #RRGGBB, got %q", *ch.AccentColour))
		} else if err := templates.CheckAccent(c); err != nil {
			refuse("accent_colour", "institution.accent_contrast", nil, fmt.Errorf("accent colour: %w", err))
		}
	}
}

// checkImages checks the uploaded logo and favicon and returns them by
// asset name (nil: removed).
func (ch InstitutionChanges) checkImages(refuse refuser) map[string]*brandImage {
	images := map[string]*brandImage{}
	for _, u := range []struct {
		name string
		data []byte
		icon bool
	}{{storage.AssetLogo, ch.Logo, false}, {storage.AssetFavicon, ch.Favicon, true}} {
		limit := BrandImageLimit(u.name)
		switch {
		case u.data == nil:
		case len(u.data) == 0:
			images[u.name] = nil
		default:
			img, err := checkBrandImage(u.name, u.data, limit, u.icon)
			if err != nil {
				refuse(u.name, "institution.image_invalid", map[string]string{"max": strconv.Itoa(limit>>10) + " KiB"}, err)
				continue
			}
			images[u.name] = &img
		}
	}
	return images
}

// storeImages writes the uploaded images (nil: removes them).
func storeImages(ctx context.Context, s InstitutionRecords, images map[string]*brandImage) error {
	for name, img := range images {
		var err error
		if img == nil {
			err = s.DeleteAsset(ctx, name)
			if errors.Is(err, storage.ErrNotFound) {
				err = nil
			}
		} else {
			err = s.PutAsset(ctx, &storage.Asset{Name: name, ContentType: img.contentType, Data: img.data, Digest: img.digest})
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// applyBrand changes the branding settings.
func (ch InstitutionChanges) applyBrand(s *storage.Settings, images map[string]*brandImage) {
	set(&s.DisplayName, ch.DisplayName)
	set(&s.SupportURL, ch.SupportURL)
	set(&s.FooterText, ch.FooterText)
	if ch.AccentColour != nil {
		s.Colour = ""
		if c, ok := templates.ParseColour(*ch.AccentColour); ok {
			s.Colour = c.String()
		}
	}
	if ch.LogoURL != nil {
		s.LogoURL, s.Logo = *ch.LogoURL, ""
	}
	if img, ok := images[storage.AssetLogo]; ok {
		s.Logo = img.digestOrNone()
		if s.Logo != "" {
			s.LogoURL = ""
		}
	}
	if img, ok := images[storage.AssetFavicon]; ok {
		s.Favicon = img.digestOrNone()
	}
}
