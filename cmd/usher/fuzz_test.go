package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/metrics"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
)

// The fuzz targets drive the same handler graph as usher serve (newHandler),
// built once per fuzz process on a SQLite database in a temporary directory
// and called in-process for every input: no network, so the fuzzer spends
// its time in Usher. Every input goes through the whole graph (middleware,
// mux, fosite, the pages); the invariants are those of DESIGN.md's
// Non-negotiables: never a 500, never a stack trace, never a redirect
// anywhere but where the protocol allows.
//
// Inputs may carry placeholders that the target replaces with a fresh,
// valid value minted for that input ($CODE, $REFRESH, $ACCESS, $IDTOKEN), so
// that the fuzzer reaches the grants themselves and not only the checks in
// front of them. The clients have fixed ids and secrets for the same reason.
//
// Run one with a count budget (a time budget can end in a spurious
// "context deadline exceeded" in Go 1.26):
//
//	go test -run XXX -fuzz FuzzTokenEndpoint -fuzztime 20000x ./cmd/usher/

const (
	fzBase          = "https://usher.test"
	fzIssuer        = fzBase + "/institutions/demo"
	fzShopID        = "fuzz-shop"
	fzShopSecret    = "fuzz-shop-secret-0123456789-abcdefghijklmnop"
	fzThirdID       = "fuzz-third" // not first-party: the consent page
	fzThirdSecret   = "fuzz-third-secret-0123456789-abcdefghijklmno"
	fzThirdRedirect = "https://third.example/cb"
	fzPublicID      = "fuzz-public" // public: PKCE, no secret
	fzAppRedirect   = "com.example.app:/callback"
	fzServiceID     = "fuzz-service" // client_credentials, may introspect anything
	fzServiceSecret = "fuzz-service-secret-0123456789-abcdefghijkl"
	fzEmail         = "ann@example.org"
	// fzVerifier is the PKCE verifier of every minted code (RFC 7636: 43-128
	// unreserved characters).
	fzVerifier = "fuzz-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-._~"
)

// fzRedirects are the registered redirect URIs of each client.
var fzRedirects = map[string][]string{
	fzShopID:   {testRedirectURI, "https://shop.example/other"},
	fzThirdID:  {fzThirdRedirect},
	fzPublicID: {fzAppRedirect},
}

// fzUsher is Usher built for a fuzz process (or a test), served in-process.
type fzUsher struct {
	a     *app
	h     http.Handler
	inst  *storage.Institution
	logs  *fzLog
	addrs atomic.Uint32

	mu     sync.Mutex
	cookie *http.Cookie // a signed-in session of fzEmail
}

// fzLog keeps the server's log, so a target can look for panics in it.
type fzLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *fzLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 1<<20 {
		l.buf.Reset()
	}
	return l.buf.Write(p)
}

