package flows_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/templates"
)

// webEnv is the pages of every flow served on a loopback server, over a
// real store with a fake clock, as cmd/usher wires them.
type webEnv struct {
	*fixture
	catalog  *templates.Catalog
	sessions *flows.Sessions
	site     *flows.Site
	srv      *httptest.Server
	metrics  *countingMetrics
	mailer   *recordingMailer
	handlers inflight // what the server is still doing
	logs     *lockedBuffer
	opera    *storage.Institution
}

const (
	goodPassword = "correct horse battery"
	shopID       = "shop"
	boxOfficeID  = "box-office"
)

func newWebEnv(t *testing.T, f *fixture) *webEnv {
	t.Helper()
	return newWebEnvAt(t, f, "http://usher.test")
}

// newWebEnvAt is newWebEnv with the public URL publicURL.
func newWebEnvAt(t *testing.T, f *fixture, publicURL string) *webEnv {
	t.Helper()
	catalog, err := templates.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := templates.NewPages(catalog)
	if err != nil {
		t.Fatal(err)
	}
	e := &webEnv{fixture: f, catalog: catalog, metrics: &countingMetrics{counts: map[string]int{}}, logs: &lockedBuffer{}}
	store := f.store
	e.mailer = &recordingMailer{next: f.accounts.Mailer}
	e.sessions = sessions(store, publicURL, f.clock.Now)
	e.site = &flows.Site{Institutions: store, Pages: pages, Catalog: catalog, PublicURL: publicURL,
		ThrottleKey: f.accounts.ThrottleKey,
		In:          func(id string) flows.SiteStore { return store.In(id) },
		Now:         f.clock.Now, Log: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	signIn := &flows.SignIn{Site: e.site, Sessions: e.sessions, In: func(id string) flows.SignInStore { return store.In(id) },
		Tx: store, Hasher: f.hasher, Metrics: e.metrics, DeviceKey: testDeviceKey}
	h := &flows.Handlers{
		Site:   e.site,
		SignIn: signIn,
		PasswordChange: &flows.PasswordChange{Site: e.site, SignIn: signIn, Tx: store, Hasher: f.hasher,
			Policy: f.accounts.Policy, In: func(id string) flows.PasswordChangeStore { return store.In(id) }},
		Consent: &flows.Consent{Site: e.site, Sessions: e.sessions, Tx: store,
			In: func(id string) flows.ConsentStore { return store.In(id) }},
		Logout: &flows.Logout{Site: e.site, Sessions: e.sessions, In: func(id string) flows.LogoutStore { return store.In(id) }},
		Account: &flows.AccountPage{Site: e.site, SignIn: signIn, Tx: store, Hasher: f.hasher, Policy: f.accounts.Policy,
			RecoveryKey: testRecoveryKey, Mailer: e.mailer, In: func(id string) flows.AccountPageStore { return store.In(id) }},
		Recovery: &flows.Recovery{Site: e.site, Sessions: e.sessions, Tx: store, Hasher: f.hasher, Policy: f.accounts.Policy,
			Mailer: e.mailer, In: func(id string) flows.RecoveryStore { return store.In(id) }},
		Registration: &flows.Registration{Site: e.site, Sessions: e.sessions, Tx: store, Hasher: f.hasher,
			Policy: f.accounts.Policy, Mailer: e.mailer, In: func(id string) flows.RegistrationStore { return store.In(id) }},
		Activation: &flows.Activation{Site: e.site, SignIn: signIn, Tx: store, Hasher: f.hasher, Policy: f.accounts.Policy,
			Mailer: e.mailer, In: func(id string) flows.ActivationStore { return store.In(id) }},
		TwoFactor: &flows.TwoFactor{Site: e.site, SignIn: signIn, Tx: store, Secrets: totpSealer(t), Mailer: e.mailer,
			RecoveryKey: testRecoveryKey, In: func(id string) flows.TwoFactorStore { return store.In(id) }},
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	e.srv = httptest.NewServer(e.handlers.track(mux))
	t.Cleanup(e.srv.Close)
	e.opera = e.institutionWithClients(t, "opera")
	return e
}

// institutionWithClients creates an institution with a shop (customers)
// and a box office (operators).
func (e *webEnv) institutionWithClients(t *testing.T, slug string) *storage.Institution {
	t.Helper()
	inst := e.institution(t, slug)
	s := e.store.In(inst.ID)
	scopes := storage.List{"openid", "email", "profile", "offline_access"}
	must(t, s.CreateClient(e.ctx, &storage.Client{ID: shopID, Name: "Ticket Shop", AccountKind: storage.Customer,
		RedirectURIs: storage.List{"https://shop.example/cb"}, Scopes: scopes}))
	must(t, s.CreateClient(e.ctx, &storage.Client{ID: boxOfficeID, Name: "Box Office", AccountKind: storage.Operator,
		RedirectURIs: storage.List{"https://box.example/cb"}, Scopes: scopes}))
	return inst
}

// customer creates an active customer of the institution with goodPassword.
func (e *webEnv) customer(t *testing.T, inst *storage.Institution, email string) *storage.Account {
	t.Helper()
	a, err := e.accounts.Create(e.ctx, inst, flows.NewAccount{Kind: storage.Customer, Email: email,
		Password: goodPassword}, flows.ActorCLI)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// setSettings changes the institution's settings, and inst with them.
func (e *webEnv) setSettings(t *testing.T, inst *storage.Institution, change func(*storage.Settings)) {
	t.Helper()
	fresh, err := e.store.GetInstitution(e.ctx, inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	change(&fresh.Settings)
	must(t, e.store.UpdateInstitution(e.ctx, fresh))
	*inst = *fresh
}

// returnTo is an authorization request of the client at the institution.
func returnTo(slug, clientID string, extra ...string) string {
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {"openid email"},
		"redirect_uri": {"https://shop.example/cb"}, "state": {"st4te-s3cret"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "/institutions/" + slug + "/oauth2/authorize?" + q.Encode()
}

// message is a catalogue message as a page shows it (escaped).
func (e *webEnv) message(locale, id string, args map[string]string) string {
	return template.HTMLEscapeString(e.catalog.Message(locale, id, args))
}

// authenticated asks the browser sessions about a request carrying cookie
// under the institution's path, as the provider does.
func (e *webEnv) authenticated(t *testing.T, inst *storage.Institution, cookie *http.Cookie) *issuer.SignedIn {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/institutions/"+inst.Slug+"/oauth2/authorize", nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	bs, err := e.sessions.Authenticated(r, inst)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// recordID is the record ID of a cookie token.
func recordID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// browser is a cookie-jar client that does not follow redirects.
type browser struct {
	t      *testing.T
	e      *webEnv
	jar    *cookiejar.Jar
	client *http.Client
}

func (e *webEnv) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, e: e, jar: jar, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is what the browser got.
type response struct {
	status   int
	header   http.Header
	body     string
	cookies  []*http.Cookie
	location string
}

func (b *browser) do(method, path string, form url.Values, header http.Header) response {
	b.t.Helper()
	got, err := b.try(method, path, form, header)
	if err != nil {
		b.t.Fatal(err)
	}
	return got
}

// try is do for goroutines: it returns the error instead of failing.
func (b *browser) try(method, path string, form url.Values, header http.Header) (response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		return response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	b.e.handlers.wait() // a handler may go on working after its answer (recovery)
	return response{status: resp.StatusCode, header: resp.Header, body: string(out), cookies: resp.Cookies(),
		location: resp.Header.Get("Location")}, nil
}

func (b *browser) get(path string) response {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil, nil)
}

func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	return b.do(http.MethodPost, path, form, nil)
}

// signIn posts the sign-in form of the institution.
func (b *browser) signIn(slug, email, pw, rt string) response {
	b.t.Helper()
	return b.post("/institutions/"+slug+"/login", url.Values{"email": {email}, "password": {pw}, "return_to": {rt}})
}

// cookie is the browser's session cookie for the institution, or nil.
func (b *browser) cookie(slug string) *http.Cookie {
	u, _ := url.Parse(b.e.srv.URL + "/institutions/" + slug + "/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == flows.CookieName {
			return c
		}
	}
	return nil
}

// countingMetrics records what Web measures.
type countingMetrics struct {
	mu     sync.Mutex
	counts map[string]int
}

func (m *countingMetrics) SignIn(outcome string) { m.add("sign_in:" + outcome) }
func (m *countingMetrics) Lockout()              { m.add("lockout") }

func (m *countingMetrics) add(k string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[k]++
}

func (m *countingMetrics) get(k string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[k]
}

// testDeviceKey signs the device cookies in tests.
var testDeviceKey = []byte("device cookies key, 32 bytes ...")

// testRecoveryKey is the key of the recovery codes' stored form in tests.
var testRecoveryKey = []byte("recovery codes key, 32 bytes ...")

// totpSealer seals TOTP secrets as cmd/usher does, with a test secret.
func totpSealer(t *testing.T) *seal.Sealer {
	t.Helper()
	s, err := seal.New([]byte(strings.Repeat("m", 32)), "totp")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inflight counts the handlers running, so that a test can wait for the
// work a handler does after it has answered.
type inflight struct {
	mu      sync.Mutex
	running int
	idle    *sync.Cond
}

func (f *inflight) track(next http.Handler) http.Handler {
	f.idle = sync.NewCond(&f.mu)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.running++
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.running--
			f.idle.Broadcast()
			f.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// wait returns once no handler runs.
func (f *inflight) wait() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.running > 0 {
		f.idle.Wait()
	}
}

// lockedBuffer is a log destination safe for concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// auditActions lists the actions recorded for the account ("" for all).
func (e *webEnv) auditActions(t *testing.T, inst *storage.Institution, accountID, action string) []storage.AuditEvent {
	t.Helper()
	events, err := e.store.In(inst.ID).ListAudit(e.ctx, storage.AuditFilter{AccountID: accountID, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return events
}
