package keys

import (
	"errors"
	"fmt"

	"github.com/ory/fosite/token/jwt"
)

// ParseHint verifies an id_token_hint as Decode does but accepts it expired
// (a hint at logout may be), and returns its claims. It refuses alg "none",
// HMAC algorithms (a token signed with a client secret), an unknown kid, an
// alg other than the named key's, a tampered token, and anything that is not
// a compact JWS.
func (s *Set) ParseHint(token string) (jwt.MapClaims, error) {
	t, err := s.decode(token)
	if err != nil && !onlyTime(err, jwt.ValidationErrorExpired) {
		return nil, fmt.Errorf("keys: id_token_hint: %w", err)
	}
	return t.Claims, nil
}

// onlyTime reports whether err says the token is verified and valid but for
// some of the time claims in mask. (fosite's parser checks the time claims
// only after the signature.)
func onlyTime(err error, mask uint32) bool {
	var ve *jwt.ValidationError
	return errors.As(err, &ve) && ve.Errors != 0 && ve.Errors&^mask == 0
}
