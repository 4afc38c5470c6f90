package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/internal/metrics"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// The end-to-end tests run the same handler graph as usher serve, on a real
// database, and drive it the way a relying party (golang.org/x/oauth2 with
// PKCE, coreos/go-oidc verifying ID tokens) and a browser with cookies do.

const (
	testPassword    = "correct horse battery staple"
	testRedirectURI = "https://shop.example/callback"
)

// usherServer is a running Usher.
type usherServer struct {
	t          *testing.T
	a          *app
	url        string
	metricsURL string // the metrics listener's /metrics
	log        *testLogWriter
	inst       *storage.Institution
	issuer     string
}

// startUsher serves Usher on a loopback port with the given extra
// environment (for instance token lifetimes).
func startUsher(t *testing.T, db sqltest.DB, env ...string) *usherServer {
	t.Helper()
	return startUsherAs(t, db, "", env...)
}

// startUsherAs is startUsher with the public URL publicURL ("": its own
// address). The issuer field is always the server's own address, where the
// tests send requests.
func startUsherAs(t *testing.T, db sqltest.DB, publicURL string, env ...string) *usherServer {
	t.Helper()
	return startUsherAt(t, db, publicURL, time.Now, env...)
}

// startUsherAt is startUsherAs with the clock now (the process edge).
func startUsherAt(t *testing.T, db sqltest.DB, publicURL string, now func() time.Time, env ...string) *usherServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if publicURL == "" {
		publicURL = base
	}
	logs := &testLogWriter{t: t}
	c := &cli{env: append(env,
		"USHER_DATABASE_URL="+db.URL, "USHER_PUBLIC_URL="+publicURL, "USHER_SECRET="+strings.Repeat("k", 40),
		"USHER_SMTP_HOST=smtp.example.org", "USHER_SMTP_FROM=no-reply@example.org", "USHER_LOG_LEVEL=error"),
		stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs, now: now}
	m := metrics.New()
	a, err := c.openWith(context.Background(), newFlags("test"), true, m)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: newHandler(a, m, nil)}}
	srv.Start()
	stopAfterwards := a.runAfterwards()
	metricsSrv := httptest.NewServer(metricsServer(m).Handler)
	t.Cleanup(func() { srv.Close(); metricsSrv.Close(); stopAfterwards(); a.Close() })
	u := &usherServer{t: t, a: a, url: base, metricsURL: metricsSrv.URL + "/metrics", log: logs}
	u.inst = u.institution("demo")
	u.issuer = issuer.URL(base, "demo")
	return u
}

// testLogWriter sends the server's log to the test log, and keeps it for
// the test to read (USHER_LOG_LEVEL=error unless the test says otherwise).
type testLogWriter struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	w.mu.Lock()
	w.lines = append(w.lines, string(p))
	w.mu.Unlock()
	return len(p), nil
}

// count returns how many lines of the log contain every part.
func (w *testLogWriter) count(parts ...string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if containsAll(l, parts) {
			n++
		}
	}
	return n
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// institution returns the institution with this slug, creating it.
func (u *usherServer) institution(slug string) *storage.Institution {
	u.t.Helper()
	ctx := context.Background()
	if inst, err := u.a.store.GetInstitutionBySlug(ctx, slug); err == nil {
		return inst
	}
	inst, err := u.a.institutions.Create(ctx, slug, "Institution "+slug)
	if err != nil {
		u.t.Fatal(err)
	}
	return inst
}

// client registers a client in inst and returns its ID and secret.
func (u *usherServer) client(inst *storage.Institution, spec provider.ClientSpec) (string, string) {
	u.t.Helper()
	if spec.Name == "" {
		spec.Name = "Test shop"
	}
	c, secret, err := u.a.clients.Register(context.Background(), inst, spec, string(flows.ActorCLI))
	if err != nil {
		u.t.Fatal(err)
	}
	return c.ID, secret
}

// shop registers a first-party confidential shop client in the demo institution.
func (u *usherServer) shop() (string, string) {
	return u.client(u.inst, provider.ClientSpec{RedirectURIs: []string{testRedirectURI},
		PostLogoutRedirectURIs: []string{"https://shop.example/bye"}, FirstParty: true})
}

// account creates an active account in inst.
func (u *usherServer) account(inst *storage.Institution, kind storage.AccountKind, email string) *storage.Account {
	u.t.Helper()
	a, err := u.a.accounts.Create(context.Background(), inst, flows.NewAccount{Kind: kind, Email: email,
		GivenName: "Ann", FamilyName: "Smith", Password: testPassword, EmailVerified: true}, flows.ActorCLI)
	if err != nil {
		u.t.Fatal(err)
	}
	return a
}

// browser is a person's browser: cookies, and it stops at the relying
// party's redirect URI instead of following it.
type browser struct {
	t    *testing.T
	http *http.Client
	// pages is every page URL the browser visited during the last authorize.
	pages []string
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t}
	b.http = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), "https://shop.example/") {
			return http.ErrUseLastResponse
		}
		b.pages = append(b.pages, req.URL.Path)
		return nil
	}}
	return b
}

// visit gets a URL and returns the final response (body read) after
// redirects within Usher.
func (b *browser) visit(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.http.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.read(resp)
}

