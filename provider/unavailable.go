package provider

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/storage"
)

// When the database does not answer (storage.ErrUnavailable), nothing is
// wrong with the request: every endpoint says so with a 503 and
// Retry-After, never with a protocol error that tells the client to give
// up. The outage itself is logged by the store, once, not per request.

// unavailable reports whether err, a failure, comes of a database that did
// not answer: err says so, or a storage call of the request did (fosite
// turns the errors of its storage into its own, or drops them).
func unavailable(ctx context.Context, err error) bool {
	return err != nil && (errors.Is(err, storage.ErrUnavailable) || storage.NotedUnavailable(ctx) != nil)
}

// errTemporarilyUnavailable is the RFC 6749 §4.1.2.1 error of an
// authorization request the server cannot serve for now.
var errTemporarilyUnavailable = fosite.ErrTemporarilyUnavailable.WithHint("Please try again in a moment.")

// writeUnavailable answers an endpoint that applications call: 503
// temporarily_unavailable with Retry-After.
func writeUnavailable(w http.ResponseWriter, r *http.Request) {
	httpserver.Unavailable(w, r)
	writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable",
		"The server is temporarily unable to handle the request. Retry later.")
}

// unavailablePage answers an endpoint browsers visit: the localized "try
// again in a moment" page, 503 with Retry-After.
func unavailablePage(w http.ResponseWriter, r *http.Request, pages Pages, inst *storage.Institution) {
	httpserver.Unavailable(w, r)
	pages.Error(w, r, inst, http.StatusServiceUnavailable, "error.unavailable.title", "error.unavailable.message")
}

// noting gives every request of h a storage.OutageNote, read by unavailable.
func noting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := storage.WithOutageNote(r.Context())
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
