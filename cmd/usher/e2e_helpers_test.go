package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Helpers shared by the protocol end-to-end tests (e2e_*_test.go): raw
// requests where the relying-party libraries would hide what is checked.

// endpoint is the URL of a path under the issuer of the demo institution.
func (u *usherServer) endpoint(path string) string { return u.issuer + path }

// authParams is a complete authorization request of clientID (code flow,
// PKCE S256, nonce, state), to which extra is added (an empty value removes
// a parameter).
func authParams(clientID string, f flow, extra url.Values) url.Values {
	q := url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"redirect_uri":          {testRedirectURI},
		"scope":                 {"openid email profile offline_access"},
		"state":                 {f.state},
		"nonce":                 {f.nonce},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(f.verifier)},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		if len(v) == 1 && v[0] == "" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return q
}

// authorizeURL is the authorization endpoint with query q.
func (u *usherServer) authorizeURL(q url.Values) string {
	return u.endpoint("/oauth2/authorize") + "?" + q.Encode()
}

// open visits a URL in the browser, following redirects within Usher and
// stopping at the relying party; b.pages lists the pages it went through.
func (b *browser) open(rawURL string) (*http.Response, string) {
	b.t.Helper()
	b.pages = nil
	return b.visit(rawURL)
}

// onSignInPage reports whether resp is the sign-in page.
func onSignInPage(resp *http.Response) bool {
	return resp.StatusCode == http.StatusOK && strings.HasSuffix(resp.Request.URL.Path, "/login")
}

// onConsentPage reports whether resp is the consent page.
func onConsentPage(resp *http.Response) bool {
	return resp.StatusCode == http.StatusOK && strings.HasSuffix(resp.Request.URL.Path, "/consent")
}

// visitedPage reports whether the browser went through a page whose path
// ends in suffix during the last open or authorize.
func (b *browser) visitedPage(suffix string) bool {
	for _, p := range b.pages {
		if strings.HasSuffix(p, suffix) {
			return true
		}
	}
	return false
}

// callback returns the query of a redirect to the relying party, failing
// the test when resp is not one.
func callback(t *testing.T, resp *http.Response, body string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("%s answered %d, not a redirect to the relying party:\n%.2000s", resp.Request.URL, resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), "https://shop.example/") {
		t.Fatalf("redirect to %q, want the relying party", resp.Header.Get("Location"))
	}
	return loc.Query()
}

// noRedirects is an HTTP client without cookies that follows nothing.
var noRedirects = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// rawGet gets a URL without following redirects and reads the body.
func rawGet(t *testing.T, rawURL string) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// apiResponse is a JSON answer of a back-channel endpoint.
type apiResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r apiResponse) str(key string) string  { s, _ := r.body[key].(string); return s }
func (r apiResponse) num(key string) float64 { n, _ := r.body[key].(float64); return n }

// send posts a form (or GETs when form is nil and method is GET) with the
// given Authorization header and decodes the JSON answer.
func send(t *testing.T, method, endpoint, authorization string, form url.Values) apiResponse {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, endpoint, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := apiResponse{status: resp.StatusCode, header: resp.Header, body: map[string]any{}, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s answered %d with invalid JSON %q", endpoint, resp.StatusCode, raw)
		}
	}
	return out
}

// basic is the client_secret_basic Authorization header (RFC 6749 §2.3.1:
// both parts form-encoded first).
func basic(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return req.Header.Get("Authorization")
}

// tokenRequest posts to the token endpoint with client_secret_basic.
func (u *usherServer) tokenRequest(t *testing.T, id, secret string, form url.Values) apiResponse {
	t.Helper()
	return send(t, http.MethodPost, u.endpoint("/oauth2/token"), basic(id, secret), form)
}

// redeem exchanges a code at the token endpoint.
func (u *usherServer) redeem(t *testing.T, id, secret, code, verifier string) apiResponse {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirectURI}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return u.tokenRequest(t, id, secret, form)
}

