package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v3"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/storage/sqlstore"
)

// benchPassword is the password of every account the benchmark creates.
const benchPassword = "Bench-passw0rd-correct-horse"

// client is a registered client's credentials.
type client struct{ id, secret string }

// account is a worker's account.
type account struct{ id, email string }

// env is everything the scenarios share: the server's URLs, the clients
// and accounts made for this run, and the HTTP side.
type env struct {
	o          options
	issuer     string // absolute
	base       string // the issuer's path: /institutions/{slug}
	slug       string
	dialect    string
	dbname     string // PostgreSQL: the database's name, to find its backends
	transport  *http.Transport
	api        *http.Client // back channel: no cookies, no redirects
	shop       client       // confidential, code + refresh, first party
	machine    client       // client credentials
	jwtMachine client       // client credentials, JWT access tokens (ES256)
	resource   client       // resource server: introspects any token
	accounts   []account    // one per worker
	browsers   []*browser   // one per worker, signed in as its account
	verifier   *oidc.IDTokenVerifier
	// client_secret_basic headers of the clients, computed once.
	shopAuth, machineAuth, resourceAuth, jwtMachineAuth header
	raw                                                 []*rawClient // one per worker
}

// newRaw returns a raw client of the target (checked in setup).
func (e *env) newRaw() *rawClient {
	c, _ := newRawClient(e.o.target)
	return c
}

func (e *env) endpoint(path string) string { return e.issuer + path }

// setup creates the institution (unless it exists), its signing keys, the
// clients and one account per worker, directly in the database, then waits
// until the server serves them.
func setup(ctx context.Context, o options, log func(string, ...any)) (*env, error) {
	store, err := sqlstore.Open(ctx, o.databaseURL, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if err := store.Ready(ctx); err != nil {
		return nil, fmt.Errorf("database: %w (start the server first: it migrates)", err)
	}
	e := &env{o: o, dialect: store.Dialect(), transport: newTransport(o.workers())}
	if u, err := url.Parse(o.databaseURL); err == nil && e.dialect == "postgres" {
		e.dbname = strings.TrimPrefix(u.Path, "/")
	}
	e.api = &http.Client{Transport: e.transport, CheckRedirect: noFollow, Timeout: time.Minute}
	slug := o.institution
	if slug == "" {
		slug = "bench-" + time.Now().UTC().Format("20060102-150405")
	}
	if _, err := newRawClient(o.target); err != nil {
		return nil, err
	}
	e.slug, e.base = slug, issuer.Path(slug)
	e.issuer = o.target + e.base
	inst, err := institution(ctx, store, slug)
	if err != nil {
		return nil, err
	}
	if err := ensureKeys(ctx, store, o.secret, inst.ID); err != nil {
		return nil, err
	}
	tag := randomTag()
	specs := []struct {
		dst  *client
		spec provider.ClientSpec
	}{
		{&e.shop, provider.ClientSpec{ID: "bench-shop-" + tag, Name: "Bench shop", RedirectURIs: []string{redirectURI},
			FirstParty: true, IDTokenAlg: o.idTokenAlg, PointOfSale: true, HomeURL: "https://shop.example/"}},
		{&e.machine, provider.ClientSpec{ID: "bench-machine-" + tag, Name: "Bench back end",
			GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"accounts:read"}}},
		{&e.jwtMachine, provider.ClientSpec{ID: "bench-jwt-" + tag, Name: "Bench back end (JWT access tokens)",
			GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"accounts:read"}, IDTokenAlg: keys.ES256,
			AccessTokenFormat: storage.AccessTokenJWT, Audiences: []string{"https://api.bench.example"}}},
		{&e.resource, provider.ClientSpec{ID: "bench-resource-" + tag, Name: "Bench resource server",
			GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"accounts:read"}, Introspection: true}},
	}
	clients := clientsOf(store)
	for _, s := range specs {
		c, secret, err := clients.Register(ctx, inst, s.spec, benchActor)
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", s.spec.Name, err)
		}
		*s.dst = client{c.ID, secret}
	}
	e.shopAuth = header{"Authorization", basicAuth(e.shop.id, e.shop.secret)}
	e.machineAuth = header{"Authorization", basicAuth(e.machine.id, e.machine.secret)}
	e.resourceAuth = header{"Authorization", basicAuth(e.resource.id, e.resource.secret)}
	e.jwtMachineAuth = header{"Authorization", basicAuth(e.jwtMachine.id, e.jwtMachine.secret)}
	log("institution %s: created 4 clients; creating %d accounts (argon2id each)", slug, o.workers())
	if e.accounts, err = createAccounts(ctx, store, inst, tag, o.workers()); err != nil {
		return nil, err
	}
	if e.browsers, err = signedInBrowsers(ctx, store, inst, e.accounts, o.target, e.transport); err != nil {
		return nil, err
	}
	if err := e.waitForServer(ctx); err != nil {
		return nil, err
	}
	return e, e.loadVerifier(ctx)
}

