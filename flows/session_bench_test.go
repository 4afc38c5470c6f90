package flows_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

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
	sessions := &flows.BrowserSessions{Store: store, PublicURL: "https://id.example.org"}
	s := sessions.For(inst)
	r := httptest.NewRequest(http.MethodGet, "https://id.example.org/institutions/bench/login", nil)
	sess, err := s.New(r, flows.CookieName)
	if err != nil {
		b.Fatal(err)
	}
	sess.Values[flows.ValueAccountID] = acct.ID
	sess.Values[flows.ValueAuthTime] = time.Now().UTC()
	sess.Values[flows.ValueAMR] = []string{"pwd"}
	sess.Values[flows.ValueState] = flows.SignedIn
	w := httptest.NewRecorder()
	if err := s.Save(r, w, sess); err != nil {
		b.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		b.Fatalf("%d cookies set, want 1", len(cookies))
	}
	req := httptest.NewRequest(http.MethodGet, "https://id.example.org/institutions/bench/oauth2/authorize", nil)
	req.AddCookie(cookies[0])
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
