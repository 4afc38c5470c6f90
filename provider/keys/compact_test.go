package keys_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/provider/keys"
)

// SignCompact signs with the current key of the algorithm, its kid and the
// given typ in the protected header; the token verifies with the JWKS and
// with VerifySignature, which leaves an expired token's time to the caller
// but refuses any change to it.
func TestSignCompact(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		for _, alg := range []string{keys.ES256, keys.RS256} {
			expired := time.Now().Add(-time.Hour).Unix()
			payload := []byte(`{"iss":"https://id.example.org","sub":"s","exp":` + jsonInt(expired) + `}`)
			token, err := set.SignCompact(alg, "at+jwt", payload)
			must(t, "sign", err)
			gotAlg, kid := header(t, token)
			if gotAlg != alg || kid != current(t, set, alg) {
				t.Errorf("%s: signed %s with %s, want the current key %s", alg, gotAlg, kid, current(t, set, alg))
			}
			var h map[string]any
			raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
			if err := json.Unmarshal(raw, &h); err != nil || h["typ"] != "at+jwt" {
				t.Errorf("%s: header %s, want typ at+jwt", alg, raw)
			}
			if err := verifyWithJWKS(set.JWKS(), token); err != nil {
				t.Errorf("%s: does not verify with the JWKS: %v", alg, err)
			}
			tok, err := set.VerifySignature(token)
			if err != nil || tok.Claims["sub"] != "s" {
				t.Errorf("%s: VerifySignature of an expired token: %v, %v", alg, tok, err)
			}
			if _, err := set.Signer().Decode(e.ctx, token); err == nil {
				t.Errorf("%s: Decode accepted an expired token", alg)
			}
			parts := strings.Split(token, ".")
			altered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"t"}`)) + "." + parts[2]
			if _, err := set.VerifySignature(altered); err == nil {
				t.Errorf("%s: VerifySignature accepted altered claims", alg)
			}
		}
		if _, err := set.SignCompact("HS256", "at+jwt", []byte(`{}`)); !errors.Is(err, keys.ErrNoKey) {
			t.Errorf("an algorithm without a key: %v, want ErrNoKey", err)
		}
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
