package provider

import (
	"net/http"

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
	under := func(method, path string) string { return method + " " + issuer.Pattern + path }
	mux.HandleFunc(under("GET", discoveryPath), p.discovery.document)
	mux.HandleFunc(under("GET", jwksPath), p.discovery.keys)
	mux.Handle(under("GET", authorizePath), p.authorize)
	mux.Handle(under("POST", authorizePath), p.authorize)
	mux.Handle(under("POST", tokenPath), p.token)
	mux.HandleFunc(under("POST", introspectPath), p.tokens.introspect)
	mux.HandleFunc(under("POST", revokePath), p.tokens.revoke)
	mux.Handle(under("GET", userinfoPath), p.userinfo)
	mux.Handle(under("POST", userinfoPath), p.userinfo)
	mux.Handle(under("GET", logoutPath), p.logout)
	mux.Handle(under("POST", logoutPath), p.logout)
}
