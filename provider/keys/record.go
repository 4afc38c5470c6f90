package keys

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v3"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// associatedData binds a sealed private key to its record: the institution
// and the kid.
func associatedData(institutionID, kid string) []byte {
	return []byte(institutionID + "\x00" + kid)
}

// newRecord makes the storage record of a new key: the private key as
// PKCS#8, sealed; the public JWK as JSON.
func newRecord(sealer *seal.Sealer, institutionID string, jwk *jose.JSONWebKey) (*storage.SigningKey, error) {
	der, err := x509.MarshalPKCS8PrivateKey(jwk.Key)
	if err != nil {
		return nil, fmt.Errorf("keys: encode private key: %w", err)
	}
	pub, err := json.Marshal(jwk.Public())
	if err != nil {
		return nil, fmt.Errorf("keys: encode public key: %w", err)
	}
	return &storage.SigningKey{
		ID:         jwk.KeyID,
		Algorithm:  jwk.Algorithm,
		State:      storage.KeyNext,
		PrivateKey: sealer.Seal(der, associatedData(institutionID, jwk.KeyID)),
		PublicKey:  pub,
	}, nil
}

// openRecord opens a stored key of the institution and checks it against its
// record: the private key must fit the algorithm, its thumbprint must be the
// kid, and the stored public JWK must be its public half. So the whole
// published set is vouched for by the master secret, not only the private
// parts.
func openRecord(sealer *seal.Sealer, institutionID string, k *storage.SigningKey) (*jose.JSONWebKey, error) {
	der, err := sealer.Open(k.PrivateKey, associatedData(institutionID, k.ID))
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: %w", ErrBadKey, k.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: %w", ErrBadKey, k.ID, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: key %s: a %T cannot sign", ErrBadKey, k.ID, parsed)
	}
	jwk, err := privateJWK(signer, k.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	if jwk.KeyID != k.ID {
		return nil, fmt.Errorf("%w: key %s has thumbprint %s", ErrBadKey, k.ID, jwk.KeyID)
	}
	return jwk, checkPublic(jwk, k)
}

// checkPublic compares the stored public JWK with the one derived from the
// private key.
func checkPublic(jwk *jose.JSONWebKey, k *storage.SigningKey) error {
	want, err := json.Marshal(jwk.Public())
	if err != nil {
		return fmt.Errorf("keys: encode public key: %w", err)
	}
	var stored jose.JSONWebKey
	if err := stored.UnmarshalJSON(k.PublicKey); err != nil {
		return fmt.Errorf("%w: key %s: public key: %w", ErrBadKey, k.ID, err)
	}
	got, err := json.Marshal(stored)
	if err != nil || !bytes.Equal(got, want) {
		return fmt.Errorf("%w: key %s: stored public key differs from the private key", ErrBadKey, k.ID)
	}
	return nil
}