func randomTag() string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(randomString(6)))[:6]
}

// institution returns the institution with this slug, creating it.
func institution(ctx context.Context, store *sqlstore.Store, slug string) (*storage.Institution, error) {
	inst, err := store.GetInstitutionBySlug(ctx, slug)
	if err == nil {
		return inst, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	inst, err = (&flows.Institutions{Store: store}).Create(ctx, slug, "Benchmark "+slug)
	if err != nil {
		return nil, fmt.Errorf("institution %s: %w", slug, err)
	}
	return inst, nil
}

// ensureKeys creates the institution's signing keys now (so no key is
// generated during a measurement) and checks that the secret opens them:
// a secret other than the server's would make the server fail later.
func ensureKeys(ctx context.Context, store *sqlstore.Store, secret, instID string) error {
	sealer, err := seal.New([]byte(secret), keys.SealPurpose)
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	if _, err := keys.Ensure(ctx, store, sealer, instID); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	if _, err := keys.Load(ctx, store.In(instID), sealer, instID); err != nil {
		return fmt.Errorf("signing keys do not open with --secret (it must be the server's): %w", err)
	}
	return nil
}

// createAccounts creates n active customers with benchPassword, hashing
// on every core.
func createAccounts(ctx context.Context, store *sqlstore.Store, inst *storage.Institution, tag string, n int) ([]account, error) {
	hasher, err := password.NewHasher(password.Config{})
	if err != nil {
		return nil, err
	}
	accts := &flows.Accounts{In: func(id string) flows.AccountsStore { return store.In(id) }, Tx: store,
		Hasher: hasher, Policy: password.NewChecker(), Now: store.Now}
	out := make([]account, n)
	return out, parallel(n, runtime.GOMAXPROCS(0), func(i int) error {
		email := fmt.Sprintf("bench-%s-%d@bench.example", tag, i)
		a, err := accts.Create(ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: email,
			GivenName: "Bench", FamilyName: fmt.Sprintf("Worker %d", i), Password: benchPassword,
			EmailVerified: true}, flows.ActorCLI)
		if err != nil {
			return fmt.Errorf("account %s: %w", email, err)
		}
		out[i] = account{id: a.ID, email: email}
		return nil
	})
}

// signedInBrowsers gives every account a browser with a browser session
// at the institution, signed in as the sign-in page signs in (password,
// now), so that preparing the scenarios costs the server no password
// hashing: its memory before a scenario is not that of argon2id.
func signedInBrowsers(ctx context.Context, store *sqlstore.Store, inst *storage.Institution, accts []account,
	publicURL string, t http.RoundTripper) ([]*browser, error) {
	browsers := &flows.BrowserSessions{In: func(id string) flows.SessionStore { return store.In(id) }, Tx: store,
		PublicURL: publicURL}
	sessions := &flows.Sessions{Browsers: browsers}
	base, err := url.Parse(issuer.URL(publicURL, inst.Slug) + "/")
	if err != nil {
		return nil, err
	}
	out := make([]*browser, len(accts))
	for i, a := range accts {
		cookie, err := sessions.SignedInCookie(ctx, inst, a.id)
		if err != nil {
			return nil, fmt.Errorf("browser session: %w", err)
		}
		out[i] = newBrowser(t)
		out[i].http.Jar.SetCookies(base, []*http.Cookie{cookie})
	}
	return out, nil
}

