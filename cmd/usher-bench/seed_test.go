package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// TestSeed seeds accounts and tokens, then tokens for the accounts already
// there, in statements and transactions smaller than the load, and finds
// the accounts through the store.
func TestSeed(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		sqltest.Open(t, db, sqlstore.Options{}) // migrated
		ctx := context.Background()
		o := seedOptions{databaseURL: db.URL, institution: "big", accounts: 40, tokens: 300, days: 3,
			batch: 7, txRows: 50, prefix: "t"}
		var out bytes.Buffer
		if err := seed(ctx, o, &out); err != nil {
			t.Fatalf("seed: %v\n%s", err, out.String())
		}
		o.accounts = 0
		if err := seed(ctx, o, &out); err != nil {
			t.Fatalf("seed tokens only: %v\n%s", err, out.String())
		}
		for _, want := range []string{"accounts: 40 rows in", "oauth2_tokens: 300 rows in", "token rows: ",
			"seeded accounts: t-<n>@seed.example (n from 0)"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
		if n := strings.Count(out.String(), "oauth2_tokens: 300 rows in"); n != 2 {
			t.Errorf("want two token loads, got %d:\n%s", n, out.String())
		}
		s := sqltest.Open(t, db, sqlstore.Options{})
		inst, err := s.GetInstitutionBySlug(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.In(inst.ID).ListAccounts(ctx, storage.AccountFilter{})
		if err != nil || len(list) != 40 {
			t.Fatalf("accounts: %d, %v", len(list), err)
		}
		for i, a := range list[1:] {
			if !a.CreatedAt.After(list[i].CreatedAt) {
				t.Errorf("account %s created %s, not after the one before it", a.Email, a.CreatedAt)
			}
		}
		a, err := s.In(inst.ID).GetAccountByEmail(ctx, storage.Customer, "t-39@seed.example")
		if err != nil {
			t.Fatal(err)
		}
		if a.Version != 1 || !a.EmailVerified || a.GivenName == "" {
			t.Errorf("seeded account: %+v", a)
		}
	})
}