// take returns the log written since the last take.
func (l *fzLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

// newFzUsher builds Usher on a fresh SQLite database with the demo
// institution, an account, and the clients of the fuzz targets.
func newFzUsher(tb testing.TB) *fzUsher {
	tb.Helper()
	return newFzUsherOn(tb, "sqlite:"+filepath.Join(tb.TempDir(), "usher.db"))
}

// newFzUsherOn is newFzUsher on the database of dbURL.
func newFzUsherOn(tb testing.TB, dbURL string) *fzUsher {
	tb.Helper()
	logs := &fzLog{}
	c := &cli{env: []string{"USHER_DATABASE_URL=" + dbURL, "USHER_PUBLIC_URL=" + fzBase,
		"USHER_SECRET=" + strings.Repeat("k", 40), "USHER_SMTP_HOST=smtp.example.org",
		"USHER_SMTP_FROM=no-reply@example.org", "USHER_LOG_LEVEL=warn"},
		stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs, now: time.Now}
	m := metrics.New()
	a, err := c.openWith(context.Background(), newFlags("test"), true, m)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(a.Close)
	ctx := context.Background()
	inst, err := a.institutions.Create(ctx, "demo", "Demo theatre")
	if err != nil {
		tb.Fatal(err)
	}
	u := &fzUsher{a: a, h: newHandler(a, m, nil), inst: inst, logs: logs}
	for _, spec := range []provider.ClientSpec{
		{ID: fzShopID, Secret: fzShopSecret, RedirectURIs: fzRedirects[fzShopID],
			PostLogoutRedirectURIs: []string{"https://shop.example/bye"}, FirstParty: true},
		{ID: fzThirdID, Secret: fzThirdSecret, RedirectURIs: fzRedirects[fzThirdID]},
		{ID: fzPublicID, Public: true, RedirectURIs: fzRedirects[fzPublicID], FirstParty: true},
		{ID: fzServiceID, Secret: fzServiceSecret, GrantTypes: []string{provider.GrantClientCredentials},
			Scopes: []string{"accounts:read"}, Introspection: true},
	} {
		spec.Name = "Fuzz " + spec.ID
		if _, _, err := a.clients.Register(ctx, inst, spec, string(flows.ActorCLI)); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := a.institutions.Create(ctx, "other", "Other museum"); err != nil {
		tb.Fatal(err)
	}
	u.account()
	return u
}

// account creates the one known account, fzEmail with testPassword.
func (u *fzUsher) account() {
	_, err := u.a.accounts.Create(context.Background(), u.inst, flows.NewAccount{Kind: storage.Customer,
		Email: fzEmail, GivenName: "Ann", FamilyName: "Smith", Password: testPassword, EmailVerified: true}, flows.ActorCLI)
	if err != nil {
		panic(err)
	}
}

// fzRequest is a request as the server would hand it to the handler.
type fzRequest struct {
	method, path, rawQuery string
	body                   string
	header                 http.Header
	remote                 string // "" : a fresh address for every request
}

// fzResponse is an answer, with its body read.
type fzResponse struct {
	status int
	header http.Header
	body   string
}

func (r fzResponse) String() string {
	return fmt.Sprintf("%d %v\n%.2000s", r.status, r.header, r.body)
}

// serve runs one request through the handler graph. A panic that escapes
// the middleware (httpserver.Recover re-panics after a partial write) is returned as
// an error with its stack.
func (u *fzUsher) serve(fr fzRequest) (resp fzResponse, err error) {
	req, perr := http.NewRequest(fr.method, fzBase+fr.path, strings.NewReader(fr.body))
	if perr != nil {
		return fzResponse{}, perr
	}
	req.URL.RawQuery = fr.rawQuery
	req.RequestURI = req.URL.RequestURI()
	req.Host = "usher.test"
	for k, vs := range fr.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if fr.body == "" && fr.method == http.MethodGet {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	req.RemoteAddr = fr.remote
	if req.RemoteAddr == "" {
		n := u.addrs.Add(1)
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:4242", byte(n>>16), byte(n>>8), byte(n))
	}
	rec := httptest.NewRecorder()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic escaped the handler graph: %v\n%s", v, debug.Stack())
		}
	}()
	u.h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return fzResponse{status: res.StatusCode, header: res.Header, body: string(b)}, nil
}

// must is serve for the set-up: an error fails tb.
func (u *fzUsher) must(tb testing.TB, fr fzRequest) fzResponse {
	tb.Helper()
	r, err := u.serve(fr)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// session returns a cookie of a session where fzEmail is signed in.
func (u *fzUsher) session(tb testing.TB) *http.Cookie {
	tb.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cookie != nil {
		return u.cookie
	}
	r := u.must(tb, fzRequest{method: http.MethodPost, path: "/institutions/demo/login",
		body:   url.Values{"email": {fzEmail}, "password": {testPassword}}.Encode(),
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}})
	if r.status != http.StatusSeeOther {
		tb.Fatalf("sign-in: %v", r)
	}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "usher_session" && c.Value != "" {
			u.cookie = c
			return c
		}
	}
	tb.Fatalf("sign-in set no session cookie: %v", r)
	return nil
}

