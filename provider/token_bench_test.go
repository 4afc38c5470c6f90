package provider_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
)

// Benchmarks of the token endpoint's hot paths through the provider's own
// handler graph (no network), on SQLite in a temporary directory. Each
// reports allocations and the SQL statements an operation sends.
//
//	go test -run '^$' -bench . -benchmem ./provider/

// benchProvider is a provider with one institution ("bench") and a client
// credentials client, its handler, and its store.
type benchProvider struct {
	mux          *http.ServeMux
	store        *sqlstore.Store
	id, secret   string
	introspector struct{ id, secret string }
	jwt          map[string]struct{ id, secret string } // clients with JWT access tokens, by algorithm
}

func newBenchProvider(b *testing.B) *benchProvider {
	b.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "usher.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	inst := &storage.Institution{Slug: "bench", Name: "Bench", Settings: storage.DefaultSettings()}
	if err := store.CreateInstitution(ctx, inst); err != nil {
		b.Fatal(err)
	}
	bp := &benchProvider{store: store}
	clients, err := provider.NewClients(provider.ClientsConfig{Transactor: store,
		In: func(id string) provider.ClientStore { return store.In(id) }})
	if err != nil {
		b.Fatal(err)
	}
	register := func(spec provider.ClientSpec) (string, string) {
		c, secret, err := clients.Register(ctx, inst, spec, "cli")
		if err != nil {
			b.Fatal(err)
		}
		return c.ID, secret
	}
	bp.id, bp.secret = register(provider.ClientSpec{Name: "Back end",
		GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"accounts:read"}})
	bp.introspector.id, bp.introspector.secret = register(provider.ClientSpec{Name: "Resource server",
		GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"accounts:read"}, Introspection: true})
	bp.jwt = map[string]struct{ id, secret string }{}
	for _, alg := range []string{"ES256", "RS256"} {
		id, secret := register(provider.ClientSpec{Name: "JWT back end " + alg, IDTokenAlg: alg,
			GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"accounts:read"},
			AccessTokenFormat: storage.AccessTokenJWT, Audiences: []string{"https://api.example.org"}})
		bp.jwt[alg] = struct{ id, secret string }{id, secret}
	}
	p, err := provider.New(provider.Config{PublicURL: "https://id.example.org",
		MasterSecret: []byte(strings.Repeat("m", 32)), Institutions: store, Transactor: store,
		In: func(id string) provider.InstitutionStore { return store.In(id) }, Sessions: nobody{}, Pages: noPages{}})
	if err != nil {
		b.Fatal(err)
	}
	bp.mux = http.NewServeMux()
	p.Routes(bp.mux)
	bp.token() // builds the institution's provider and its signing keys
	return bp
}

// nobody is signed in: the client credentials grant has no browser.
type nobody struct{}

func (nobody) Authenticated(*http.Request, *storage.Institution) (*issuer.SignedIn, error) {
	return nil, nil
}

func (nobody) SignOut(http.ResponseWriter, *http.Request, *storage.Institution) error { return nil }

type noPages struct{}

func (noPages) Error(w http.ResponseWriter, _ *http.Request, _ *storage.Institution, status int, _, _ string) {
	w.WriteHeader(status)
}

func (bp *benchProvider) post(path, id, secret string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "https://id.example.org/institutions/bench"+path,
		strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	rec := httptest.NewRecorder()
	bp.mux.ServeHTTP(rec, req)
	return rec
}

// token issues an access token by the client credentials grant.
func (bp *benchProvider) token() string { return bp.tokenOf(bp.id, bp.secret) }

// tokenOf issues an access token to a client by the client credentials grant.
func (bp *benchProvider) tokenOf(id, secret string) string {
	rec := bp.post("/oauth2/token", id, secret,
		url.Values{"grant_type": {"client_credentials"}, "scope": {"accounts:read"}})
	if rec.Code != http.StatusOK {
		panic("token endpoint answered " + rec.Result().Status + ": " + rec.Body.String())
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.AccessToken == "" {
		panic("token endpoint: no access token in " + rec.Body.String())
	}
	return out.AccessToken
}

// reportStatements reports the SQL statements per operation since before.
func (bp *benchProvider) reportStatements(b *testing.B, before uint64) {
	b.ReportMetric(float64(bp.store.Statements()-before)/float64(b.N), "stmts/op")
}

// BenchmarkTokenClientCredentials issues an access token: client
// authentication (cached client, SHA-256 secret), the HMAC token, one
// INSERT in a transaction, the JSON answer.
func BenchmarkTokenClientCredentials(b *testing.B) {
	bp := newBenchProvider(b)
	b.ReportAllocs()
	before := bp.store.Statements()
	for b.Loop() {
		bp.token()
	}
	bp.reportStatements(b, before)
}

// BenchmarkTokenClientCredentialsJWT issues JWT access tokens (RFC 9068):
// the same without the INSERT (0 statements), with a signature instead.
func BenchmarkTokenClientCredentialsJWT(b *testing.B) {
	bp := newBenchProvider(b)
	for _, alg := range []string{"ES256", "RS256"} {
		c := bp.jwt[alg]
		b.Run(alg, func(b *testing.B) {
			bp.tokenOf(c.id, c.secret) // the client cached
			b.ReportAllocs()
			before := bp.store.Statements()
			for b.Loop() {
				bp.tokenOf(c.id, c.secret)
			}
			bp.reportStatements(b, before)
		})
	}
}

// BenchmarkIntrospect introspects an access token as a resource server.
func BenchmarkIntrospect(b *testing.B) {
	bp := newBenchProvider(b)
	tok := bp.token()
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	b.ReportAllocs()
	before := bp.store.Statements()
	for b.Loop() {
		rec := bp.post("/oauth2/introspect", bp.introspector.id, bp.introspector.secret, form)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"active":true`) {
			b.Fatalf("introspection answered %d: %s", rec.Code, rec.Body)
		}
	}
	bp.reportStatements(b, before)
}
