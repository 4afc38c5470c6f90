package provider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/usher-idp/usher/storage"
)

// JWT access tokens (RFC 9068), for the clients registered for them
// (storage.AccessTokenJWT). Such a token is signed with the institution's
// current key of the client's algorithm (the ID tokens' keys, published in
// the JWKS), its header says typ "at+jwt", and it carries its grant: iss,
// sub (the account, or the client for client credentials), aud (the
// client's audiences, or its ID), client_id, iat, exp, jti, scope, and
// auth_time, acr and amr when it comes from a sign-in. It is short-lived
// (Lifespans.JWTAccess) and never stored: a resource server verifies it
// against the JWKS, and the token endpoint writes nothing for a client
// credentials grant.
//
// Introspection and userinfo accept it after checking its signature, type,
// issuer and expiry, that its client still exists and (the callers' part)
// that its account is still active. It cannot be revoked (RFC 7009 §2.2
// lets a server not support revoking a token type; the revocation endpoint
// answers 200 as for any unknown token): revoking the grant's refresh
// token ends the grant, and its JWTs expire within minutes.

// jwtAccessType is the "typ" header of a JWT access token (RFC 9068 §2.1).
const jwtAccessType = "at+jwt"

// tokenStrategy is an institution's token strategy: fosite's HMAC strategy
// for codes, refresh tokens and opaque access tokens; a JWT access token
// for a client registered for them.
type tokenStrategy struct {
	*oauth2.HMACSHAStrategy
	t *tenant
}

var _ oauth2.CoreStrategy = (*tokenStrategy)(nil)

// jwtClient is req's client when its access tokens are JWTs.
func jwtClient(req fosite.Requester) (*storage.Client, bool) {
	c, ok := req.GetClient().(fositeClient)
	if !ok || !c.jwt() {
		return nil, false
	}
	return c.c, true
}

// selfContained reports whether the access tokens of req's client are JWTs.
func selfContained(req fosite.Requester) bool {
	_, ok := jwtClient(req)
	return ok
}

// isJWT reports whether token has the shape of a compact JWS (an opaque
// token has one dot, a JWS two).
func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

// jwtSignature is the signature part of a compact JWS, what stands for a JWT
// access token where fosite asks for a token's signature.
func jwtSignature(token string) string { return token[strings.LastIndexByte(token, '.')+1:] }

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (s *tokenStrategy) GenerateAccessToken(ctx context.Context, req fosite.Requester) (string, string, error) {
	client, ok := jwtClient(req)
	if !ok {
		return s.HMACSHAStrategy.GenerateAccessToken(ctx, req)
	}
	return s.t.signAccessToken(req, client)
}

// AccessTokenSignature implements oauth2.AccessTokenStrategy.
func (s *tokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return jwtSignature(token)
	}
	return s.HMACSHAStrategy.AccessTokenSignature(ctx, token)
}

// ValidateAccessToken implements oauth2.AccessTokenStrategy.
func (s *tokenStrategy) ValidateAccessToken(ctx context.Context, req fosite.Requester, token string) error {
	if isJWT(token) {
		_, err := s.t.verifyAccessToken(token)
		return err
	}
	return s.HMACSHAStrategy.ValidateAccessToken(ctx, req, token)
}

// accessClaims are the claims of a JWT access token (RFC 9068 §2.2).
type accessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	ClientID string   `json:"client_id"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	JTI      string   `json:"jti"`
	Scope    string   `json:"scope"`
	AuthTime int64    `json:"auth_time,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
}

