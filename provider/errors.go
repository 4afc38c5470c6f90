package provider

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"
)

// tenantHandler serves a request for one institution, with its provider.
type tenantHandler func(w http.ResponseWriter, r *http.Request, t *tenant)

// api serves an endpoint that applications call: h gets the provider of the
// institution named in the path; when there is none, the answer is a JSON
// error.
func (ts *tenants) api(h tenantHandler) http.Handler {
	return noting(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, ok := ts.orJSONError(w, r); ok {
			h(w, r, t)
		}
	}))
}

// browser is api for the endpoints browsers visit: the answer is an error
// page.
func (ts *tenants) browser(h tenantHandler) http.Handler {
	return noting(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, ok := ts.orPage(w, r); ok {
			h(w, r, t)
		}
	}))
}

// orJSONError resolves the request's institution, answering 404 (unknown
// institution) or 500 itself when it cannot.
func (ts *tenants) orJSONError(w http.ResponseWriter, r *http.Request) (*tenant, bool) {
	t, err := ts.forRequest(r)
	switch {
	case errors.Is(err, errNoInstitution):
		writeJSONError(w, http.StatusNotFound, "not_found", "No such institution.")
		return nil, false
	case unavailable(r.Context(), err):
		writeUnavailable(w, r)
		return nil, false
	case err != nil:
		ts.log.Error("institution provider", "slug", r.PathValue("slug"), "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "The server could not process the request.")
		return nil, false
	}
	return t, true
}

// writeJSONError writes an RFC 6749 style error object.
func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// safeDescription is an error description fit for a redirect: printable
// ASCII without " or \ (RFC 6749 §4.1.2.1).
func safeDescription(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\'')
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rfcError returns err as the RFC 6749 error a client sees. A failure that
// is none (a storage error the endpoint met itself, not through fosite) is
// server_error with err as its cause: fosite would answer it with the
// error code "error", which no client knows.
func rfcError(err error) *fosite.RFC6749Error {
	var e *fosite.RFC6749Error
	if !errors.As(err, &e) {
		return fosite.ErrServerError.WithWrap(err)
	}
	return fosite.ErrorToRFC6749Error(err)
}

// orPage is orJSONError for the endpoints browsers visit: it answers with an
// error page.
func (ts *tenants) orPage(w http.ResponseWriter, r *http.Request) (*tenant, bool) {
	t, err := ts.forRequest(r)
	switch {
	case errors.Is(err, errNoInstitution):
		ts.pages.Error(w, r, nil, http.StatusNotFound, "error.not_found.title", "error.not_found.message")
		return nil, false
	case unavailable(r.Context(), err):
		unavailablePage(w, r, ts.pages, nil)
		return nil, false
	case err != nil:
		ts.log.Error("institution provider", "slug", r.PathValue("slug"), "error", err)
		ts.pages.Error(w, r, nil, http.StatusInternalServerError, "error.internal.title", "error.internal.message")
		return nil, false
	}
	return t, true
}
