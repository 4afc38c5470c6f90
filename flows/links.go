package flows

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// Emailed one-time links (recovery, activation, invitation). A link carries
// a 256-bit random secret; only its SHA-256 is stored, so neither a copy of
// the database nor a changed character makes a working link. Opening a link
// (GET) reads it and consumes nothing: mail scanners open links. Only the
// successful form consumes it, atomically. A new link of the same account
// and purpose supersedes the older ones.

// LinkState is where an emailed link stands: the state enum every link
// flow shares.
type LinkState string

// Link states.
const (
	LinkValid   LinkState = "valid"
	LinkUnknown LinkState = "unknown" // never issued, altered, or purged
	LinkUsed    LinkState = "used"    // consumed, or superseded by a newer link
	LinkExpired LinkState = "expired"
)

// linkSecretBytes is the size of a link's secret.
const linkSecretBytes = 32

// LinkStore keeps the links.
type LinkStore interface {
	CreateActionToken(ctx context.Context, t *storage.ActionToken) error
	GetActionToken(ctx context.Context, purpose storage.ActionPurpose, secretHash []byte) (*storage.ActionToken, error)
	ConsumeActionToken(ctx context.Context, purpose storage.ActionPurpose, secretHash []byte) (*storage.ActionToken, error)
}

// LinkCreator stores links.
type LinkCreator interface {
	CreateActionToken(ctx context.Context, t *storage.ActionToken) error
}

// NewLink stores a link for t (its purpose, account, point of sale, creator
// and expiry set by the caller), superseding the account's older links of
// that purpose, and returns its secret.
func NewLink(ctx context.Context, s LinkCreator, t *storage.ActionToken) (string, error) {
	b := make([]byte, linkSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("link secret: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	t.SecretHash = linkHash(secret)
	if err := s.CreateActionToken(ctx, t); err != nil {
		return "", fmt.Errorf("store link: %w", err)
	}
	return secret, nil
}

// linkHash is the stored form of a secret, or nil for a value that cannot
// be a secret (it matches nothing and costs no database read).
func linkHash(secret string) []byte {
	if len(secret) != base64.RawURLEncoding.EncodedLen(linkSecretBytes) {
		return nil
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return nil
	}
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// checkLink reads the link of a secret without consuming it.
func checkLink(ctx context.Context, s LinkStore, purpose storage.ActionPurpose, secret string) (*storage.ActionToken, LinkState, error) {
	hash := linkHash(secret)
	if hash == nil {
		return nil, LinkUnknown, nil
	}
	t, err := s.GetActionToken(ctx, purpose, hash)
	return linkState(t, err)
}

// consumeLink uses the link of a secret up, atomically: of concurrent
// calls, one gets LinkValid.
func consumeLink(ctx context.Context, s LinkStore, purpose storage.ActionPurpose, secret string) (*storage.ActionToken, LinkState, error) {
	hash := linkHash(secret)
	if hash == nil {
		return nil, LinkUnknown, nil
	}
	t, err := s.ConsumeActionToken(ctx, purpose, hash)
	return linkState(t, err)
}

// linkState turns the store's answer into a state.
func linkState(t *storage.ActionToken, err error) (*storage.ActionToken, LinkState, error) {
	switch {
	case err == nil:
		return t, LinkValid, nil
	case errors.Is(err, storage.ErrNotFound):
		return nil, LinkUnknown, nil
	case errors.Is(err, storage.ErrAlreadyUsed):
		return t, LinkUsed, nil
	case errors.Is(err, storage.ErrExpired):
		return t, LinkExpired, nil
	}
	return nil, LinkUnknown, fmt.Errorf("link: %w", err)
}

// linkURL is the address of a link's page under the institution's issuer.
func linkURL(publicURL, slug, page, secret string) string {
	return issuer.URL(publicURL, slug) + page + "?" + url.Values{"token": {secret}}.Encode()
}

// linkTTL bounds a link's lifetime by the setting, with a floor.
func linkExpiry(now time.Time, ttl storage.Duration) time.Time {
	return now.Add(max(ttl.Std(), time.Minute))
}