// refresh uses a refresh token.
func (u *usherServer) refresh(t *testing.T, id, secret, refreshToken string) apiResponse {
	t.Helper()
	return u.tokenRequest(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// introspect asks whether token is active, as client id.
func (u *usherServer) introspect(t *testing.T, id, secret, token string) apiResponse {
	t.Helper()
	return send(t, http.MethodPost, u.endpoint("/oauth2/introspect"), basic(id, secret), url.Values{"token": {token}})
}

// active reports whether token introspects as active for its own client.
func (u *usherServer) active(t *testing.T, id, secret, token string) bool {
	t.Helper()
	r := u.introspect(t, id, secret, token)
	if r.status != http.StatusOK {
		t.Fatalf("introspection answered %d: %s", r.status, r.raw)
	}
	return r.body["active"] == true
}

// userinfoStatus calls userinfo with the token as bearer and returns the status.
func (u *usherServer) userinfoStatus(t *testing.T, token string) int {
	t.Helper()
	return send(t, http.MethodGet, u.endpoint("/oauth2/userinfo"), "Bearer "+token, nil).status
}

// wantGrantEnded checks that the tokens of the token response tok no longer
// work at u: neither introspects as active, userinfo refuses the access
// token, and the refresh token is invalid_grant.
func (u *usherServer) wantGrantEnded(t *testing.T, what, id, secret string, tok apiResponse) {
	t.Helper()
	for _, kind := range []string{"access_token", "refresh_token"} {
		if u.active(t, id, secret, tok.str(kind)) {
			t.Errorf("%s: the %s is still active", what, kind)
		}
	}
	if s := u.userinfoStatus(t, tok.str("access_token")); s != http.StatusUnauthorized {
		t.Errorf("%s: userinfo with the access token: %d, want 401", what, s)
	}
	wantError(t, what+": refresh", u.refresh(t, id, secret, tok.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
}

// wantError checks an RFC 6749 JSON error answer.
func wantError(t *testing.T, what string, r apiResponse, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Errorf("%s: %d %s, want %d %s", what, r.status, strings.TrimSpace(r.raw), status, code)
	}
}

// wantTokens checks a successful token response and returns it.
func wantTokens(t *testing.T, what string, r apiResponse) apiResponse {
	t.Helper()
	if r.status != http.StatusOK || r.str("access_token") == "" {
		t.Fatalf("%s: %d %s, want tokens", what, r.status, strings.TrimSpace(r.raw))
	}
	return r
}

// code runs an authorization request in browser b (signing in as email
// when the sign-in page shows) and returns the code and its flow.
func (r *rp) code(b *browser, email string, extra ...oauth2.AuthCodeOption) (string, flow) {
	r.t.Helper()
	f := newFlow()
	got := b.authorize(r.authURL(f, extra...), email, testPassword)
	if got.Get("code") == "" || got.Get("state") != f.state {
		r.t.Fatalf("callback %v: want a code and state %q", got, f.state)
	}
	return got.Get("code"), f
}

// parallel runs fn n times at once and returns the results in order.
func parallel[T any](n int, fn func(i int) T) []T {
	out := make([]T, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			out[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return out
}

// jwtParts decodes the header and claims of a compact JWT without
// verifying it.
func jwtParts(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %.40q", raw)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("JWT part: %v", err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("JWT part: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

// wantRedirectedError checks that an authorization request was answered by
// a redirect to the relying party carrying error code, the request's state
// and the issuer, without the sign-in page in between.
func wantRedirectedError(t *testing.T, u *usherServer, b *browser, what string, q url.Values, code string) url.Values {
	t.Helper()
	resp, body := b.open(u.authorizeURL(q))
	if onSignInPage(resp) {
		t.Errorf("%s: the sign-in page showed before the error %s", what, code)
		return nil
	}
	if resp.StatusCode >= 500 {
		t.Errorf("%s: %d, want a redirect with error %s", what, resp.StatusCode, code)
		return nil
	}
	got := callback(t, resp, body)
	if got.Get("error") != code || got.Get("state") != q.Get("state") || got.Get("iss") != u.issuer {
		t.Errorf("%s: callback %v, want error %s, state %q, iss %s", what, got, code, q.Get("state"), u.issuer)
	}
	checkErrorRedirect(t, what, got)
	return got
}

// checkErrorRedirect checks an error redirect's query: only error,
// error_description, state and iss, and a description of printable ASCII
// without " or \ (RFC 6749 §4.1.2.1).
func checkErrorRedirect(t *testing.T, what string, got url.Values) {
	t.Helper()
	for k := range got {
		switch k {
		case "error", "error_description", "state", "iss":
		default:
			t.Errorf("%s: error redirect carries %s=%q", what, k, got.Get(k))
		}
	}
	for _, c := range got.Get("error_description") {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			t.Errorf("%s: error_description %q has character %q", what, got.Get("error_description"), c)
			break
		}
	}
}

// wantErrorPage checks that an authorization request was refused with an
// HTML error page and status 400, and never redirected anywhere.
func wantErrorPage(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("%s: redirected to %q, want an error page", what, loc)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("%s: status %d, want 400", what, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type %q, want an HTML page", what, ct)
	}
	if strings.Contains(body, "shop.example") || strings.Contains(body, "evil.example") {
		t.Errorf("%s: the error page links to the redirect URI", what)
	}
}

// signedInTokens signs ann in at a fresh shop and returns the shop's
// credentials and the token response of the code exchange.
func signedInTokens(t *testing.T, u *usherServer) (string, string, apiResponse) {
	t.Helper()
	id, secret := u.shop()
	u.account(u.inst, storage.Customer, "ann@example.org")
	shop := newRP(t, u.issuer, id, secret)
	code, f := shop.code(newBrowser(t), "ann@example.org")
	tok := wantTokens(t, "code exchange", u.redeem(t, id, secret, code, f.verifier))
	if tok.str("refresh_token") == "" {
		t.Fatal("no refresh token although offline_access was granted")
	}
	return id, secret, tok
}

// resourceServer registers a resource server in inst: client credentials,
// allowed to introspect every token of the institution.
func (u *usherServer) resourceServer(inst *storage.Institution) (string, string) {
	u.t.Helper()
	return u.client(inst, provider.ClientSpec{Name: "Ticket API", GrantTypes: []string{provider.GrantClientCredentials},
		Scopes: []string{"tickets:read", "tickets:write"}, Introspection: true})
}

// silentCode runs an authorization request that must not show any page and
// returns the claims of the ID token its code gives.
func silentCode(t *testing.T, u *usherServer, shop *rp, b *browser, what string, extra url.Values) map[string]any {
	t.Helper()
	f := newFlow()
	resp, body := b.open(u.authorizeURL(authParams(shop.conf.ClientID, f, extra)))
	if onSignInPage(resp) || b.visitedPage("/login") || b.visitedPage("/consent") {
		t.Fatalf("%s: a page showed (%v), want a code straight away", what, b.pages)
	}
	got := callback(t, resp, body)
	if got.Get("code") == "" || got.Get("state") != f.state {
		t.Fatalf("%s: callback %v, want a code", what, got)
	}
	_, id := shop.exchange(got.Get("code"), f)
	return claimsOf(t, id)
}

// idTokenOf signs email in, in a browser of its own, and returns the raw ID token.
func idTokenOf(t *testing.T, u *usherServer, shop *rp, email string) string {
	t.Helper()
	tok, _ := shop.signIn(newBrowser(t), email)
	raw, _ := tok.Extra("id_token").(string)
	return raw
}

// publishedKIDs returns the kids of the institution's JWKS, by algorithm.
func publishedKIDs(t *testing.T, u *usherServer) map[string][]string {
	t.Helper()
	r := send(t, http.MethodGet, u.endpoint("/jwks"), "", nil)
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.raw), &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	out := map[string][]string{}
	for _, k := range set.Keys {
		out[k.Alg] = append(out[k.Alg], k.KID)
	}
	return out
}

// tokenOf is a token response as x/oauth2 returns it.
func tokenOf(r apiResponse) *oauth2.Token {
	tok := &oauth2.Token{AccessToken: r.str("access_token"), RefreshToken: r.str("refresh_token"), TokenType: r.str("token_type")}
	return tok.WithExtra(r.body)
}

// numberClaim reads a time claim (seconds since the epoch).
func numberClaim(t *testing.T, c map[string]any, name string) time.Time {
	t.Helper()
	n, ok := c[name].(float64)
	if !ok || n <= 0 {
		t.Errorf("claim %s = %v, want a number of seconds", name, c[name])
		return time.Time{}
	}
	return time.Unix(int64(n), 0)
}

// refuseRows makes the database refuse to store rows of table whose column
// holds one of values, as a full disk or a lost grant would, with a
// trigger; the returned function removes it.
func refuseRows(t *testing.T, db sqltest.DB, table, column string, values ...string) (allow func()) {
	t.Helper()
	list := "'" + strings.Join(values, "', '") + "'"
	statements := map[string][]string{
		"sqlite": {`CREATE TRIGGER refuse_rows BEFORE INSERT ON ` + table + ` WHEN NEW.` + column + ` IN (` + list + `)
			BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`},
		"postgres": {`CREATE FUNCTION refuse_rows() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.` + column + ` IN (` + list + `) THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse_rows BEFORE INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION refuse_rows()`},
	}[db.Dialect]
	raw := sqltest.Raw(t, db)
	for _, s := range statements {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return func() {
		drop := map[string][]string{"sqlite": {`DROP TRIGGER refuse_rows`},
			"postgres": {`DROP TRIGGER refuse_rows ON ` + table, `DROP FUNCTION refuse_rows()`}}[db.Dialect]
		for _, s := range drop {
			if _, err := raw.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
}