// fzChallenge is the S256 challenge of fzVerifier.
func fzChallenge() string {
	sum := sha256.Sum256([]byte(fzVerifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fzAuthorizeQuery is a valid authorization request of the shop.
func fzAuthorizeQuery() url.Values {
	return url.Values{"client_id": {fzShopID}, "redirect_uri": {testRedirectURI}, "response_type": {"code"},
		"scope": {"openid email profile offline_access"}, "state": {"state-0123456789"},
		"nonce": {"nonce-0123456789"}, "code_challenge": {fzChallenge()}, "code_challenge_method": {"S256"}}
}

// code mints an authorization code of the shop for fzEmail.
func (u *fzUsher) code(tb testing.TB) string {
	tb.Helper()
	for again := true; ; again = false {
		r := u.must(tb, fzRequest{method: http.MethodGet, path: "/institutions/demo/oauth2/authorize",
			rawQuery: fzAuthorizeQuery().Encode(), header: http.Header{"Cookie": {u.session(tb).String()}}})
		loc, err := url.Parse(r.header.Get("Location"))
		if err == nil && loc.Query().Get("code") != "" {
			return loc.Query().Get("code")
		}
		if !again {
			tb.Fatalf("authorize gave no code: %v", r)
		}
		u.mu.Lock()
		u.cookie = nil // an input signed the session out: sign in again
		u.mu.Unlock()
	}
}

// tokens mints a token response of the shop for fzEmail.
func (u *fzUsher) tokens(tb testing.TB) map[string]any {
	tb.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {u.code(tb)},
		"redirect_uri": {testRedirectURI}, "code_verifier": {fzVerifier}}
	r := u.must(tb, fzRequest{method: http.MethodPost, path: "/institutions/demo/oauth2/token", body: form.Encode(),
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
			"Authorization": {basic(fzShopID, fzShopSecret)}}})
	var out map[string]any
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &out) != nil {
		tb.Fatalf("token exchange: %v", r)
	}
	return out
}

// fill replaces the placeholders of s by freshly minted values.
func (u *fzUsher) fill(tb testing.TB, s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	if strings.Contains(s, "$CODE") {
		s = strings.ReplaceAll(s, "$CODE", u.code(tb))
	}
	if strings.Contains(s, "$REFRESH") || strings.Contains(s, "$ACCESS") || strings.Contains(s, "$IDTOKEN") {
		tok := u.tokens(tb)
		s = strings.ReplaceAll(s, "$REFRESH", fmt.Sprint(tok["refresh_token"]))
		s = strings.ReplaceAll(s, "$ACCESS", fmt.Sprint(tok["access_token"]))
		s = strings.ReplaceAll(s, "$IDTOKEN", fmt.Sprint(tok["id_token"]))
	}
	return s
}

// fzValidHeaderValue reports whether a server would accept v as a header
// value (no control characters but tab).
func fzValidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// fzLeak finds what an answer must never show: a Go stack trace, a panic,
// internal error text.
var fzLeak = regexp.MustCompile(`(?i)goroutine \d+|panic|runtime error|\.go:\d+|sql: |sqlite|pq: |SQLSTATE|nil pointer|stack trace`)

// checkCommon checks what every answer must satisfy.
func checkCommon(t *testing.T, what string, r fzResponse, logs string) {
	t.Helper()
	if r.status >= 500 {
		t.Errorf("%s: status %d, want no 5xx:\n%v\nlog: %.3000s", what, r.status, r, logs)
	}
	if m := fzLeak.FindString(r.body); m != "" {
		t.Errorf("%s: the body shows %q:\n%v", what, m, r)
	}
	if strings.Contains(logs, "panic serving request") {
		t.Errorf("%s: the server logged a panic:\n%.5000s", what, logs)
	}
}

// fzContentTypes are the content types FuzzTokenEndpoint chooses from.
var fzContentTypes = []string{
	"application/x-www-form-urlencoded",
	"application/x-www-form-urlencoded; charset=UTF-8",
	"",
	"application/json",
	"multipart/form-data; boundary=xyz",
	"text/plain",
	"application/x-www-form-urlencoded; charset=ISO-8859-1",
	"application/x-www-form-urlencoded; boundary=\"",
}

