package keys

import (
	"errors"
	"fmt"

	"github.com/ory/fosite/token/jwt"
)

// maxTokenLen bounds the tokens the set parses (an id_token_hint comes from a
// query string).
const maxTokenLen = 64 << 10

// errNotCompact: the token is not a compact JWS (three base64url parts).
var errNotCompact = errors.New("keys: not a compact JWS")

// decode parses and verifies token with fosite's parser (so its errors are
// the *jwt.ValidationError fosite expects), selecting the key by kid.
func (s *Set) decode(token string) (*jwt.Token, error) {
	if !compact(token) {
		return &jwt.Token{}, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: errNotCompact}
	}
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, s.verificationKey)
}

// verificationKey is the public key of the published key the token's kid
// names, provided the token's alg is that key's algorithm: a token cannot
// choose "none", an HMAC algorithm, or another algorithm for the key.
func (s *Set) verificationKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	e, ok := s.byKID[kid]
	if !ok {
		return nil, fmt.Errorf("keys: no published key %.64q", kid)
	}
	if string(t.Method) != e.private.Algorithm {
		return nil, fmt.Errorf("keys: token alg %.16q but key %s is %s", string(t.Method), kid, e.private.Algorithm)
	}
	return e.public, nil
}

// compact reports whether token looks like a compact JWS: at most
// maxTokenLen base64url characters in three dot-separated parts, the header
// and signature not empty. (go-jose also accepts the JSON serialization,
// whose unprotected header fosite's parser would read.)
func compact(token string) bool {
	if len(token) > maxTokenLen {
		return false
	}
	dots, last := 0, -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case c == '.':
			if i == last+1 && dots != 1 { // empty header
				return false
			}
			dots, last = dots+1, i
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dots == 2 && last < len(token)-1
}

// VerifySignature verifies token as Decode does (a published key named by
// its kid, of the token's alg, a compact JWS) but leaves its time claims to
// the caller, who judges them by its own clock: a token whose only fault is
// its time claims comes back verified, without error.
func (s *Set) VerifySignature(token string) (*jwt.Token, error) {
	t, err := s.decode(token)
	if err != nil && !onlyTime(err, jwt.ValidationErrorExpired|jwt.ValidationErrorIssuedAt|jwt.ValidationErrorNotValidYet) {
		return nil, err
	}
	return t, nil
}
