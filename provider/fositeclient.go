package provider

import (
	"github.com/ory/fosite"

	"github.com/usher-idp/usher/storage"
)

// fositeClient shows a client record to fosite.
//
// It deliberately does not implement fosite.OpenIDConnectClient: for such a
// client fosite would enforce one token_endpoint_auth_method, where Usher
// accepts both client_secret_basic and client_secret_post (and none for
// public clients), and it would accept request objects, which Usher answers
// with request_not_supported.
type fositeClient struct {
	c *storage.Client
}

var (
	_ fosite.Client             = fositeClient{}
	_ fosite.ResponseModeClient = fositeClient{}
)

// jwt reports whether the client's access tokens are RFC 9068 JWTs.
func (f fositeClient) jwt() bool { return f.c.AccessTokenFormat == storage.AccessTokenJWT }

func (f fositeClient) GetID() string             { return f.c.ID }
func (f fositeClient) GetHashedSecret() []byte   { return []byte(f.c.SecretHash) }
func (f fositeClient) GetRedirectURIs() []string { return f.c.RedirectURIs }
func (f fositeClient) GetGrantTypes() fosite.Arguments {
	return fosite.Arguments(f.c.GrantTypes)
}
func (f fositeClient) GetResponseTypes() fosite.Arguments { return fosite.Arguments{"code"} }
func (f fositeClient) GetScopes() fosite.Arguments        { return fosite.Arguments(f.c.Scopes) }
func (f fositeClient) IsPublic() bool                     { return f.c.Public }
func (f fositeClient) GetAudience() fosite.Arguments      { return nil }

// GetResponseModes allows an explicit response_mode=query, which relying
// parties send; without this fosite refuses every explicit response mode.
func (f fositeClient) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery}
}
