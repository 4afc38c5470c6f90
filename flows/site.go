package flows

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// maxFormBytes bounds the body of every form Usher's pages send.
const maxFormBytes = 16 << 10

// InstitutionFinder finds the institution a page's path names.
type InstitutionFinder interface {
	GetInstitutionBySlug(ctx context.Context, slug string) (*storage.Institution, error)
}

// Site is what every page handler shares: the institution a path names, the
// pages and their languages, the error pages and the log. Each handler holds
// it as a named field.
//
// With Error, *Site implements the provider's Pages interface, so the
// protocol side shows the same localized error pages.
type Site struct {
	Institutions InstitutionFinder
	// In is the view of one institution's records the frame of every page
	// reads: the client whose request a page belongs to ("Back to …"), the
	// institution's uploaded logo and favicon. cmd/usher wires
	// func(id string) flows.SiteStore { return store.In(id) }.
	In        func(institutionID string) SiteStore
	Pages     *templates.Pages
	Catalog   *templates.Catalog
	PublicURL string // its origin is trusted by the cross-site check of forms
	// ThrottleKey keys the throttle identities of emails (emailID): derived
	// from the master secret.
	ThrottleKey []byte
	Now         func() time.Time // nil: time.Now
	Log         *slog.Logger     // never given passwords, tokens, cookies or return_to queries; nil: discard
}

// SiteStore is what the frame of every page reads of an institution's
// records.
type SiteStore interface {
	clientGetter
	GetAsset(ctx context.Context, name string) (*storage.Asset, error)
}

// page is a handler of one institution's page.
type page func(w http.ResponseWriter, r *http.Request, inst *storage.Institution)

// institution resolves the {slug} of the path; an unknown institution gets
// the localized 404 page. A path segment that is no slug at all (say, with a
// NUL byte or invalid UTF-8, which PostgreSQL refuses to compare) names no
// institution and is not looked up.
func (s *Site) institution(h page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := storage.WithOutageNote(r.Context()) // read by fail
		r = r.WithContext(ctx)
		slug := r.PathValue("slug")
		var inst *storage.Institution
		err := storage.ErrNotFound
		if slugPattern.MatchString(slug) {
			inst, err = s.Institutions.GetInstitutionBySlug(r.Context(), slug)
		}
		if errors.Is(err, storage.ErrNotFound) {
			s.Error(w, r, nil, http.StatusNotFound, "error.not_found.title", "error.not_found.message")
			return
		}
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		s.rememberLanguage(w, r, inst)
		h(w, r, inst)
	}
}

func (s *Site) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Site) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// locale chooses the language of a page: the one the person chose with
// the language links (chosenLanguage), then the hints (ui_locales, the
// account's locale), then Accept-Language, then the institution's default.
func (s *Site) locale(r *http.Request, inst *storage.Institution, hints ...string) string {
	if chosen := s.chosenLanguage(r); chosen != "" {
		return chosen
	}
	accept := r.Header.Get("Accept-Language")
	if inst != nil {
		accept += ", " + inst.Settings.DefaultLocale() + ";q=0.001"
	}
	return s.Catalog.Negotiate(accept, hints...)
}

// frame is the part every page shares, in the language of the request:
// the institution's brand, the links to the page in other languages, and
// the way back to the application whose request the page belongs to (the
// return_to of the request, or the client_id of an authorization request).
func (s *Site) frame(r *http.Request, inst *storage.Institution, hints ...string) templates.Frame {
	f := s.bareFrame(r, inst, hints...)
	if inst != nil {
		f.Back = s.back(r, inst, requestClientID(r, inst.Slug))
	}
	return f
}

// bareFrame is frame without the way back.
func (s *Site) bareFrame(r *http.Request, inst *storage.Institution, hints ...string) templates.Frame {
	f := templates.FrameFor(inst, s.locale(r, inst, hints...))
	f.LanguageLinks = s.languages(r, inst, f.Locale)
	return f
}

// Error writes a localized error page: a title and a message of the
// catalogue, never a technical detail. The language follows the request's
// ui_locales, then Accept-Language.
func (s *Site) Error(w http.ResponseWriter, r *http.Request, inst *storage.Institution, status int, titleID, messageID string) {
	d := templates.ErrorPage{Frame: s.frame(r, inst, r.URL.Query().Get("ui_locales")), Title: titleID, Message: messageID}
	if inst != nil {
		d.Args = map[string]string{"institution": d.Brand.Name}
	}
	if err := s.Pages.Error(w, status, d); err != nil {
		s.log().ErrorContext(r.Context(), "error page", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(status), status)
	}
}

// fail logs an unexpected error and answers with the internal-error page;
// the person sees no detail.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, inst *storage.Institution, err error) {
	if errors.Is(err, storage.ErrUnavailable) || storage.NotedUnavailable(r.Context()) != nil {
		// The database did not answer: the store logs the outage, once.
		httpserver.Unavailable(w, r)
		s.Error(w, r, inst, http.StatusServiceUnavailable, "error.unavailable.title", "error.unavailable.message")
		return
	}
	s.log().ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	status, title, message := http.StatusInternalServerError, "error.internal.title", "error.internal.message"
	if errors.Is(err, password.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
		status, title, message = http.StatusServiceUnavailable, "error.busy.title", "password.busy"
	}
	s.Error(w, r, inst, status, title, message)
}

// render writes a page, logging a failure to draw it (the page is then the
// plain internal error: nothing was written yet).
func (s *Site) render(w http.ResponseWriter, r *http.Request, draw func() error) {
	if err := draw(); err != nil {
		s.log().ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// parseForm reads a POST body of at most maxFormBytes; on failure it has
// answered with the localized "form could not be read" page.
func (s *Site) parseForm(w http.ResponseWriter, r *http.Request, inst *storage.Institution) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	if err == nil {
		return true
	}
	status := http.StatusBadRequest
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	s.Error(w, r, inst, status, "error.bad_form.title", "error.bad_form.message")
	return false
}

// crossSite answers a POST that came from another site.
func (s *Site) crossSite(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	s.log().WarnContext(r.Context(), "cross-site form refused", "institution", inst.Slug, "path", r.URL.Path)
	s.Error(w, r, inst, http.StatusForbidden, "error.cross_site.title", "error.cross_site.message")
}

// redirect sends the browser to a path of this server with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// pagePath is the path of a page under the institution's issuer.
func pagePath(slug, page string) string { return issuer.Path(slug) + page }
