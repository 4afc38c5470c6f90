package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"

	"github.com/go-jose/go-jose/v3"
)

// rsaBits is the size of new RSA keys.
const rsaBits = 2048

// generate makes a new private key for alg, as a JWK with its kid, alg and
// use set.
func generate(alg string) (*jose.JSONWebKey, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case RS256:
		key, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	return privateJWK(key, alg)
}

// privateJWK wraps a private key of alg in a JWK named by its thumbprint.
func privateJWK(key crypto.Signer, alg string) (*jose.JSONWebKey, error) {
	if err := checkKind(key, alg); err != nil {
		return nil, err
	}
	jwk := &jose.JSONWebKey{Key: key, Algorithm: alg, Use: "sig"}
	kid, err := thumbprint(jwk)
	if err != nil {
		return nil, err
	}
	jwk.KeyID = kid
	return jwk, nil
}

// checkKind refuses a key that does not fit alg: RS256 needs RSA of at least
// 2048 bits, ES256 needs ECDSA on P-256.
func checkKind(key crypto.Signer, alg string) error {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if alg == RS256 && k.N.BitLen() >= rsaBits {
			return nil
		}
	case *ecdsa.PrivateKey:
		if alg == ES256 && k.Curve == elliptic.P256() {
			return nil
		}
	}
	return fmt.Errorf("%w: a %T is no %s key", ErrBadKey, key, alg)
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of jwk, base64url: its kid.
func thumbprint(jwk *jose.JSONWebKey) (string, error) {
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("keys: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}
