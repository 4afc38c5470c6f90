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

// The pages the provider sends browsers to, under the issuer. The
// authorization request is resumed by URL: return_to is the path and query of
// the authorization request to go back to, on this server; the page sends the
// browser there when it is done.
//
//	{issuer}/login?return_to=R    sign in, then go to R
//	{issuer}/consent?return_to=R  ask consent for R's client_id and scope;
//	                              then go to R, or to R&usher_consent=denied
//	{issuer}/logout               the signed-out page
//
// R's query carries the authorization request: client_id (whose account kind
// and name the page shows), scope, login_hint (the email to pre-fill) and
// ui_locales (the language to show).
const (
	pathLogin   = "/login"
	pathConsent = "/consent"
	pathLogout  = "/logout"

	// paramConsentDenied marks a return from the consent page where the
	// person said no: the provider answers the client access_denied.
	paramConsentDenied = "usher_consent"
)
