package flows

import (
	"net/http"
	"net/url"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Handlers are the pages of every flow, as cmd/usher builds them.
type Handlers struct {
	Site           *Site
	SignIn         *SignIn
	PasswordChange *PasswordChange
	Consent        *Consent
	Logout         *Logout
	Account        *AccountPage
	Recovery       *Recovery
	TwoFactor      *TwoFactor
	Registration   *Registration
	Activation     *Activation
}

// Routes registers the pages on mux, under each institution's issuer path:
//
//	GET  /institutions/{slug}/login            the sign-in form (?return_to=)
//	POST /institutions/{slug}/login            email, password, return_to
//	GET  /institutions/{slug}/login/2fa        the code of the second factor (?return_to= for a step-up)
//	POST /institutions/{slug}/login/2fa        code or recovery_code, return_to
//	GET  /institutions/{slug}/2fa/setup        enrolment: QR code, key (?return_to=)
//	POST /institutions/{slug}/2fa/setup        code, return_to: then the recovery codes, once
//	GET  /institutions/{slug}/password/change  the forced change of a temporary password
//	POST /institutions/{slug}/password/change  password, password_confirm
//	GET  /institutions/{slug}/consent          asks consent for return_to's client and scopes
//	POST /institutions/{slug}/consent          consent=allow|deny, return_to
//	GET  /institutions/{slug}/logout           asks to confirm (or says signed out)
//	POST /institutions/{slug}/logout           signs out
//	GET  /institutions/{slug}/password/forgot  asks for the email to send a reset link to (?return_to=)
//	POST /institutions/{slug}/password/forgot  email, return_to: the same answer whether or not the account exists
//	GET  /institutions/{slug}/password/reset   the form an emailed link opens (?token=); consumes nothing
//	POST /institutions/{slug}/password/reset   token, password, password_confirm: sets the password, signs in
//	GET  /institutions/{slug}/register         a customer creates an account (?return_to=)
//	POST /institutions/{slug}/register         email, given_name, family_name, locale, password, password_confirm
//	GET  /institutions/{slug}/activate         the page an activation or invitation link opens (?token=)
//	POST /institutions/{slug}/activate         token (and, invited, password, password_confirm): activates, signs in
//	GET  /institutions/{slug}/activate/resend  a pending account that gave its password
//	POST /institutions/{slug}/activate/resend  sends its activation email again
//	GET  /institutions/{slug}/account          who is signed in, the second factor, the browsers signed in
//	POST /institutions/{slug}/account/password         current_password, password, password_confirm
//	POST /institutions/{slug}/account/recovery-codes   new recovery codes, shown once
//	POST /institutions/{slug}/account/2fa/disable      turns the second factor off (when not required)
//	POST /institutions/{slug}/account/sessions/end     signs out of every browser
//	GET  /institutions/{slug}/brand.css        the brand colour, as a stylesheet
//	GET  /institutions/{slug}/logo/{digest}    the uploaded logo (a year's cache: the digest is its content's)
//	GET  /institutions/{slug}/favicon/{digest} the uploaded favicon
//	GET  /static/{file}                        the pages' stylesheet and favicon (a year's cache by hashed name)
//	GET  /favicon.ico                          Usher's favicon
//
// Every page takes ?lang=en|fr|de|it (the language switch, language.go).
// Every POST goes through http.CrossOriginProtection (Sec-Fetch-Site, else
// Origin against Host; the origin of Site.PublicURL is trusted): a
// cross-site form gets a localized 403 page. An unknown institution gets a
// localized 404. Bodies are read up to 16 KiB.
func (h *Handlers) Routes(mux *http.ServeMux) {
	site := h.Site
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(site.institution(site.crossSite))
	if origin := publicOrigin(site.PublicURL); origin != "" {
		// Usher's own origin is same-origin even when a proxy rewrote Host.
		_ = csrf.AddTrustedOrigin(origin) // publicOrigin returns a valid one
	}
	get := func(path string, p page) {
		mux.Handle("GET "+issuer.Pattern+path, site.institution(p))
	}
	post := func(path string, p page) {
		mux.Handle("POST "+issuer.Pattern+path, csrf.Handler(site.institution(p)))
	}
	get(issuer.LoginPath, h.SignIn.getLogin)
	post(issuer.LoginPath, h.SignIn.postLogin)
	get(issuer.TwoFactorPath, h.TwoFactor.getChallenge)
	post(issuer.TwoFactorPath, h.TwoFactor.postChallenge)
	get(issuer.EnrolmentPath, h.TwoFactor.getSetup)
	post(issuer.EnrolmentPath, h.TwoFactor.postSetup)
	get("/password/change", h.PasswordChange.get)
	post("/password/change", h.PasswordChange.post)
	get(issuer.ConsentPath, h.Consent.get)
	post(issuer.ConsentPath, h.Consent.post)
	get(issuer.LogoutPath, h.Logout.get)
	post(issuer.LogoutPath, h.Logout.post)
	get("/password/forgot", h.Recovery.getForgot)
	post("/password/forgot", h.Recovery.postForgot)
	get("/password/reset", h.Recovery.getReset)
	post("/password/reset", h.Recovery.postReset)
	get("/register", h.Registration.get)
	post("/register", h.Registration.post)
	get("/activate", h.Activation.get)
	post("/activate", h.Activation.post)
	get(activationResendPath, h.Activation.getPending)
	post(activationResendPath, h.Activation.postResend)
	get("/account", h.Account.get)
	post("/account/password", h.Account.postPassword)
	post("/account/recovery-codes", h.Account.postRecoveryCodes)
	post("/account/2fa/disable", h.Account.postDisableTwoFactor)
	post("/account/sessions/end", h.Account.postEndSessions)
	files := assets{site}
	get("/brand.css", files.brandCSS)
	get("/"+storage.AssetLogo+"/{digest}", files.brandAsset(storage.AssetLogo))
	get("/"+storage.AssetFavicon+"/{digest}", files.brandAsset(storage.AssetFavicon))
	mux.HandleFunc("GET "+templates.StaticPrefix+"{file}", files.static)
	mux.HandleFunc("GET /favicon.ico", files.favicon)
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
