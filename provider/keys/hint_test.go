package keys_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	josejwt "github.com/go-jose/go-jose/v3/jwt"

	"github.com/usher-idp/usher/provider/keys"
)

func TestParseHintAccepts(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		for _, alg := range []string{keys.RS256, keys.ES256} {
			for _, ttl := range []time.Duration{time.Hour, -24 * time.Hour} {
				claims, err := set.ParseHint(sign(t, set, current(t, set, alg), idClaims(ttl)))
				if err != nil || claims["sub"] != idClaims(0)["sub"] {
					t.Errorf("%s hint expiring in %v: %v, %v", alg, ttl, claims, err)
				}
			}
		}
	})
}

func TestParseHintRefuses(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		rsKid, esKid := current(t, set, keys.RS256), current(t, set, keys.ES256)
		rsKey, err := set.Current(keys.RS256)
		must(t, "current", err)
		esKey, err := set.Current(keys.ES256)
		must(t, "current", err)
		valid := sign(t, set, rsKid, idClaims(time.Hour))
		stranger, err := rsa.GenerateKey(rand.Reader, 2048)
		must(t, "generate", err)
		refused := map[string]string{
			"alg none":                        unsigned(t, rsKid, ""),
			"alg none with a signature":       unsigned(t, rsKid, "c2lnbmF0dXJl"),
			"HS256 signed with a secret":      signRaw(t, jose.HS256, []byte("client-secret-of-32-bytes-or-more!"), rsKid),
			"HS256 keyed with the public key": signRaw(t, jose.HS256, publicJWK(t, rsKey.Public().Key), rsKid),
			"unknown kid":                     signRaw(t, jose.RS256, stranger, "stranger"),
			"own kid, stranger's key":         signRaw(t, jose.RS256, stranger, rsKid),
			"no kid":                          signRaw(t, jose.RS256, rsKey.Key, ""),
			"tampered payload":                tamper(valid),
			"ES256 naming the RSA kid":        signRaw(t, jose.ES256, esKey.Key, rsKid),
			"PS256 with the RSA key":          signRaw(t, jose.PS256, rsKey.Key, rsKid),
			"RS256 naming the ES256 kid":      signRaw(t, jose.RS256, rsKey.Key, esKid),
			"garbage":                         "not a token",
			"empty":                           "",
			"dots":                            "..",
			"signature cut":                   valid[:strings.LastIndex(valid, ".")+1],
			"five parts (JWE)":                valid + ".a.b",
			"JSON serialization":              jsonSerialized(t, valid),
			"huge":                            strings.Repeat("a", 70<<10) + ".b.c",
		}
		for name, token := range refused {
			if claims, err := set.ParseHint(token); err == nil || claims != nil {
				t.Errorf("%s: accepted (%v)", name, claims)
			}
			if _, err := set.Signer().Decode(e.ctx, token); err == nil {
				t.Errorf("%s: Decode accepted it", name)
			}
		}
		museum := &env{t: t, ctx: e.ctx, store: e.store, clock: e.clock, sealer: e.sealer, inst: e.institution("museum")}
		museum.ensure()
		other := museum.load()
		if _, err := set.ParseHint(sign(t, other, "", idClaims(time.Hour))); err == nil {
			t.Error("a hint of another institution is accepted")
		}
	})
}

// tamper flips a byte of a token's payload (a base64url character to
// another), keeping the header and signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	p := []byte(parts[1])
	if p[2] == 'A' {
		p[2] = 'B'
	} else {
		p[2] = 'A'
	}
	parts[1] = string(p)
	return strings.Join(parts, ".")
}

// unsigned is an alg "none" token naming kid, with sig as its signature part.
func unsigned(t *testing.T, kid, sig string) string {
	t.Helper()
	h, err := json.Marshal(map[string]string{"alg": "none", "kid": kid, "typ": "JWT"})
	must(t, "header", err)
	c, err := json.Marshal(idClaims(time.Hour))
	must(t, "claims", err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + sig
}

// signRaw signs ID claims with go-jose, alg and key of the caller's choice,
// and a header naming kid.
func signRaw(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	must(t, "signer", err)
	token, err := josejwt.Signed(s).Claims(map[string]any(idClaims(time.Hour))).CompactSerialize()
	must(t, "sign", err)
	return token
}

// publicJWK is a public key's JWK encoding: the "secret" of the classic
// algorithm confusion attack (HMAC keyed with what the verifier publishes).
func publicJWK(t *testing.T, pub any) []byte {
	t.Helper()
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		t.Fatalf("not a public key: %T", pub)
	}
	jwk := jose.JSONWebKey{Key: pub}
	b, err := jwk.MarshalJSON()
	must(t, "marshal", err)
	return b
}

// jsonSerialized re-encodes a compact JWS in the JWS JSON serialization.
func jsonSerialized(t *testing.T, compact string) string {
	t.Helper()
	jws, err := jose.ParseSigned(compact)
	must(t, "parse", err)
	return jws.FullSerialize()
}
