// Package issuer is the contract between the protocol (package provider) and
// the pages people see (package flows), which never import each other: the
// URLs by which an authorization request is resumed, who is signed in
// (SignedIn), and who calls the admin API with an access token (Caller,
// and the admin API's scopes).
//
// Every institution is its own issuer, {public_url}/institutions/{slug}. When
// the authorization endpoint needs a person (to sign in, to consent), it sends
// the browser to a page under the issuer with the authorization request to
// resume in ReturnToParam; the page sends the browser back there when it is
// done:
//
//	{issuer}/login?return_to=R    sign in, then go to R
//	{issuer}/consent?return_to=R  ask consent for R's client_id and scope;
//	                              then go to R, or to DeniedReturn(R)
//	{issuer}/logout               the signed-out page
//
// R is the path of the institution's authorization endpoint and the
// request's query: client_id (whose account kind and name the page shows),
// scope, login_hint (the email to pre-fill) and ui_locales (the language).
// It is at most MaxReturnTo bytes.
package issuer

// Pattern is the http.ServeMux pattern of an institution's issuer path.
const Pattern = "/institutions/{slug}"

// Path is the path of the issuer of the institution with this slug.
func Path(slug string) string { return "/institutions/" + slug }

// URL is the issuer of the institution with this slug.
func URL(publicURL, slug string) string { return publicURL + Path(slug) }

// Paths under the issuer.
const (
	AuthorizePath = "/oauth2/authorize" // the authorization endpoint, which return_to resumes
	LoginPath     = "/login"            // the sign-in page
	ConsentPath   = "/consent"          // the consent page
	LogoutPath    = "/logout"           // the sign-out page
)

// Parameters of the contract.
const (
	// ReturnToParam carries the authorization request a page resumes.
	ReturnToParam = "return_to"
	// ConsentDeniedParam is added to return_to, with the value
	// ConsentDeniedValue, when the person refuses consent: the provider
	// answers access_denied.
	ConsentDeniedParam = "usher_consent"
	ConsentDeniedValue = "denied"
)

// MaxReturnTo bounds a return_to: the provider refuses a longer
// authorization request at once (it could not be resumed), and the pages
// refuse a longer return_to.
const MaxReturnTo = 4096

// AuthorizeURL is the path of the institution's authorization endpoint, the
// start of every return_to.
func AuthorizeURL(slug string) string { return Path(slug) + AuthorizePath }

// DeniedReturn is where the consent page sends the browser when the person
// says no: the request, marked as denied.
func DeniedReturn(returnTo string) string {
	return returnTo + "&" + ConsentDeniedParam + "=" + ConsentDeniedValue
}
