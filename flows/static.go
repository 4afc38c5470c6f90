package flows

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Cache lifetimes of what the pages link to.
const (
	// cacheImmutable: a URL that carries the digest of its content.
	cacheImmutable = "public, max-age=31536000, immutable"
	// cacheShort: a URL whose content may change (a static file by its plain
	// name, /favicon.ico).
	cacheShort = "public, max-age=3600"
)

// assets serves the files the pages link to: Usher's own static files and
// favicon, and an institution's brand stylesheet, logo and favicon.
type assets struct{ site *Site }

// static serves the pages' static files (templates.Assets): by their
// hashed name for a year, by their plain name for an hour.
func (x assets) static(w http.ResponseWriter, r *http.Request) {
	f, immutable, ok := x.site.Pages.Assets().Find(r.PathValue("file"))
	if !ok {
		x.site.NotFound(w, r)
		return
	}
	cache := cacheShort
	if immutable {
		cache = cacheImmutable
	}
	serveBytes(w, r, f.ContentType, cache, f.Data)
}

// favicon answers /favicon.ico, which browsers ask for by themselves.
func (x assets) favicon(w http.ResponseWriter, r *http.Request) {
	f, _, _ := x.site.Pages.Assets().Find("favicon.ico")
	serveBytes(w, r, f.ContentType, cacheShort, f.Data)
}

// brandAsset serves the institution's uploaded logo or favicon (name) by
// the digest in its path, for a year; another digest is not found. Its
// content was checked when it was stored (no script in an SVG); it is sent
// with its content type, never sniffed, and a policy that runs nothing.
func (x assets) brandAsset(name string) page {
	return func(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
		if x.site.In == nil {
			x.site.NotFound(w, r)
			return
		}
		a, err := x.site.In(inst.ID).GetAsset(r.Context(), name)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && a.Digest != r.PathValue("digest")) {
			x.site.NotFound(w, r)
			return
		}
		if err != nil {
			x.site.fail(w, r, inst, err)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
		serveBytes(w, r, a.ContentType, cacheImmutable, a.Data)
	}
}

// serveBytes writes a file (HEAD, ranges and conditional requests
// included).
func serveBytes(w http.ResponseWriter, r *http.Request, contentType, cache string, data []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", cache)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// NotFound writes the localized 404 page, branded when the path is under
// an institution that exists.
func (s *Site) NotFound(w http.ResponseWriter, r *http.Request) {
	s.Error(w, r, s.pathInstitution(r), http.StatusNotFound, "error.not_found.title", "error.not_found.message")
}

// pathInstitution is the institution the path is under, or nil.
func (s *Site) pathInstitution(r *http.Request) *storage.Institution {
	slug := r.PathValue("slug")
	if slug == "" {
		slug = institutionSlugOf(r.URL.Path)
	}
	if !slugPattern.MatchString(slug) {
		return nil
	}
	inst, err := s.Institutions.GetInstitutionBySlug(r.Context(), slug)
	if err != nil {
		return nil
	}
	return inst
}

// RouterErrors answers what mux has no route for with Usher's localized
// pages: 404 when nothing is at the path, 405 (with its Allow header) when
// the path exists for other methods. Everything else goes to mux.
func (s *Site) RouterErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// No route: ask the mux's own answer which of 404 or 405 it is.
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status != http.StatusMethodNotAllowed {
			s.NotFound(w, r)
			return
		}
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.Error(w, r, s.pathInstitution(r), http.StatusMethodNotAllowed,
			"error.method_not_allowed.title", "error.method_not_allowed.message")
	})
}

// statusProbe is a ResponseWriter that keeps the status and headers only.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

// institutionSlugOf is the slug of a path under /institutions/, or "".
func institutionSlugOf(path string) string {
	rest, ok := strings.CutPrefix(path, issuer.Path(""))
	if !ok {
		return ""
	}
	slug, _, _ := strings.Cut(rest, "/")
	return slug
}

// brandCSS writes the institution's brand stylesheet (see
// templates.BrandStylesheet: the pages' CSP forbids inline styles, so the
// colour travels as a stylesheet). Its URL carries the institution's
// version, so it is cached for a day.
func (x assets) brandCSS(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	colour, ok := templates.ParseColour(inst.Settings.Colour)
	if !ok {
		x.site.NotFound(w, r)
		return
	}
	serveBytes(w, r, "text/css; charset=utf-8", "public, max-age=86400", []byte(templates.BrandStylesheet(colour)))
}
