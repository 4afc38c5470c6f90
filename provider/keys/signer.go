package keys

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"
)

// Signer returns the set as fosite's jwt.Signer. Generate signs with the
// current key of the algorithm of the key the header's "kid" names (RS256
// when it names none); Decode and Validate verify with the published key the
// token's kid names. Hash, GetSignature and GetSigningMethodLength behave as
// jwt.DefaultSigner's (SHA-256).
func (s *Set) Signer() jwt.Signer { return signer{set: s} }

// signer is the jwt.Signer of a Set.
type signer struct{ set *Set }

var _ jwt.Signer = signer{}

// Generate signs claims. The algorithm is that of the published key named by
// the header's "kid" (the provider sets it per client), or RS256 when the
// header names no published key; the token is signed with the current key of
// that algorithm and its header "kid" names that key. So a session stored
// before a rotation, whose header names the old key, is signed with the new
// current key of the same algorithm. The header may not choose "alg".
func (g signer) Generate(_ context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if claims == nil || header == nil {
		return "", "", errors.New("keys: either claims or header is nil")
	}
	if h, ok := header.(*jwt.Headers); ok && h == nil {
		return "", "", errors.New("keys: either claims or header is nil")
	}
	fields := maps.Clone(header.ToMap())
	if fields == nil {
		fields = map[string]any{}
	}
	key, err := g.set.Current(g.set.algorithmFor(fields["kid"]))
	if err != nil {
		return "", "", err
	}
	delete(fields, "alg")
	fields["kid"] = key.KeyID
	token := jwt.NewWithClaims(jose.SignatureAlgorithm(key.Algorithm), claims)
	token.Header = fields
	raw, err := token.SignedString(key)
	if err != nil {
		return "", "", fmt.Errorf("keys: sign: %w", err)
	}
	sig, err := signature(raw)
	return raw, sig, err
}

// algorithmFor returns the algorithm of the published key named kid, or
// RS256.
func (s *Set) algorithmFor(kid any) string {
	if id, ok := kid.(string); ok {
		if e, ok := s.byKID[id]; ok {
			return e.private.Algorithm
		}
	}
	return RS256
}

// Validate verifies token, as Decode, and returns its signature.
func (g signer) Validate(_ context.Context, token string) (string, error) {
	if _, err := g.set.decode(token); err != nil {
		return "", err
	}
	return signature(token)
}

// Decode verifies token with the published key its kid names and checks its
// time claims, as jwt.DefaultSigner does: an expired token comes back with
// its claims and a *jwt.ValidationError that Has jwt.ValidationErrorExpired.
func (g signer) Decode(_ context.Context, token string) (*jwt.Token, error) {
	return g.set.decode(token)
}

// Hash returns the SHA-256 of in.
func (signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

// GetSignature returns the signature part of a compact JWS.
func (signer) GetSignature(_ context.Context, token string) (string, error) {
	return signature(token)
}

// GetSigningMethodLength returns the size of a SHA-256 hash.
func (signer) GetSigningMethodLength(context.Context) int { return sha256.Size }

// signature returns the third part of a compact JWS.
func signature(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("keys: header, body and signature must all be set")
	}
	return parts[2], nil
}
