package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
)

// resetPage: a reset link opened (GET /password/reset?token=…), as the
// person (or their mail scanner) opens it: the link is read, not used, so
// each worker opens its own link again and again. Each worker's account
// gets one link in preparation, stored as the recovery flow stores one
// (only the SHA-256 of a 256-bit secret). The POST that uses a link is left
// out: it is one argon2id hash, as a sign-in's (password-login).
type resetPage struct {
	paths []string // per worker: the link's path and query
}

func (s *resetPage) prepare(ctx context.Context, e *env, n int) error {
	store, err := sqlstore.Open(ctx, e.o.databaseURL, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	inst, err := store.GetInstitutionBySlug(ctx, e.slug)
	if err != nil {
		return err
	}
	s.paths = make([]string, n)
	for i := range n {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret) // never fails (crypto/rand)
		text := base64.RawURLEncoding.EncodeToString(secret)
		hash := sha256.Sum256([]byte(text))
		t := &storage.ActionToken{AccountID: e.accounts[i].id, Purpose: storage.PurposeReset, SecretHash: hash[:],
			PointOfSale: e.shop.id, ExpiresAt: time.Now().Add(48 * time.Hour)}
		if err := store.In(inst.ID).CreateActionToken(ctx, t); err != nil {
			return fmt.Errorf("reset link: %w", err)
		}
		s.paths[i] = e.base + "/password/reset?" + url.Values{"token": {text}}.Encode()
	}
	return nil
}

// resetForm is in the page a valid link opens.
var resetForm = []byte(`name="password_confirm"`)

func (s *resetPage) op(_ context.Context, e *env, i int) error {
	a, err := e.raw[i].do("GET", s.paths[i], nil)
	if err != nil {
		return err
	}
	if a.status != 200 || !bytes.Contains(a.body, resetForm) {
		return rawError("reset-page", s.paths[i], a)
	}
	return nil
}
