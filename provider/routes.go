package provider

import (
	"net/http"
	"strings"

	"github.com/usher-idp/usher/internal/issuer"
)

// The endpoints under an institution's issuer. The authorization endpoint's
// path is part of the URL contract with the pages (issuer.AuthorizePath).
const (
	discoveryPath  = "/.well-known/openid-configuration"
	jwksPath       = "/jwks"
	authorizePath  = issuer.AuthorizePath
	tokenPath      = "/oauth2/token"
	introspectPath = "/oauth2/introspect"
	revokePath     = "/oauth2/revoke"
	userinfoPath   = "/oauth2/userinfo"
	logoutPath     = "/oauth2/logout"
)

// Routes registers every protocol endpoint on mux.
func (p *Provider) Routes(mux *http.ServeMux) {
	// api: endpoints applications call (errors in JSON); browser: endpoints
	// browsers visit (error pages).
	api, browser := p.tenants.api, p.tenants.browser
	handle := func(methods, path string, h http.Handler) {
		for _, m := range strings.Fields(methods) {
			mux.Handle(m+" "+issuer.Pattern+path, h)
		}
	}
	handle("GET", discoveryPath, api(serveDiscovery))
	handle("GET", jwksPath, api(serveJWKS))
	handle("GET POST", authorizePath, browser(p.authorize.serve))
	handle("POST", tokenPath, api(p.token.serve))
	handle("POST", introspectPath, api(introspect))
	handle("POST", revokePath, api(revoke))
	handle("GET POST", userinfoPath, api(p.userinfo.serve))
	handle("GET POST", logoutPath, browser(p.logout.serve))
}
