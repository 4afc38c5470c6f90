package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"

	"github.com/usher-idp/usher/internal/issuer"
)

// session is what the grant remembers of the sign-in: the ID token claims
// fosite completes and signs at the token endpoint.
func (a *authorization) session() *session {
	s := newSession()
	s.ClientID = a.client.ID
	s.Subject = a.account.ID
	s.Username = a.account.Email
	c := s.Claims
	c.Subject = a.account.ID
	c.Issuer = a.t.issuer
	c.AuthTime = a.browser.AuthTime.UTC()
	c.RequestedAt = a.requestedAt.UTC()
	c.AuthenticationMethodsReferences = amr(a.browser.Methods)
	c.AuthenticationContextClassReference = acr(a.browser.Methods)
	c.Extra["sid"] = sessionID(a.browser.SessionID)
	granted := a.ar.GetGrantedScopes()
	if granted.Has("email") {
		c.Extra["email"] = a.account.Email
		c.Extra["email_verified"] = a.account.EmailVerified
	}
	if granted.Has("profile") && a.account.Name() != "" {
		c.Extra["name"] = a.account.Name()
	}
	if kid, err := a.t.keys.Current(a.client.IDTokenAlg); err == nil {
		s.Headers.Extra["kid"] = kid.KeyID // the signer signs with the current key of this algorithm
	}
	return s
}

// acrSupported are the authentication context classes Usher asserts: "1" a
// password, "2" a password and a second factor.
func acrSupported() []string { return []string{issuer.ACROnePassword, issuer.ACRTwoFactors} }

// acr is the class the methods reach.
func acr(methods []string) string {
	if slices.Contains(methods, "otp") {
		return issuer.ACRTwoFactors
	}
	return issuer.ACROnePassword
}

// amr lists the methods (RFC 8176), with "mfa" when there were two.
func amr(methods []string) []string {
	out := slices.Clone(methods)
	if len(out) > 1 {
		out = append(out, "mfa")
	}
	return out
}

// sessionID is the sid claim of a browser session: a hash of the session's
// key, stable for the session and useless to anyone who sees it.
func sessionID(key string) string {
	sum := sha256.Sum256([]byte("sid\x00" + key))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