// waitForServer waits until the server issues tokens to the new clients:
// it caches an institution's clients and re-reads them when the
// institution's version changes, which it checks about once a second.
func (e *env) waitForServer(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	c := e.newRaw()
	defer c.close()
	for {
		_, err := e.clientCredentials(c)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the server does not serve the benchmark's clients (is --target the server of --database-url?): %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// loadVerifier fetches the JWKS once and builds the ID token verifier of
// the shop.
func (e *env) loadVerifier(ctx context.Context) error {
	r, err := get(ctx, e.api, e.endpoint("/jwks"))
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return statusError("jwks", r)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.body, &set); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	var pub []crypto.PublicKey
	for _, k := range set.Keys {
		pub = append(pub, k.Key)
	}
	e.verifier = oidc.NewVerifier(e.issuer, &oidc.StaticKeySet{PublicKeys: pub},
		&oidc.Config{ClientID: e.shop.id, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	return nil
}

var ccBody = []byte(url.Values{"grant_type": {"client_credentials"}, "scope": {"accounts:read"}}.Encode())

// clientCredentials gets an access token for the machine client.
func (e *env) clientCredentials(c *rawClient) (string, error) {
	return e.token(c, e.machineAuth)
}

// token gets a client credentials access token for the client of auth.
func (e *env) token(c *rawClient, auth header) (string, error) {
	path := e.base + "/oauth2/token"
	a, err := c.do("POST", path, ccBody, formHeader, auth)
	if err != nil {
		return "", err
	}
	if a.status != 200 {
		return "", rawError("client credentials", path, a)
	}
	tok, ok := jsonString(a.body, "access_token")
	if !ok {
		return "", fmt.Errorf("client credentials: no access_token in %.200s", a.body)
	}
	return tok, nil
}

// authURL is an authorization request of the shop.
func (e *env) authURL(f flow, scope string) string {
	q := url.Values{
		"client_id":             {e.shop.id},
		"response_type":         {"code"},
		"redirect_uri":          {redirectURI},
		"scope":                 {scope},
		"state":                 {f.state},
		"code_challenge":        {f.challenge()},
		"code_challenge_method": {"S256"},
	}
	if strings.Contains(" "+scope+" ", " openid ") {
		q.Set("nonce", f.nonce)
	}
	return e.endpoint("/oauth2/authorize") + "?" + q.Encode()
}

// signIn runs a whole authorization request in browser b: authorize, the
// sign-in page when it shows (GET, then POST of email and password), back
// to authorize, the code. It returns the code.
func (e *env) signIn(ctx context.Context, b *browser, a account, f flow, scope string) (string, error) {
	cb, page, err := b.follow(ctx, e.authURL(f, scope))
	if err != nil {
		return "", err
	}
	if cb == nil {
		if !strings.HasSuffix(page.url.Path, "/login") {
			return "", statusError("authorize: expected the sign-in page", page)
		}
		form := url.Values{"email": {a.email}, "password": {benchPassword},
			"return_to": {page.url.Query().Get("return_to")}}
		r, err := b.post(ctx, page.url.String(), form)
		if err != nil {
			return "", err
		}
		if r.status != http.StatusSeeOther && r.status != http.StatusFound {
			return "", statusError("sign-in", r)
		}
		next, err := r.url.Parse(r.location())
		if err != nil {
			return "", fmt.Errorf("sign-in: redirect to %q: %v", r.location(), err)
		}
		if cb, page, err = b.follow(ctx, next.String()); err != nil {
			return "", err
		}
		if cb == nil {
			return "", statusError("after sign-in: expected the redirect to the shop", page)
		}
	}
	return callbackCode(cb, f, e.issuer)
}

// callbackCode checks the redirect to the shop and returns its code.
func callbackCode(cb url.Values, f flow, issuer string) (string, error) {
	switch {
	case cb.Get("error") != "":
		return "", fmt.Errorf("authorize: %s: %s", cb.Get("error"), cb.Get("error_description"))
	case cb.Get("state") != f.state:
		return "", errors.New("authorize: the state came back changed")
	case cb.Get("iss") != issuer:
		return "", fmt.Errorf("authorize: iss %q, want %q", cb.Get("iss"), issuer)
	case cb.Get("code") == "":
		return "", errors.New("authorize: no code")
	}
	return cb.Get("code"), nil
}

// exchange redeems a code and, when an ID token comes back, verifies it
// (signature with the JWKS, issuer, audience, expiry, nonce, at_hash).
func (e *env) exchange(ctx context.Context, c *rawClient, code string, f flow, wantIDToken bool) (tokenResponse, error) {
	path := e.base + "/oauth2/token"
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {f.verifier}}.Encode()
	a, err := c.do("POST", path, []byte(body), formHeader, e.shopAuth)
	if err != nil {
		return tokenResponse{}, err
	}
	t, err := tokensOf("code exchange", path, a)
	if err != nil {
		return t, err
	}
	if wantIDToken {
		return t, e.verifyIDToken(ctx, t, f.nonce)
	}
	return t, nil
}

// issue signs worker i's browser in with scope and redeems the code on a
// connection of its own.
func (e *env) issue(ctx context.Context, i int, scope string, wantIDToken bool) (tokenResponse, error) {
	f := newFlow()
	code, err := e.signIn(ctx, e.browsers[i], e.accounts[i], f, scope)
	if err != nil {
		return tokenResponse{}, err
	}
	c := e.newRaw()
	defer c.close()
	return e.exchange(ctx, c, code, f, wantIDToken)
}

// tokensOf reads a successful token response.
func tokensOf(what, path string, a answer) (tokenResponse, error) {
	var t tokenResponse
	if a.status != 200 {
		return t, rawError(what, path, a)
	}
	var ok bool
	if t.AccessToken, ok = jsonString(a.body, "access_token"); !ok {
		return t, fmt.Errorf("%s: no access_token in %.200s", what, a.body)
	}
	t.IDToken, _ = jsonString(a.body, "id_token")
	t.RefreshToken, _ = jsonString(a.body, "refresh_token")
	return t, nil
}

func (e *env) verifyIDToken(ctx context.Context, t tokenResponse, nonce string) error {
	if t.IDToken == "" {
		return errors.New("no id_token in the token response")
	}
	id, err := e.verifier.Verify(ctx, t.IDToken)
	if err != nil {
		return fmt.Errorf("ID token: %w", err)
	}
	if nonce != "" && id.Nonce != nonce {
		return fmt.Errorf("ID token: nonce %q, want %q", id.Nonce, nonce)
	}
	if id.AccessTokenHash != "" {
		if err := id.VerifyAccessToken(t.AccessToken); err != nil {
			return fmt.Errorf("ID token: at_hash: %w", err)
		}
	}
	return nil
}

// setupAtOnce bounds the workers a scenario prepares at once (sign-ins hash
// passwords: more at once would only queue in the server).
const setupAtOnce = 4

// parallel runs fn for 0 <= i < n, at most limit at once, and joins the
// errors.
func parallel(n, limit int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// benchActor is who the audit trail says registered the bench's clients.
const benchActor = "cli"

// clientsOf is client registration over the bench's store, as cmd/usher
// wires it.
func clientsOf(store *sqlstore.Store) *provider.Clients {
	c, _ := provider.NewClients(provider.ClientsConfig{Transactor: store,
		In: func(id string) provider.ClientStore { return store.In(id) }}) // both set: no error
	return c
}
