package keys_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/usher-idp/usher/provider/keys"
)

func TestGenerateChoosesAlgorithmByKid(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		rs, es := current(t, set, keys.RS256), current(t, set, keys.ES256)
		tests := []struct {
			name, kid, wantAlg, wantKid string
		}{
			{"current ES256 kid", es, "ES256", es},
			{"next ES256 kid", nextKid(e, keys.ES256), "ES256", es},
			{"current RS256 kid", rs, "RS256", rs},
			{"no kid", "", "RS256", rs},
			{"unknown kid", "no-such-kid", "RS256", rs},
		}
		for _, tt := range tests {
			token := sign(t, set, tt.kid, idClaims(time.Hour))
			if alg, kid := header(t, token); alg != tt.wantAlg || kid != tt.wantKid {
				t.Errorf("%s: signed %s with %s, want %s with %s", tt.name, alg, kid, tt.wantAlg, tt.wantKid)
			}
			if err := verifyWithJWKS(set.JWKS(), token); err != nil {
				t.Errorf("%s: does not verify with the JWKS: %v", tt.name, err)
			}
		}
	})
}

func TestGenerateAfterRotationUsesNewKey(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		before := e.load()
		oldES := current(t, before, keys.ES256)
		must(t, "rotate", keys.Rotate(e.ctx, e.store, e.sealer, e.inst, time.Hour, e.clock.Now()))
		after := e.load()
		h := jwt.NewHeaders()
		h.Add("kid", oldES) // a session stored before the rotation
		h.Add("typ", "JWT")
		token, sig, err := after.Signer().Generate(e.ctx, idClaims(time.Hour), h)
		must(t, "generate", err)
		alg, kid := header(t, token)
		if alg != "ES256" || kid != current(t, after, keys.ES256) || kid == oldES {
			t.Errorf("signed %s with %s, want ES256 with the new current %s", alg, kid, current(t, after, keys.ES256))
		}
		if h.Get("kid") != oldES {
			t.Error("Generate changed the caller's header")
		}
		if !strings.HasSuffix(token, "."+sig) {
			t.Errorf("signature %q is not the token's third part", sig)
		}
	})
}

func TestGenerateIgnoresHeaderAlg(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		h := headerMap{"alg": "none", "kid": current(t, set, keys.ES256), "typ": "logout+jwt"}
		token, _, err := set.Signer().Generate(e.ctx, idClaims(time.Hour), h)
		must(t, "generate", err)
		if alg, _ := header(t, token); alg != "ES256" {
			t.Errorf("header alg none gave a token signed %s, want ES256", alg)
		}
		decoded, err := set.Signer().Decode(e.ctx, token)
		must(t, "decode", err)
		if decoded.Header["typ"] != "logout+jwt" {
			t.Errorf("typ %v, want the caller's logout+jwt", decoded.Header["typ"])
		}
		if _, _, err := set.Signer().Generate(e.ctx, nil, jwt.NewHeaders()); err == nil {
			t.Error("Generate with nil claims: no error")
		}
		if _, _, err := set.Signer().Generate(e.ctx, idClaims(time.Hour), (*jwt.Headers)(nil)); err == nil {
			t.Error("Generate with a nil header: no error")
		}
	})
}

// headerMap is a jwt.Mapper that, unlike jwt.Headers, keeps "alg".
type headerMap map[string]any

func (h headerMap) ToMap() map[string]any { return h }
func (h headerMap) Add(k string, v any)   { h[k] = v }
func (h headerMap) Get(k string) any      { return h[k] }

func TestValidateAndDecode(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		s := set.Signer()
		for _, alg := range []string{keys.RS256, keys.ES256} {
			token := sign(t, set, current(t, set, alg), idClaims(time.Hour))
			sig, err := s.Validate(e.ctx, token)
			if err != nil || !strings.HasSuffix(token, "."+sig) {
				t.Errorf("%s: Validate = %q, %v", alg, sig, err)
			}
			decoded, err := s.Decode(e.ctx, token)
			if err != nil || !decoded.Valid() || decoded.Claims["sub"] != idClaims(0)["sub"] {
				t.Errorf("%s: Decode = %+v, %v", alg, decoded, err)
			}
			expired := sign(t, set, current(t, set, alg), idClaims(-time.Minute))
			if _, err := s.Validate(e.ctx, expired); !hasExpired(err) {
				t.Errorf("%s: Validate of an expired token = %v, want ValidationErrorExpired", alg, err)
			}
			// fosite reads the claims of an expired id_token_hint from Decode.
			decoded, err = s.Decode(e.ctx, expired)
			if !hasExpired(err) || decoded == nil || decoded.Claims["sub"] != idClaims(0)["sub"] {
				t.Errorf("%s: Decode of an expired token = %+v, %v; want its claims and ValidationErrorExpired", alg, decoded, err)
			}
			if _, err := s.Validate(e.ctx, tamper(token)); err == nil {
				t.Errorf("%s: a tampered token validates", alg)
			}
		}
	})
}

func hasExpired(err error) bool {
	var ve *jwt.ValidationError
	return errors.As(err, &ve) && ve.Has(jwt.ValidationErrorExpired)
}

func TestHashAndSignatureAsDefaultSigner(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		ours := e.load().Signer()
		theirs := &jwt.DefaultSigner{}
		in := []byte("ory_at_abc.def")
		h1, err1 := ours.Hash(e.ctx, in)
		h2, err2 := theirs.Hash(e.ctx, in)
		want := sha256.Sum256(in)
		if err1 != nil || err2 != nil || string(h1) != string(h2) || string(h1) != string(want[:]) {
			t.Errorf("Hash = %x, DefaultSigner %x", h1, h2)
		}
		if ours.GetSigningMethodLength(e.ctx) != theirs.GetSigningMethodLength(e.ctx) {
			t.Errorf("GetSigningMethodLength = %d, want %d", ours.GetSigningMethodLength(e.ctx), theirs.GetSigningMethodLength(e.ctx))
		}
		for _, tok := range []string{"a.b.c", "a.b", "a.b.c.d", ""} {
			s1, err1 := ours.GetSignature(e.ctx, tok)
			s2, err2 := theirs.GetSignature(e.ctx, tok)
			if s1 != s2 || (err1 == nil) != (err2 == nil) {
				t.Errorf("GetSignature(%q) = %q, %v; DefaultSigner %q, %v", tok, s1, err1, s2, err2)
			}
		}
	})
}

func TestEmptySetCannotSign(t *testing.T) {
	each(t, func(e *env) {
		set := e.load()
		if _, err := set.Current(keys.RS256); !errors.Is(err, keys.ErrNoKey) {
			t.Errorf("Current of an empty set: %v, want ErrNoKey", err)
		}
		if _, _, err := set.Signer().Generate(e.ctx, idClaims(time.Hour), jwt.NewHeaders()); !errors.Is(err, keys.ErrNoKey) {
			t.Errorf("Generate with an empty set: %v, want ErrNoKey", err)
		}
		if len(set.JWKS().Keys) != 0 || !set.CurrentSince(keys.RS256).IsZero() {
			t.Error("an empty set publishes keys")
		}
	})
}
