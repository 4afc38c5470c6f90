package flows_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
)

// BenchmarkSessionAuthenticated looks up a signed-in browser session from
// its cookie, as every authorization request does: the cookie's hash, one
// indexed read on SQLite, the decoding of the record. The session was used
// less than a minute ago, so it is not touched (no write).
//
//	go test -run '^$' -bench Session -benchmem ./flows/
func BenchmarkSessionAuthenticated(b *testing.B) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "usher.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	inst, err := (&flows.Institutions{Store: store}).Create(ctx, "bench", "Bench")
	if err != nil {
		b.Fatal(err)
	}
	acct := &storage.Account{Kind: storage.Customer, Email: "ann@example.org", GivenName: "Ann",
		Status: storage.Active, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"}
	if err := store.In(inst.ID).CreateAccount(ctx, acct); err != nil {
		b.Fatal(err)
	}
	sessions := sessions(store, "https://id.example.org", nil)
	cookie, err := sessions.SignedInCookie(ctx, inst, acct.ID)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "https://id.example.org/institutions/bench/oauth2/authorize", nil)
	req.AddCookie(cookie)
	b.ReportAllocs()
	before := store.Statements()
	for b.Loop() {
		bs, err := sessions.Authenticated(req, inst)
		if err != nil || bs == nil || bs.AccountID != acct.ID {
			b.Fatalf("Authenticated = %v, %v", bs, err)
		}
	}
	b.ReportMetric(float64(store.Statements()-before)/float64(b.N), "stmts/op")
}