// FuzzTokenEndpoint posts a raw form body, with a Content-Type of
// fzContentTypes and an optional Authorization header, to the token
// endpoint. Every answer: no 5xx, Cache-Control no-store, a JSON body; an
// "error" member on every non-200; an access token on every 200.
func FuzzTokenEndpoint(f *testing.F) {
	u := newFzUsher(f)
	shop := basic(fzShopID, fzShopSecret)
	code := "grant_type=authorization_code&code=$CODE&redirect_uri=" + url.QueryEscape(testRedirectURI) +
		"&code_verifier=" + fzVerifier
	seeds := []struct {
		body, auth string
		ct         uint8
	}{
		{code, shop, 0},
		{code + "&client_id=" + fzShopID + "&client_secret=" + fzShopSecret, "", 0},
		{code, shop, 1},
		{"grant_type=refresh_token&refresh_token=$REFRESH", shop, 0},
		{"grant_type=refresh_token&refresh_token=$REFRESH&scope=openid", shop, 0},
		{"grant_type=refresh_token&refresh_token=$ACCESS", shop, 0},
		{"grant_type=authorization_code&code=$REFRESH&redirect_uri=" + url.QueryEscape(testRedirectURI), shop, 0},
		{"grant_type=client_credentials&scope=accounts:read", basic(fzServiceID, fzServiceSecret), 0},
		{"grant_type=client_credentials", basic(fzServiceID, fzServiceSecret), 0},
		{"grant_type=client_credentials&scope=openid", shop, 0},
		{"grant_type=password&username=ann@example.org&password=x", shop, 0},
		{code + "&grant_type=refresh_token", shop, 0},
		{code + "&code=$CODE", shop, 0},
		{code + "&client_id=other-client", shop, 0},
		{code + "&redirect_uri=https%3A%2F%2Fshop.example%2Fother", shop, 0},
		{"grant_type=authorization_code&code=" + strings.Repeat("A", 70000), shop, 0},
		{"grant_type=authorization_code&code=\xff\xfe\x00&redirect_uri=\xc3\x28", shop, 0},
		{"grant_type=%zz&code=%&redirect_uri=%%%", shop, 0},
		{"grant_type=authorization_code;code=x", shop, 0},
		{"", "", 0},
		{"", shop, 2},
		{`{"grant_type":"client_credentials"}`, basic(fzServiceID, fzServiceSecret), 3},
		{"--xyz\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--xyz--\r\n",
			basic(fzServiceID, fzServiceSecret), 4},
		{"grant_type=client_credentials", "Basic %zz:%zz", 0},
		{"grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:%")), 0},
		{"grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon")), 0},
		{"grant_type=client_credentials", "Basic !!!", 0},
		{"grant_type=client_credentials", "Bearer $ACCESS", 0},
		{"grant_type=client_credentials&client_id=" + fzShopID + "&client_secret=" + fzShopSecret,
			basic(fzServiceID, fzServiceSecret), 0},
		{"grant_type=client_credentials&client_id=" + fzPublicID, "", 0},
		{code + "&client_id=" + fzPublicID, "", 0},
		{"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=$IDTOKEN", shop, 0},
	}
	for _, s := range seeds {
		f.Add(s.body, s.auth, s.ct)
	}
	u.logs.take()
	f.Fuzz(func(t *testing.T, body, auth string, ct uint8) {
		if !fzValidHeaderValue(auth) {
			t.Skip("not a header value a server accepts")
		}
		body, auth = u.fill(t, body), u.fill(t, auth)
		h := http.Header{}
		if c := fzContentTypes[int(ct)%len(fzContentTypes)]; c != "" {
			h.Set("Content-Type", c)
		}
		if auth != "" {
			h.Set("Authorization", auth)
		}
		r, err := u.serve(fzRequest{method: http.MethodPost, path: "/institutions/demo/oauth2/token", body: body, header: h})
		if err != nil {
			t.Fatal(err)
		}
		checkTokenAnswer(t, r, u.logs.take())
	})
}

