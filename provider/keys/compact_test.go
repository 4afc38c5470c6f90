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

// An ES256 signature is r and s as 32 bytes each (RFC 7518 §3.4), however
// short the standard library's DER integers are: about one signature in
// 128 has an r or an s below 2^248, which must be padded, and every
// integer at or above 2^255 comes with DER's sign byte, which must go.
// Signing 1,000 different payloads meets both cases with near certainty;
// each must verify with the JWKS as a relying party reads it. The same
// payload signed twice gives the same token (RFC 6979 nonces).
func TestSignCompactES256Encoding(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		jwks := set.JWKS()
		for i := range 1000 {
			payload := []byte(`{"sub":"s","n":` + jsonInt(int64(i)) + `}`)
			token, err := set.SignCompact(keys.ES256, "at+jwt", payload)
			must(t, "sign", err)
			sig, err := base64.RawURLEncoding.DecodeString(token[strings.LastIndexByte(token, '.')+1:])
			if err != nil || len(sig) != 64 {
				t.Fatalf("payload %d: a signature of %d bytes (%v), want 64", i, len(sig), err)
			}
			if err := verifyWithJWKS(jwks, token); err != nil {
				t.Fatalf("payload %d: %v", i, err)
			}
			if i == 0 {
				again, _ := set.SignCompact(keys.ES256, "at+jwt", payload)
				if again != token {
					t.Errorf("the same payload signed twice gave two tokens")
				}
			}
		}
	})
}