func (b *browser) read(resp *http.Response) (*http.Response, string) {
	b.t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

var (
	returnToField = regexp.MustCompile(`name="return_to" value="([^"]*)"`)
	formAction    = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
)

// authorize follows an authorization URL as a person would: when the
// sign-in page shows, it signs in with email and password. It returns the
// redirect to the relying party (its query: code, state, iss or error).
func (b *browser) authorize(authURL, email, password string) url.Values {
	b.t.Helper()
	b.pages = nil
	resp, body := b.visit(authURL)
	if strings.Contains(resp.Request.URL.Path, "/login") && resp.StatusCode == http.StatusOK {
		if email == "" {
			b.t.Fatalf("sign-in page shown, and no credentials to give")
		}
		resp, body = b.submit(resp, body, url.Values{"email": {email}, "password": {password}})
	}
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		b.t.Fatalf("authorize ended with %d at %s, not a redirect to the relying party:\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), "https://shop.example/") {
		b.t.Fatalf("redirect to %q, want the relying party", resp.Header.Get("Location"))
	}
	return loc.Query()
}

// submit posts the page's form with fields, plus its hidden return_to.
func (b *browser) submit(resp *http.Response, body string, fields url.Values) (*http.Response, string) {
	b.t.Helper()
	if m := returnToField.FindStringSubmatch(body); m != nil {
		fields.Set("return_to", htmlUnescape(m[1]))
	}
	action := resp.Request.URL.String()
	if m := formAction.FindStringSubmatch(body); m != nil && m[1] != "" {
		ref, err := resp.Request.URL.Parse(htmlUnescape(m[1]))
		if err != nil {
			b.t.Fatal(err)
		}
		action = ref.String()
	}
	r, err := b.http.PostForm(action, fields)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.read(r)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// rp is a relying party: x/oauth2 for the protocol, go-oidc for discovery
// and ID token verification. It knows only the issuer URL.
type rp struct {
	t        *testing.T
	ctx      context.Context
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config
}

func newRP(t *testing.T, issuer, clientID, secret string, scopes ...string) *rp {
	t.Helper()
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}
	}
	return &rp{t: t, ctx: ctx, provider: p, verifier: p.Verifier(&oidc.Config{ClientID: clientID}),
		conf: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(),
			RedirectURL: testRedirectURI, Scopes: scopes}}
}

// flow is one authorization request of the relying party.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: randomString(), nonce: randomString(), verifier: oauth2.GenerateVerifier()}
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authURL is the authorization URL of f, with PKCE and a nonce.
func (r *rp) authURL(f flow, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce)}, extra...)
	return r.conf.AuthCodeURL(f.state, opts...)
}

// signIn runs the code flow in browser b and returns the tokens and the
// verified ID token.
func (r *rp) signIn(b *browser, email string, extra ...oauth2.AuthCodeOption) (*oauth2.Token, *oidc.IDToken) {
	r.t.Helper()
	f := newFlow()
	got := b.authorize(r.authURL(f, extra...), email, testPassword)
	if got.Get("state") != f.state || got.Get("code") == "" {
		r.t.Fatalf("callback %v: want a code and state %q", got, f.state)
	}
	if got.Get("iss") != r.providerIssuer() {
		r.t.Errorf("callback iss = %q, want %q (RFC 9207)", got.Get("iss"), r.providerIssuer())
	}
	return r.exchange(got.Get("code"), f)
}

func (r *rp) providerIssuer() string {
	var meta struct {
		Issuer string `json:"issuer"`
	}
	if err := r.provider.Claims(&meta); err != nil {
		r.t.Fatal(err)
	}
	return meta.Issuer
}

// exchange redeems a code and verifies the ID token (signature, issuer,
// audience, expiry, nonce, at_hash).
func (r *rp) exchange(code string, f flow) (*oauth2.Token, *oidc.IDToken) {
	r.t.Helper()
	tok, err := r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	return tok, r.verify(tok, f.nonce)
}

func (r *rp) verify(tok *oauth2.Token, nonce string) *oidc.IDToken {
	r.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		r.t.Fatal("no id_token in the token response")
	}
	id, err := r.verifier.Verify(r.ctx, raw)
	if err != nil {
		r.t.Fatalf("ID token does not verify: %v", err)
	}
	if nonce != "" && id.Nonce != nonce {
		r.t.Errorf("nonce = %q, want %q", id.Nonce, nonce)
	}
	if err := id.VerifyAccessToken(tok.AccessToken); id.AccessTokenHash != "" && err != nil {
		r.t.Errorf("at_hash: %v", err)
	}
	return id
}

// post sends a form to an endpoint with client_secret_basic (none when
// clientID is empty) and wants a JSON answer, if any.
func post(t *testing.T, endpoint, clientID, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	var auth string
	if clientID != "" {
		auth = basic(clientID, secret)
	}
	r := send(t, http.MethodPost, endpoint, auth, form)
	if strings.TrimSpace(r.raw) != "" && !strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Fatalf("%s answered %d with non-JSON %q", endpoint, r.status, r.raw)
	}
	return r.status, r.body
}

// claimsOf decodes an ID token's claims.
func claimsOf(t *testing.T, id *oidc.IDToken) map[string]any {
	t.Helper()
	var c map[string]any
	if err := id.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustEqualf(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
