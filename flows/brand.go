package flows

import (
	"io"
	"net/http"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// brandCSS writes the institution's brand stylesheet (see
// templates.BrandStylesheet: the pages' CSP forbids inline styles, so the
// colour travels as a stylesheet). Its URL carries the institution's
// version, so it is cached for a day.
func brandCSS(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	colour, ok := templates.ParseColour(inst.Settings.Colour)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = io.WriteString(w, templates.BrandStylesheet(colour))
}
