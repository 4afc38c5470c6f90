package admin

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// brandingView is the institution's branding as the API shows it: what
// PATCH settings changes (its branding member), and the addresses where
// Usher serves the uploaded logo and favicon (PUT and DELETE
// settings/logo and settings/favicon change them), null when none.
type brandingView struct {
	DisplayName        string  `json:"display_name"`
	LogoURL            string  `json:"logo_url"`
	AccentColor        string  `json:"accent_color"`
	SupportURL         string  `json:"support_url"`
	FooterText         string  `json:"footer_text"`
	UploadedLogoURL    *string `json:"uploaded_logo_url"`
	UploadedFaviconURL *string `json:"uploaded_favicon_url"`
}

// viewBranding is the branding of inst; publicURL makes the addresses of
// the uploaded images absolute.
func viewBranding(inst *storage.Institution, publicURL string) brandingView {
	s := inst.Settings
	uploaded := func(name, digest string) *string {
		if digest == "" {
			return nil
		}
		u := publicURL + templates.BrandAssetPath(inst.Slug, name, digest)
		return &u
	}
	return brandingView{DisplayName: s.DisplayName, LogoURL: s.LogoURL, AccentColor: s.Colour, SupportURL: s.SupportURL,
		FooterText: s.FooterText, UploadedLogoURL: uploaded(storage.AssetLogo, s.Logo),
		UploadedFaviconURL: uploaded(storage.AssetFavicon, s.Favicon)}
}

// brandingMembers are the members of PATCH settings' branding object:
// flows.InstitutionChanges checks them as it checks the command line's
// flags. An empty string removes the setting.
func brandingMembers(ch *flows.InstitutionChanges) members {
	return members{"display_name": &ch.DisplayName, "logo_url": &ch.LogoURL, "accent_color": &ch.AccentColour,
		"support_url": &ch.SupportURL, "footer_text": &ch.FooterText}
}

// imageTypes are the Content-Types an uploaded image may be sent as: the
// types the command line's --logo-file and --favicon-file accept (the
// content decides what is stored: flows checks it).
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"image/svg+xml": true}

// iconTypes are the Content-Types a favicon may be sent as besides.
var iconTypes = map[string]bool{"image/x-icon": true, "image/vnd.microsoft.icon": true}

// putImage: PUT settings/logo or settings/favicon with the image as the
// body. The size is bounded before anything is read (413), the type must
// be an image's (415); what is not a valid image of an accepted type is
// refused (400) and nothing changes. 200 with the settings after the
// change.
func (h settingsRoutes) putImage(name string) handler {
	limit := flows.BrandImageLimit(name)
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || !(imageTypes[t] || (name == storage.AssetFavicon && iconTypes[t])) {
			h.api.problem(w, r, c, problem{status: http.StatusUnsupportedMediaType, detail: "admin.image_media_type"})
			return
		}
		data, ok := h.readImage(w, r, c, limit)
		if !ok {
			return
		}
		ch := flows.InstitutionChanges{Logo: data}
		if name == storage.AssetFavicon {
			ch = flows.InstitutionChanges{Favicon: data}
		}
		h.changeSettings(w, r, c, ch)
	}
}

// readImage reads an uploaded image of at most limit bytes, answering
// itself a body too large (413, before reading it when Content-Length
// says so) or empty (400).
func (h settingsRoutes) readImage(w http.ResponseWriter, r *http.Request, c *call, limit int) ([]byte, bool) {
	tooLarge := problem{status: http.StatusRequestEntityTooLarge, detail: "admin.body_too_large",
		args: map[string]string{"max": strconv.Itoa(limit)}}
	if r.ContentLength > int64(limit) {
		h.api.problem(w, r, c, tooLarge)
		return nil, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		h.api.problem(w, r, c, tooLarge)
		return nil, false
	case err != nil || len(data) == 0:
		h.api.invalid(w, r, c, []flows.Problem{{ID: "institution.image_invalid",
			Args: map[string]string{"max": strconv.Itoa(limit>>10) + " KiB"}}})
		return nil, false
	}
	return data, true
}

// deleteImage: DELETE settings/logo or settings/favicon removes the
// uploaded image (and, for the logo, a logo URL: the pages then show the
// name). It takes no input. 200 with the settings after the change.
func (h settingsRoutes) deleteImage(name string) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		if !h.api.decode(w, r, c, members{}) {
			return
		}
		none := ""
		ch := flows.InstitutionChanges{Logo: []byte{}, LogoURL: &none}
		if name == storage.AssetFavicon {
			ch = flows.InstitutionChanges{Favicon: []byte{}}
		}
		h.changeSettings(w, r, c, ch)
	}
}

// changeSettings applies ch, recorded as the call's actor, and answers
// the settings after it (or the refusal: nothing changed).
func (h settingsRoutes) changeSettings(w http.ResponseWriter, r *http.Request, c *call, ch flows.InstitutionChanges) {
	inst := c.inst
	if ch.Empty() && !h.api.recordRead(w, r, c, "", "settings_viewed", nil) { // nothing to change: a read
		return
	}
	if !ch.Empty() {
		var err error
		if inst, err = h.api.settings.Update(r.Context(), c.inst.Slug, ch, c.actor()); err != nil {
			h.api.fail(w, r, c, renameFields(err, settingFields))
			return
		}
	}
	writeJSON(w, r, http.StatusOK, h.viewSettings(inst))
}

// BodyLimit is the body limit of the requests that upload an image (PUT
// {issuer}/admin/v1/settings/logo or …/favicon), larger than the server's
// limit for every other request, and 0 for the others: cmd/usher gives it
// to httpserver.LimitBodyPer. The route bounds the body itself too.
func (a *API) BodyLimit(r *http.Request) int64 {
	if r.Method != http.MethodPut {
		return 0
	}
	rest, ok := strings.CutPrefix(r.URL.Path, issuer.Path(""))
	if !ok {
		return 0
	}
	_, op, _ := strings.Cut(rest, "/")
	switch "/" + op {
	case pathPrefix + "/settings/" + storage.AssetLogo:
		return int64(flows.BrandImageLimit(storage.AssetLogo))
	case pathPrefix + "/settings/" + storage.AssetFavicon:
		return int64(flows.BrandImageLimit(storage.AssetFavicon))
	}
	return 0
}
