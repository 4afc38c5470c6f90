package keys

import (
	"fmt"

	"github.com/go-jose/go-jose/v3"
)

// SignCompact signs payload (the claims of a JWT, in JSON) with the current
// key of alg and returns the compact JWS, whose protected header says alg,
// the key's kid and typ. It is the fast way for tokens issued at a high rate
// (JWT access tokens): the go-jose signer of each algorithm and type is made
// once per Set, and the caller encodes its claims itself.
func (s *Set) SignCompact(alg, typ string, payload []byte) (string, error) {
	signer, err := s.signer(alg, typ)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// signer returns the go-jose signer of the current key of alg with header
// typ, made on first use. (A go-jose signer keeps no state between
// signatures: it is safe for concurrent use.)
func (s *Set) signer(alg, typ string) (jose.Signer, error) {
	name := alg + "\x00" + typ
	if v, ok := s.signers.Load(name); ok {
		return v.(jose.Signer), nil
	}
	key, err := s.Current(alg)
	if err != nil {
		return nil, err
	}
	// A JSONWebKey's KeyID goes into the header as kid.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return nil, fmt.Errorf("keys: signer: %w", err)
	}
	v, _ := s.signers.LoadOrStore(name, signer)
	return v.(jose.Signer), nil
}