// checkTokenAnswer checks an answer of the token endpoint.
func checkTokenAnswer(t *testing.T, r fzResponse, logs string) {
	t.Helper()
	checkCommon(t, "token endpoint", r, logs)
	if !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
		t.Errorf("token endpoint: Cache-Control %q, want no-store:\n%v", r.header.Get("Cache-Control"), r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("token endpoint: Content-Type %q, want JSON:\n%v", ct, r)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("token endpoint: the body is not a JSON object (%v):\n%v", err, r)
	}
	if r.status == http.StatusOK {
		if s, _ := out["access_token"].(string); s == "" || out["token_type"] == nil {
			t.Errorf("token endpoint: 200 without access_token and token_type:\n%v", r)
		}
		return
	}
	if s, _ := out["error"].(string); s == "" {
		t.Errorf("token endpoint: %d without an error member:\n%v", r.status, r)
	}
	if r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
		t.Errorf("token endpoint: status %d, want 200, 400 or 401 (RFC 6749 §5.2):\n%v", r.status, r)
	}
}

// FuzzAuthorizeQuery sends a raw query string to the authorization
// endpoint, with or without a signed-in session. A redirect goes only to a
// redirect URI registered for the request's client, or to the
// institution's own sign-in or consent page; anything else is an HTML page
// with a 4xx status.
func FuzzAuthorizeQuery(f *testing.F) {
	u := newFzUsher(f)
	valid := fzAuthorizeQuery()
	with := func(k, v string) string {
		q := fzAuthorizeQuery()
		q.Set(k, v)
		return q.Encode()
	}
	without := func(k string) string {
		q := fzAuthorizeQuery()
		q.Del(k)
		return q.Encode()
	}
	seeds := []string{
		valid.Encode(),
		with("redirect_uri", testRedirectURI+"/extra"),
		with("redirect_uri", "https://evil.example/callback"),
		with("redirect_uri", "//evil.example/callback"),
		with("redirect_uri", "https://shop.example/other"),
		without("redirect_uri"),
		without("response_type"),
		with("response_type", "token"),
		with("response_type", "code id_token"),
		with("response_mode", "form_post"),
		with("response_mode", "fragment"),
		with("scope", "openid bogus"),
		with("scope", ""),
		with("state", strings.Repeat("s", 128)+"-._~"),
		with("nonce", "short"),
		with("prompt", "none"),
		with("prompt", "none login"),
		with("prompt", "consent"),
		with("max_age", "-1"),
		with("max_age", "99999999999999999999"),
		with("code_challenge_method", "plain"),
		without("code_challenge"),
		with("request", "eyJhbGciOiJub25lIn0.e30."),
		with("request_uri", "https://evil.example/r"),
		with("client_id", fzThirdID) + "&redirect_uri=" + url.QueryEscape(fzThirdRedirect),
		with("client_id", "unknown"),
		with("client_id", fzPublicID),
		func() string {
			q := fzAuthorizeQuery()
			q.Set("client_id", fzPublicID)
			q.Set("redirect_uri", fzAppRedirect)
			return q.Encode()
		}(),
		with("client_id", fzServiceID),
		with("usher_resume", "abc.def"),
		with("usher_consent", "denied"),
		with("ui_locales", "fr"),
		with("login_hint", strings.Repeat("x", 300)),
		with("id_token_hint", "not.a.jwt"),
		with("claims", `{"userinfo":{"name":null}}`),
		valid.Encode() + "&client_id=unknown",
		valid.Encode() + "&redirect_uri=https%3A%2F%2Fevil.example%2F",
		valid.Encode() + "&response_type=token",
		"client_id=" + fzShopID + "&redirect_uri=%zz&response_type=code",
		"client_id=" + fzShopID + ";redirect_uri=" + url.QueryEscape(testRedirectURI),
		"%%%&&==&\xff\xfe",
		"",
		with("state", strings.Repeat("A", 100<<10)),
		with("redirect_uri", "https://shop.example/callback?x=1"),
		with("redirect_uri", "https://SHOP.example/callback"),
		with("redirect_uri", "https://shop.example:443/callback"),
		with("redirect_uri", "https://shop.example/callback#frag"),
		with("redirect_uri", "https://shop.example/callback/../callback"),
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	u.logs.take()
	f.Fuzz(func(t *testing.T, query string, signedIn bool) {
		if strings.ContainsAny(query, " #") || !fzValidHeaderValue(query) || strings.Contains(query, "\t") {
			t.Skip("not a request line a server accepts")
		}
		h := http.Header{}
		if signedIn {
			h.Set("Cookie", u.session(t).String())
		}
		r, err := u.serve(fzRequest{method: http.MethodGet, path: "/institutions/demo/oauth2/authorize", rawQuery: query, header: h})
		if err != nil {
			t.Fatal(err)
		}
		checkAuthorizeAnswer(t, query, r, u.logs.take())
	})
}

// checkAuthorizeAnswer checks an answer of the authorization endpoint to
// the request with this query.
func checkAuthorizeAnswer(t *testing.T, query string, r fzResponse, logs string) {
	t.Helper()
	checkCommon(t, "authorize", r, logs)
	switch r.status {
	case http.StatusFound, http.StatusSeeOther:
	default:
		if r.status < 400 || r.status > 499 {
			t.Errorf("authorize: status %d without a redirect, want 4xx:\n%v", r.status, r)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("authorize: Content-Type %q, want an HTML page:\n%v", ct, r)
		}
		if r.header.Get("Location") != "" {
			t.Errorf("authorize: a Location without a redirect status:\n%v", r)
		}
		return
	}
	raw := r.header.Get("Location")
	loc, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("authorize: Location %q does not parse: %v", raw, err)
	}
	if loc.Host == "" && loc.Scheme == "" && strings.HasPrefix(loc.Path, "/") && !strings.HasPrefix(raw, "//") &&
		!strings.Contains(raw, `\`) {
		loc = (&url.URL{Scheme: "https", Host: "usher.test"}).ResolveReference(loc)
	}
	if loc.Scheme == "https" && loc.Host == "usher.test" {
		if p := loc.Path; p != "/institutions/demo/login" && p != "/institutions/demo/consent" {
			t.Errorf("authorize: redirect to %q, want the sign-in or consent page", raw)
		}
		return
	}
	q, _ := url.ParseQuery(query)
	bare := *loc
	bare.RawQuery, bare.ForceQuery, bare.Fragment, bare.RawFragment = "", false, "", ""
	target := bare.String()
	registered := false
	for _, ru := range fzRedirects[q.Get("client_id")] {
		registered = registered || ru == target
	}
	if !registered {
		t.Errorf("authorize: redirect to %q, which is not registered for client %q", raw, q.Get("client_id"))
		return
	}
	allowed := map[string]bool{"code": true, "state": true, "iss": true}
	if loc.Query().Has("error") {
		allowed = map[string]bool{"error": true, "error_description": true, "state": true, "iss": true}
		if loc.Query().Has("code") {
			t.Errorf("authorize: an error redirect with a code: %q", raw)
		}
	}
	for k := range loc.Query() {
		if !allowed[k] {
			t.Errorf("authorize: redirect %q carries %q", raw, k)
		}
	}
	if loc.Fragment != "" {
		t.Errorf("authorize: redirect %q has a fragment", raw)
	}
	if s := loc.Query().Get("state"); s != q.Get("state") {
		t.Errorf("authorize: redirect state %q, want %q", s, q.Get("state"))
	}
	if iss := loc.Query().Get("iss"); iss != fzIssuer {
		t.Errorf("authorize: redirect iss %q, want %q", iss, fzIssuer)
	}
	if d := loc.Query().Get("error_description"); strings.ContainsAny(d, "\"\\") || !fzPrintableASCII(d) {
		t.Errorf("authorize: error_description %q is not printable ASCII without \" or \\", d)
	}
}

func fzPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// FuzzSignInForm posts a raw form body, and optionally a return_to, to the
// sign-in page. Never a 5xx; a redirect only to a path of the institution
// on the same origin; a session cookie only for the right password of the
// known account.
func FuzzSignInForm(f *testing.F) {
	u := newFzUsher(f)
	rt := "/institutions/demo/oauth2/authorize?" + fzAuthorizeQuery().Encode()
	right := url.Values{"email": {fzEmail}, "password": {testPassword}}.Encode()
	seeds := []struct {
		body, returnTo string
	}{
		{right, ""},
		{right, rt},
		{"email=ANN%40example.org+&password=" + url.QueryEscape(testPassword), rt},
		{"email=ann%40example.org&password=wrong", rt},
		{"email=nobody%40example.org&password=wrong", ""},
		{"email=&password=", ""},
		{"password=x", ""},
		{"email=a", ""},
		{"email=" + strings.Repeat("a", 2048) + "%40example.org&password=x", ""},
		{"email=ann%40example.org%0D%0ASet-Cookie%3A+x%3D1&password=x", ""},
		{"email=ann%40example.org&password=" + strings.Repeat("p", 1100), ""},
		{right, "javascript:alert(1)"},
		{right, "//evil.example/"},
		{right, "/\\evil.example"},
		{right, "https:evil.example"},
		{right, "https://evil.example/institutions/demo/oauth2/authorize?x=1"},
		{right, "/institutions/other/oauth2/authorize?client_id=x"},
		{right, "/institutions/demo/oauth2/authorize/../../../account?x"},
		{right, "/institutions/demo/oauth2/authorize?%zz"},
		{right, "/institutions/demo/oauth2/authorize?x=1#frag"},
		{right, "/institutions/demo/oauth2/authorize?x=\x00"},
		{right + "&return_to=%2F%2Fevil.example", ""},
		{"email=ann%40example.org&email=bob%40example.org&password=" + url.QueryEscape(testPassword), ""},
		{"%%%&&==\xff", ""},
		{"email=\xff\xfe%40example.org&password=\xc3\x28", ""},
		{strings.Repeat("a=b&", 5000), ""},
	}
	for _, s := range seeds {
		f.Add(s.body, s.returnTo)
	}
	u.logs.take()
	f.Fuzz(func(t *testing.T, body, returnTo string) {
		if returnTo != "" {
			body += "&return_to=" + url.QueryEscape(returnTo)
		}
		r, err := u.serve(fzRequest{method: http.MethodPost, path: "/institutions/demo/login", body: body,
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}})
		if err != nil {
			t.Fatal(err)
		}
		checkSignInAnswer(t, body, r, u.logs.take())
	})
}

// checkSignInAnswer checks an answer of the sign-in form to body.
func checkSignInAnswer(t *testing.T, body string, r fzResponse, logs string) {
	t.Helper()
	checkCommon(t, "sign-in", r, logs)
	form, perr := url.ParseQuery(body)
	right := perr == nil && len(body) <= 16<<10 && strings.EqualFold(strings.TrimSpace(form.Get("email")), fzEmail) &&
		form.Get("password") == testPassword
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "usher_session" && c.Value != "" && c.MaxAge >= 0 && !right {
			t.Errorf("sign-in: a session cookie for a wrong password (body %q):\n%v", body, r)
		}
	}
	switch {
	case r.status >= 300 && r.status < 400:
		raw := r.header.Get("Location")
		if !fzSameInstitution(raw) {
			t.Errorf("sign-in: redirect to %q, outside the institution (body %q)", raw, body)
		}
		if !right {
			t.Errorf("sign-in: a redirect for a wrong password (body %q):\n%v", body, r)
		}
	default:
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("sign-in: Content-Type %q, want an HTML page:\n%v", ct, r)
		}
		if r.status == http.StatusOK {
			t.Errorf("sign-in: 200 to a submission, want a redirect or a 4xx page:\n%v", r)
		}
	}
}

// fzSameInstitution reports whether a Location stays under the demo
// institution's path on Usher's own origin.
func fzSameInstitution(raw string) bool {
	if raw == "" || strings.ContainsAny(raw, "\\\x00\r\n\t") || strings.HasPrefix(raw, "//") {
		return false
	}
	loc, err := url.Parse(raw)
	if err != nil || loc.Opaque != "" || loc.User != nil {
		return false
	}
	if loc.Scheme != "" || loc.Host != "" {
		if loc.Scheme != "https" || loc.Host != "usher.test" {
			return false
		}
	}
	p := loc.Path
	if !strings.HasPrefix(p, "/institutions/demo/") || strings.Contains(p, "/..") || strings.Contains(p, "/./") {
		return false
	}
	return true
}
