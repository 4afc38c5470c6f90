package provider

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/usher-idp/usher/storage"
)

// Grant types a client may use.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// DefaultScopes are a new client's scopes unless it names others.
var defaultScopes = []string{"openid", "email", "profile", "offline_access"}

// ClientSpec describes a client to register.
type ClientSpec struct {
	ID                     string // "" generates one
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string // nil: authorization_code and refresh_token
	Scopes                 []string // nil: openid email profile offline_access
	Public                 bool     // no secret; PKCE required
	FirstParty             bool     // no consent screen
	PointOfSale            bool
	HomeURL                string
	AccountKind            storage.AccountKind // "": customers
	RequireTwoFactor       bool
	Introspection          bool   // a resource server: may introspect any token of the institution
	DisablePKCE            bool   // confidential clients that cannot send PKCE
	IDTokenAlg             string // "": RS256; also the algorithm of its JWT access tokens
	// AccessTokenFormat is storage.AccessTokenOpaque (""; the default) or
	// storage.AccessTokenJWT (RFC 9068 JWT access tokens).
	AccessTokenFormat string
	Audiences         []string // resource servers (absolute URIs) its JWT access tokens name in "aud"
	Secret            string   // "" generates one; only the demo set-up passes its own
}

var (
	clientIDPattern   = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)
	scopeTokenPattern = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,128}$`) // RFC 6749 §3.3
)

// ErrInvalidClient is the error of a refused ClientSpec; the error's message
// lists every problem, one a line.
var ErrInvalidClient = errors.New("invalid client")

// invalidClient is a refused ClientSpec: errors.Is(err, ErrInvalidClient).
type invalidClient struct{ problems error }

func (e invalidClient) Error() string        { return e.problems.Error() }
func (e invalidClient) Unwrap() error        { return e.problems }
func (e invalidClient) Is(target error) bool { return target == ErrInvalidClient }

// newClient validates spec and returns the client to store and its secret,
// to show once ("" for a public client). Every problem is reported at once
// (ErrInvalidClient). Clients.Register stores what it returns.
func newClient(spec ClientSpec) (*storage.Client, string, error) {
	c := &storage.Client{
		ID: spec.ID, Name: spec.Name, Public: spec.Public, AccountKind: spec.AccountKind,
		RedirectURIs: spec.RedirectURIs, PostLogoutRedirectURIs: spec.PostLogoutRedirectURIs,
		GrantTypes: spec.GrantTypes, Scopes: spec.Scopes, FirstParty: spec.FirstParty,
		RequireTwoFactor: spec.RequireTwoFactor, RequirePKCE: spec.Public || !spec.DisablePKCE,
		Introspection: spec.Introspection, PointOfSale: spec.PointOfSale, HomeURL: spec.HomeURL,
		IDTokenAlg: spec.IDTokenAlg, AccessTokenFormat: spec.AccessTokenFormat, Audiences: spec.Audiences,
	}
	applyClientDefaults(c)
	if err := validateClient(c, spec); err != nil {
		return nil, "", invalidClient{err}
	}
	if c.ID == "" {
		c.ID = newClientID()
	}
	if c.Public {
		return c, "", nil
	}
	secret := spec.Secret
	if secret == "" {
		secret = newSecret()
	}
	c.SecretHash = HashClientSecret(secret)
	return c, secret, nil
}

func applyClientDefaults(c *storage.Client) {
	if c.AccountKind == "" {
		c.AccountKind = storage.Customer
	}
	if c.GrantTypes == nil && len(c.RedirectURIs) > 0 {
		c.GrantTypes = storage.List{GrantAuthorizationCode, GrantRefreshToken}
	}
	if c.Scopes == nil {
		c.Scopes = slices.Clone(defaultScopes)
	}
	if c.IDTokenAlg == "" {
		c.IDTokenAlg = "RS256"
	}
	if c.AccessTokenFormat == "" {
		c.AccessTokenFormat = storage.AccessTokenOpaque
	}
	if c.Audiences == nil {
		c.Audiences = storage.List{}
	}
	if c.RedirectURIs == nil {
		c.RedirectURIs = storage.List{}
	}
	if c.PostLogoutRedirectURIs == nil {
		c.PostLogoutRedirectURIs = storage.List{}
	}
}

func validateClient(c *storage.Client, spec ClientSpec) error {
	var p []error
	add := func(format string, args ...any) { p = append(p, fmt.Errorf(format, args...)) }
	if c.ID != "" && !clientIDPattern.MatchString(c.ID) {
		add("client ID: use 1-128 letters, digits and . _ ~ -")
	}
	if c.Name == "" || len(c.Name) > 200 {
		add("name: required, at most 200 bytes")
	}
	if !c.AccountKind.Valid() {
		add("accounts: %q is neither customer nor operator", c.AccountKind)
	}
	p = append(p, grantProblems(c)...)
	for _, s := range c.Scopes {
		if !scopeTokenPattern.MatchString(s) {
			add("scope %q: not a valid scope token", s)
		}
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			add("redirect URI %q: %v", u, err)
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			add("post-logout redirect URI %q: %v", u, err)
		}
	}
	if c.PointOfSale {
		if c.AccountKind != storage.Customer {
			add("point of sale: must accept customers")
		}
		if err := checkRedirectURI(c.HomeURL); err != nil || !strings.HasPrefix(c.HomeURL, "http") {
			add("home URL %q: a point of sale needs an https home URL (http only on this machine)", c.HomeURL)
		}
	} else if c.HomeURL != "" {
		add("home URL: only a point of sale has one")
	}
	if c.IDTokenAlg != "RS256" && c.IDTokenAlg != "ES256" {
		add("ID token algorithm %q: use RS256 or ES256", c.IDTokenAlg)
	}
	p = append(p, accessTokenProblems(c)...)
	if c.Public && (spec.DisablePKCE || c.Introspection) {
		add("public client: PKCE is always required and it cannot introspect")
	}
	return errors.Join(p...)
}

func grantProblems(c *storage.Client) []error {
	var p []error
	if len(c.GrantTypes) == 0 {
		p = append(p, errors.New("grants: give a redirect URI (for sign-in) or the client_credentials grant"))
	}
	for _, g := range c.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantClientCredentials {
			p = append(p, fmt.Errorf("grant %q: use authorization_code, refresh_token or client_credentials", g))
		}
	}
	has := c.GrantTypes.Has
	if has(GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		p = append(p, errors.New("authorization_code grant: needs at least one redirect URI"))
	}
	if has(GrantRefreshToken) && !has(GrantAuthorizationCode) {
		p = append(p, errors.New("refresh_token grant: needs the authorization_code grant"))
	}
	if has(GrantClientCredentials) && c.Public {
		p = append(p, errors.New("client_credentials grant: a public client has no credentials"))
	}
	return p
}

// accessTokenProblems checks the format of the client's access tokens and
// their audiences: absolute URIs without fragment, for JWTs only (an opaque
// token's audience is whoever introspects it).
func accessTokenProblems(c *storage.Client) []error {
	var p []error
	if c.AccessTokenFormat != storage.AccessTokenOpaque && c.AccessTokenFormat != storage.AccessTokenJWT {
		p = append(p, fmt.Errorf("access token format %q: use jwt or opaque", c.AccessTokenFormat))
	}
	if len(c.Audiences) > 0 && c.AccessTokenFormat != storage.AccessTokenJWT {
		p = append(p, errors.New("audience: only a client with JWT access tokens names one"))
	}
	for _, a := range c.Audiences {
		if u, err := url.Parse(a); err != nil || !u.IsAbs() || strings.Contains(a, "#") || len(a) > 512 {
			p = append(p, fmt.Errorf("audience %q: use an absolute URI without fragment, such as https://api.example.org", a))
		}
	}
	return p
}

// checkRedirectURI accepts absolute URIs without fragment that are https,
// http on a loopback host (RFC 8252 §7.3), or a private-use scheme in
// reverse-domain form (RFC 8252 §7.1), which rules out javascript:, data: and
// file:.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "" || err != nil:
		return errors.New("not a URI")
	case !u.IsAbs():
		return errors.New("must be absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	case u.User != nil:
		return errors.New("must not carry user information")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errors.New("needs a host")
		}
		return nil
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return errors.New("http is only allowed for localhost and loopback addresses; use https")
		}
		return nil
	}
	if !strings.Contains(u.Scheme, ".") {
		return errors.New("a custom scheme must be in reverse-domain form, such as com.example.app")
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newClientID returns 128 random bits in hex: nothing a shell or a command
// line could take for an option (base64url IDs could start with "-").
func newClientID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
