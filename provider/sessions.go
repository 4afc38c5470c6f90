package provider

import (
	"net/http"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// Sessions is how the provider learns who is signed in. The browser sessions
// of package flows implement it; cmd/usher wires the two together, and the
// two packages never import each other.
type Sessions interface {
	// Authenticated returns who is signed in at the institution in the
	// browser of r, or nil.
	Authenticated(r *http.Request, inst *storage.Institution) (*issuer.SignedIn, error)
	// SignOut ends the browser's session at the institution, everywhere
	// (the record is deleted) and in the browser (the cookie is cleared).
	SignOut(w http.ResponseWriter, r *http.Request, inst *storage.Institution) error
}
