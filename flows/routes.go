package flows

import (
	"net/http"
	"net/url"

	"github.com/usher-idp/usher/storage"
)

// issuerPattern is the pattern of an institution's issuer path.
const issuerPattern = "/institutions/{slug}"

// Routes registers the pages on mux, under each institution's issuer path:
//
//	GET  /institutions/{slug}/login            the sign-in form (?return_to=)
//	POST /institutions/{slug}/login            email, password, return_to
//	GET  /institutions/{slug}/password/change  the forced change of a temporary password
//	POST /institutions/{slug}/password/change  password, password_confirm
//	GET  /institutions/{slug}/consent          asks consent for return_to's client and scopes
//	POST /institutions/{slug}/consent          consent=allow|deny, return_to
//	GET  /institutions/{slug}/logout           asks to confirm (or says signed out)
//	POST /institutions/{slug}/logout           signs out
//	GET  /institutions/{slug}/account          who is signed in
//	GET  /institutions/{slug}/brand.css        the brand colour, as a stylesheet
//
// Every POST goes through http.CrossOriginProtection (Sec-Fetch-Site, else
// Origin against Host; the origin of Sessions.PublicURL is trusted): a
// cross-site form gets a localized 403 page. An unknown institution gets a localized 404.
// Bodies are read up to 16 KiB.
func (x *Web) Routes(mux *http.ServeMux) {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(x.institution(x.crossSite))
	if origin := publicOrigin(x.Sessions.PublicURL); origin != "" {
		// Usher's own origin is same-origin even when a proxy rewrote Host.
		_ = csrf.AddTrustedOrigin(origin) // publicOrigin returns a valid one
	}
	get := func(path string, h handler) {
		mux.Handle("GET "+issuerPattern+path, x.institution(h))
	}
	post := func(path string, h handler) {
		mux.Handle("POST "+issuerPattern+path, csrf.Handler(x.institution(h)))
	}
	get("/login", x.getLogin)
	post("/login", x.postLogin)
	get("/password/change", x.getPasswordChange)
	post("/password/change", x.postPasswordChange)
	get("/consent", x.getConsent)
	post("/consent", x.postConsent)
	get("/logout", x.getLogout)
	post("/logout", x.postLogout)
	get("/account", x.getAccount)
	get("/brand.css", x.getBrandCSS)
}

// crossSite answers a POST that came from another site.
func (x *Web) crossSite(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	x.log().WarnContext(r.Context(), "cross-site form refused", "institution", inst.Slug, "path", r.URL.Path)
	x.Error(w, r, inst, http.StatusForbidden, "error.cross_site.title", "error.cross_site.message")
}

// publicOrigin is the origin ("https://id.example.org") of a public URL, or
// "" when it has none.
func publicOrigin(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
