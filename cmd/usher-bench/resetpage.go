package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
)

// resetPage: a reset link opened (GET /password/reset?token=…), as the
// person (or their mail scanner) opens it: the link is read, not used, so
// each worker opens its own link again and again. Each worker's account
// gets one link in preparation, made by the recovery flow's own
// flows.NewLink (only the SHA-256 of a 256-bit secret is stored). The POST that uses a link is left
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
		t := &storage.ActionToken{AccountID: e.accounts[i].id, Purpose: storage.PurposeReset,
			PointOfSale: e.shop.id, ExpiresAt: time.Now().Add(48 * time.Hour)}
		text, err := flows.NewLink(ctx, store.In(inst.ID), t)
		if err != nil {
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