// signAccessToken signs the JWT access token of req, whose client is
// client, and returns it and its signature. It alone sets the token's
// lifetime: fosite's, set in the session before, is replaced here, and
// expires_in is read from the session afterwards.
func (t *tenant) signAccessToken(req fosite.Requester, client *storage.Client) (string, string, error) {
	sess, ok := req.GetSession().(*session)
	if !ok {
		return "", "", fosite.ErrServerError.WithDebug("unexpected session type")
	}
	// By the provider's clock, which also judges the expiry at
	// introspection (fosite set the session's by time.Now; expires_in is
	// read from the session afterwards).
	now := t.store.now().UTC()
	exp := now.Add(t.store.life.JWTAccess)
	sess.SetExpiresAt(fosite.AccessToken, exp)
	c := accessClaims{Issuer: t.issuer, Subject: sess.Subject, Audience: client.Audiences, ClientID: client.ID,
		IssuedAt: now.Unix(), Expiry: exp.Unix(), JTI: newJTI(), Scope: strings.Join(req.GetGrantedScopes(), " ")}
	if len(c.Audience) == 0 {
		c.Audience = []string{client.ID}
	}
	if id := sess.Claims; !id.AuthTime.IsZero() {
		c.AuthTime, c.ACR, c.AMR = id.AuthTime.Unix(), id.AuthenticationContextClassReference, id.AuthenticationMethodsReferences
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", "", err
	}
	token, err := t.keys.SignCompact(client.IDTokenAlg, jwtAccessType, payload)
	if err != nil {
		return "", "", err
	}
	return token, jwtSignature(token), nil
}

// newJTI returns a fresh JWT ID: 128 random bits.
func newJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// errNotAccessToken: a JWT that is not one of this institution's access
// tokens (an ID token, another issuer's token).
var errNotAccessToken = errors.New("not an access token of this institution")

// verifyAccessToken verifies a JWT access token: signed by a published key
// of the institution, typ at+jwt, its issuer, not expired by the provider's
// clock. Any failure is fosite.ErrInactiveToken (wrapping the cause).
func (t *tenant) verifyAccessToken(token string) (*jwt.Token, error) {
	tok, err := t.keys.VerifySignature(token)
	if err != nil {
		return nil, fosite.ErrInactiveToken.WithWrap(err)
	}
	typ, _ := tok.Header["typ"].(string)
	iss, _ := tok.Claims["iss"].(string)
	if !strings.EqualFold(typ, jwtAccessType) || iss != t.issuer {
		return nil, fosite.ErrInactiveToken.WithWrap(errNotAccessToken)
	}
	if exp, ok := claimTime(tok.Claims["exp"]); !ok || !t.store.now().Before(exp) {
		return nil, fosite.ErrInactiveToken.WithHint("The access token expired.")
	}
	return tok, nil
}

// introspectToken is fosite's IntrospectToken for an opaque token or a
// refresh token; a JWT access token is verified (verifyAccessToken) and
// its grant read from its claims into sess, its client from the store (a
// deleted client's tokens end with it). Whether the account is still active
// is the caller's check, as for an opaque token.
func (t *tenant) introspectToken(ctx context.Context, token string, hint fosite.TokenType, sess *session) (fosite.TokenUse, fosite.AccessRequester, error) {
	if !isJWT(token) {
		return t.oauth2.IntrospectToken(ctx, token, hint, sess)
	}
	tok, err := t.verifyAccessToken(token)
	if err != nil {
		return "", nil, err
	}
	c := tok.Claims
	clientID, _ := c["client_id"].(string)
	sub, _ := c["sub"].(string)
	client, err := t.store.GetClient(ctx, clientID)
	if errors.Is(err, fosite.ErrNotFound) || sub == "" {
		return "", nil, fosite.ErrInactiveToken.WithHint("The client of this token no longer exists.")
	}
	if err != nil {
		return "", nil, err
	}
	exp, _ := claimTime(c["exp"])
	iat, _ := claimTime(c["iat"])
	sess.Subject, sess.ClientID, sess.Claims.Subject = sub, clientID, sub
	sess.SetExpiresAt(fosite.AccessToken, exp)
	scope, _ := c["scope"].(string)
	jti, _ := c["jti"].(string)
	return fosite.AccessToken, &fosite.AccessRequest{Request: fosite.Request{ID: jti, RequestedAt: iat, Client: client,
		Session: sess, Form: url.Values{}, GrantedScope: strings.Fields(scope), GrantedAudience: audience(c["aud"])}}, nil
}

// claimTime reads a NumericDate claim.
func claimTime(v any) (time.Time, bool) {
	switch n := v.(type) {
	case float64:
		return time.Unix(int64(n), 0), true
	case int64:
		return time.Unix(n, 0), true
	case json.Number:
		i, err := n.Int64()
		return time.Unix(i, 0), err == nil
	}
	return time.Time{}, false
}
