package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/usher-idp/usher/internal/metrics"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Hostile requests against the running server, on both databases: every
// answer is the RFC's (a JSON error of the API endpoints, a localized page
// of the browser endpoints) with the right status and content type, never a
// 5xx, a stack trace or internal error text; and where a request could
// change something, nothing changed: no token issued, no account created,
// nobody signed in or out.

// hsEnv is a running Usher with the clients, accounts and tokens the
// hostile cases need.
type hsEnv struct {
	t                        *testing.T
	u                        *usherServer
	shopID, shopSecret       string // first-party shop of demo
	thirdID, thirdSecret     string // another client of demo
	serviceID, serviceSecret string // client_credentials, may introspect every token
	other                    *storage.Institution
	otherID, otherSecret     string // a shop of the other institution
}

const (
	hsThirdRedirect = "https://third.example/cb"
	hsEvil          = "https://evil.example/cb"
)

func newHostile(t *testing.T, db sqltest.DB) *hsEnv {
	t.Helper()
	u := startUsher(t, db)
	e := &hsEnv{t: t, u: u}
	e.shopID, e.shopSecret = u.shop()
	e.thirdID, e.thirdSecret = u.client(u.inst, provider.ClientSpec{Name: "Third", RedirectURIs: []string{hsThirdRedirect}})
	e.serviceID, e.serviceSecret = u.client(u.inst, provider.ClientSpec{Name: "Service",
		GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"accounts:read"}, Introspection: true})
	u.account(u.inst, storage.Customer, "ann@example.org")
	e.other = u.institution("other")
	e.otherID, e.otherSecret = u.client(e.other, provider.ClientSpec{RedirectURIs: []string{testRedirectURI}, FirstParty: true})
	u.account(e.other, storage.Customer, "ann@example.org")
	return e
}

// hsResp is an answer with its body read.
type hsResp struct {
	status int
	header http.Header
	body   string
}

func (r hsResp) String() string {
	return fmt.Sprintf("%d %v\n%.1500s", r.status, r.header, r.body)
}

func (r hsResp) json(t *testing.T) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("not a JSON object: %v\n%v", err, r)
	}
	return out
}

// setsSession reports whether the answer sets a session cookie.
func (r hsResp) setsSession() bool {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "usher_session" && c.Value != "" && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}

// hsDo sends a request with the given headers ("Name: value" strings) and
// body, without following redirects.
func hsDo(t *testing.T, c *http.Client, method, rawURL, body string, headers ...string) hsResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	if c == nil {
		c = noRedirects
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %.200s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return hsResp{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

const hsForm = "Content-Type: application/x-www-form-urlencoded"

// hsBasic is basic as a header line for hsDo.
func hsBasic(id, secret string) string { return "Authorization: " + basic(id, secret) }

// Content kinds of hsExpect.
const (
	hsJSON  = "json"  // application/json with an "error" member (unless 200)
	hsHTML  = "html"  // a page: text/html
	hsEmpty = "empty" // no body
	hsText  = "text"  // net/http's own text/plain answers
)

// hsExpect checks an answer's status and content kind, and that it shows
// nothing internal.
func hsExpect(t *testing.T, what string, r hsResp, status int, kind string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d:\n%v", what, r.status, status, r)
	}
	hsClean(t, what, r)
	ct := r.header.Get("Content-Type")
	switch kind {
	case hsJSON:
		if !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q, want JSON:\n%v", what, ct, r)
			return
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Errorf("%s: not a JSON object: %v\n%v", what, err, r)
			return
		}
		if e, _ := out["error"].(string); r.status != http.StatusOK && e == "" {
			t.Errorf("%s: %d without an error member:\n%v", what, r.status, r)
		}
		if !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: Cache-Control %q, want no-store", what, r.header.Get("Cache-Control"))
		}
	case hsHTML:
		if !strings.HasPrefix(ct, "text/html") || !strings.Contains(r.body, "</html>") {
			t.Errorf("%s: Content-Type %q, want a whole HTML page:\n%v", what, ct, r)
		}
	case hsEmpty:
		if strings.TrimSpace(r.body) != "" {
			t.Errorf("%s: a body, want none:\n%v", what, r)
		}
	case hsText:
		if !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q, want text/plain:\n%v", what, ct, r)
		}
	}
}

// hsClean checks that an answer shows no stack trace, panic or internal
// error text, and is not a server error.
func hsClean(t *testing.T, what string, r hsResp) {
	t.Helper()
	if r.status >= 500 {
		t.Errorf("%s: server error %d:\n%v", what, r.status, r)
	}
	if m := fzLeak.FindString(r.body); m != "" {
		t.Errorf("%s: the body shows %q:\n%v", what, m, r)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			if m := fzLeak.FindString(v); m != "" && k != "Content-Security-Policy" {
				t.Errorf("%s: header %s shows %q", what, k, m)
			}
		}
	}
}

// hsState is what a hostile request must not change.
type hsState struct {
	tokens   int // token responses (usher_tokens_issued_total)
	signIns  int // successful sign-ins (usher_sign_ins_total{outcome="success"})
	accounts int // accounts of both institutions
	audits   int // sign_in audit events of demo
}

var hsMetric = regexp.MustCompile(`(?m)^(usher_tokens_issued_total|usher_sign_ins_total)(\{[^}]*\})? (\d+)$`)

func (e *hsEnv) state() hsState {
	e.t.Helper()
	r := hsDo(e.t, nil, http.MethodGet, e.u.metricsURL, "")
	var s hsState
	for _, m := range hsMetric.FindAllStringSubmatch(r.body, -1) {
		n, _ := strconv.Atoi(m[3])
		switch {
		case m[1] == "usher_tokens_issued_total":
			s.tokens += n
		case strings.Contains(m[2], `"success"`):
			s.signIns += n
		}
	}
	ctx := context.Background()
	for _, inst := range []*storage.Institution{e.u.inst, e.other} {
		list, err := e.u.a.store.In(inst.ID).ListAccounts(ctx, storage.AccountFilter{Limit: 1000})
		if err != nil {
			e.t.Fatal(err)
		}
		s.accounts += len(list)
	}
	ev, err := e.u.a.store.In(e.u.inst.ID).ListAudit(ctx, storage.AuditFilter{Action: "sign_in", Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	s.audits = len(ev)
	return s
}

// unchanged fails when the state moved since before.
func (e *hsEnv) unchanged(what string, before hsState) {
	e.t.Helper()
	if after := e.state(); after != before {
		e.t.Errorf("%s changed the state: before %+v, after %+v", what, before, after)
	}
}

// tokens signs ann in to a shop of inst and returns its tokens.
func (e *hsEnv) tokens(inst *storage.Institution, id, secret string) *oauth2.Token {
	e.t.Helper()
	r := newRP(e.t, e.u.url+"/institutions/"+inst.Slug, id, secret)
	tok, _ := r.signIn(newBrowser(e.t), "ann@example.org")
	return tok
}

// code signs ann in to the demo shop and returns an unredeemed code and its
// PKCE verifier.
func (e *hsEnv) code() (string, string) {
	e.t.Helper()
	r := newRP(e.t, e.u.issuer, e.shopID, e.shopSecret)
	f := newFlow()
	got := newBrowser(e.t).authorize(r.authURL(f), "ann@example.org", testPassword)
	if got.Get("code") == "" {
		e.t.Fatalf("no code: %v", got)
	}
	return got.Get("code"), f.verifier
}

// authorizeQuery is a complete authorization request of the demo shop.
func (e *hsEnv) authorizeQuery() url.Values {
	f := newFlow()
	return url.Values{"client_id": {e.shopID}, "redirect_uri": {testRedirectURI}, "response_type": {"code"},
		"scope": {"openid email profile"}, "state": {f.state}, "nonce": {f.nonce},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(f.verifier)}, "code_challenge_method": {"S256"}}
}

// hsRandom is n random bytes.
func hsRandom(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// An unknown institution: every endpoint answers 404, JSON for the API
// endpoints, the localized page for the browser endpoints.
func TestHostileUnknownInstitution(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		before := e.state()
		auth := hsBasic(e.shopID, e.shopSecret)
		// Slugs no institution can have, a NUL byte and invalid UTF-8
		// among them: PostgreSQL refuses such text, which must still be a 404.
		for _, slug := range []string{"nope", "DEMO", "demo-", "x" + strings.Repeat("y", 300), "%C3%A9t%C3%A9",
			"demo%00", "%FF", "x%C3%28"} {
			base := e.u.url + "/institutions/" + slug
			cases := []struct {
				method, path, body string
				headers            []string
				kind               string
			}{
				{"POST", "/oauth2/token", "grant_type=client_credentials", []string{hsForm, auth}, hsJSON},
				{"POST", "/oauth2/introspect", "token=x", []string{hsForm, auth}, hsJSON},
				{"POST", "/oauth2/revoke", "token=x", []string{hsForm, auth}, hsJSON},
				{"GET", "/oauth2/userinfo", "", []string{"Authorization: Bearer x"}, hsJSON},
				{"POST", "/oauth2/userinfo", "access_token=x", []string{hsForm}, hsJSON},
				{"GET", "/.well-known/openid-configuration", "", nil, hsJSON},
				{"GET", "/jwks", "", nil, hsJSON},
				{"GET", "/oauth2/authorize?" + e.authorizeQuery().Encode(), "", nil, hsHTML},
				{"POST", "/oauth2/authorize", e.authorizeQuery().Encode(), []string{hsForm}, hsHTML},
				{"GET", "/oauth2/logout?state=x", "", nil, hsHTML},
				{"GET", "/login", "", nil, hsHTML},
				{"POST", "/login", "email=ann%40example.org&password=" + url.QueryEscape(testPassword), []string{hsForm}, hsHTML},
				{"GET", "/consent", "", nil, hsHTML},
				{"POST", "/consent", "consent=allow", []string{hsForm}, hsHTML},
				{"GET", "/logout", "", nil, hsHTML},
				{"POST", "/logout", "", []string{hsForm}, hsHTML},
				{"GET", "/account", "", nil, hsHTML},
				{"GET", "/password/change", "", nil, hsHTML},
				{"POST", "/password/change", "password=a&password_confirm=a", []string{hsForm}, hsHTML},
				{"GET", "/brand.css", "", nil, hsHTML},
			}
			for _, c := range cases {
				what := c.method + " /institutions/" + slug + c.path
				r := hsDo(t, nil, c.method, base+c.path, c.body, c.headers...)
				hsExpect(t, what, r, http.StatusNotFound, c.kind)
				if r.header.Get("Location") != "" || r.setsSession() {
					t.Errorf("%s: redirected or set a cookie:\n%v", what, r)
				}
			}
		}
		e.unchanged("requests to unknown institutions", before)
	})
}

// hsPage reports whether path is one of the pages of package flows (not a

// Repeated parameters at the authorization and token endpoints: never a
// server error, never a redirect to a URI the first client did not
// register, never a token for the second client or redirect URI.
func TestHostileRepeatedParameters(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		// A signed-in browser, so that a request that gets through would
		// be answered with a code.
		signedIn := newBrowser(t)
		newRP(t, e.u.issuer, e.shopID, e.shopSecret).signIn(signedIn, "ann@example.org")
		signedIn.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		authorize := e.u.issuer + "/oauth2/authorize?"
		cases := []struct {
			name  string
			query string
			// allowed are the targets (scheme://host/path) a redirect may
			// go to: the first client's registered URI or the sign-in page.
			allowed []string
		}{
			{"client_id twice", e.authorizeQuery().Encode() + "&client_id=" + e.thirdID,
				[]string{testRedirectURI, e.u.issuer + "/login"}},
			{"client_id twice, the other first", "client_id=" + e.thirdID + "&" + e.authorizeQuery().Encode(),
				[]string{hsThirdRedirect, e.u.issuer + "/login", e.u.issuer + "/consent"}},
			{"two redirect_uris", e.authorizeQuery().Encode() + "&redirect_uri=" + url.QueryEscape(hsEvil),
				[]string{testRedirectURI, e.u.issuer + "/login"}},
			{"two redirect_uris, the unregistered first", "redirect_uri=" + url.QueryEscape(hsEvil) + "&" + e.authorizeQuery().Encode(),
				nil},
			{"two response_types", e.authorizeQuery().Encode() + "&response_type=token",
				[]string{testRedirectURI, e.u.issuer + "/login"}},
			{"two response_types, token first", "response_type=token&" + e.authorizeQuery().Encode(),
				[]string{testRedirectURI}},
			{"two states", e.authorizeQuery().Encode() + "&state=second",
				[]string{testRedirectURI, e.u.issuer + "/login"}},
		}
		for _, c := range cases {
			for _, signed := range []bool{false, true} {
				what := fmt.Sprintf("authorize, %s (signed in: %v)", c.name, signed)
				client := noRedirects
				if signed {
					client = signedIn.http
				}
				r := hsDo(t, client, http.MethodGet, authorize+c.query, "")
				hsClean(t, what, r)
				switch r.status {
				case http.StatusFound, http.StatusSeeOther:
					loc, err := url.Parse(r.header.Get("Location"))
					if err != nil {
						t.Fatalf("%s: Location: %v", what, err)
					}
					target := loc.Scheme + "://" + loc.Host + loc.Path
					ok := false
					for _, a := range c.allowed {
						ok = ok || a == target
					}
					if !ok {
						t.Errorf("%s: redirect to %q, want one of %q", what, loc, c.allowed)
					}
					if loc.Fragment != "" || loc.Query().Has("access_token") {
						t.Errorf("%s: a token in the redirect %q", what, loc)
					}
				default:
					hsExpect(t, what, r, http.StatusBadRequest, hsHTML)
				}
			}
		}

		token := e.u.issuer + "/oauth2/token"
		code, verifier := e.code()
		before := e.state()
		for _, c := range []struct {
			name, body string
			headers    []string
		}{
			{"client_id twice (client_secret_post)", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {testRedirectURI}, "code_verifier": {verifier}, "client_id": {e.thirdID, e.shopID},
				"client_secret": {e.thirdSecret, e.shopSecret}}.Encode(), []string{hsForm}},
			{"grant_type twice, the other first", url.Values{"grant_type": {"client_credentials", "authorization_code"},
				"code": {code}, "redirect_uri": {testRedirectURI}, "code_verifier": {verifier}}.Encode(),
				[]string{hsForm, hsBasic(e.shopID, e.shopSecret)}},
			{"redirect_uri twice, an unregistered one first", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {hsEvil, testRedirectURI}, "code_verifier": {verifier}}.Encode(),
				[]string{hsForm, hsBasic(e.shopID, e.shopSecret)}},
		} {
			r := hsDo(t, nil, http.MethodPost, token, c.body, c.headers...)
			hsExpect(t, "token, "+c.name, r, r.status, hsJSON)
			if r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
				t.Errorf("token, %s: %d, want an RFC 6749 error:\n%v", c.name, r.status, r)
			}
		}
		e.unchanged("token requests with repeated parameters", before)

		// With the first value the request's own, repeated parameters do not
		// hand a token to the second client: a code redeemed this way belongs
		// to the first.
		for _, c := range []struct{ name, body string }{
			{"code twice, the valid one first", url.Values{"grant_type": {"authorization_code"}, "code": {code, "garbage"},
				"redirect_uri": {testRedirectURI}, "code_verifier": {verifier}}.Encode()},
		} {
			r := hsDo(t, nil, http.MethodPost, token, c.body, hsForm, hsBasic(e.shopID, e.shopSecret))
			hsExpect(t, "token, "+c.name, r, r.status, hsJSON)
			if r.status == http.StatusOK {
				at, _ := r.json(t)["access_token"].(string)
				if got := hsIntrospectClient(t, e.u, e.serviceID, e.serviceSecret, at); got != e.shopID {
					t.Errorf("token, %s: issued to %q, want %q", c.name, got, e.shopID)
				}
			}
		}
	})
}

// hsIntrospectClient returns the client_id of an active token, "" if inactive.
func hsIntrospectClient(t *testing.T, u *usherServer, id, secret, token string) string {
	t.Helper()
	r := hsDo(t, nil, http.MethodPost, u.issuer+"/oauth2/introspect", url.Values{"token": {token}}.Encode(),
		hsForm, hsBasic(id, secret))
	hsExpect(t, "introspection", r, http.StatusOK, hsJSON)
	out := r.json(t)
	if out["active"] != true {
		return ""
	}
	s, _ := out["client_id"].(string)
	return s
}

// Oversize values: a 100 KiB state, bodies over the 64 KiB cap.
func TestHostileOversize(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		before := e.state()
		big := strings.Repeat("a", 70<<10)
		q := e.authorizeQuery()
		q.Set("state", strings.Repeat("s", 100<<10))
		auth := hsBasic(e.shopID, e.shopSecret)

		// The server of usher serve, with its header limit, in front of
		// the same handler graph: a 100 KiB request line never reaches it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: newHandler(e.u.a, metrics.New(), nil),
			MaxHeaderBytes: maxHeaderBytes, ReadHeaderTimeout: readHeaderTimeout}}
		srv.Start()
		t.Cleanup(srv.Close)
		r := hsDo(t, nil, http.MethodGet, srv.URL+"/institutions/demo/oauth2/authorize?"+q.Encode(), "")
		hsExpect(t, "authorize, a 100 KiB state in the query", r, http.StatusRequestHeaderFieldsTooLarge, "")

		for _, c := range []struct {
			name, path, body string
			headers          []string
			status           int
			kind             string
		}{
			{"authorize, a 100 KiB state in the body", "/oauth2/authorize", q.Encode(), []string{hsForm}, 0, hsHTML},
			{"token, a 70 KiB body", "/oauth2/token", "grant_type=client_credentials&x=" + big, []string{hsForm, auth},
				http.StatusBadRequest, hsJSON},
			{"token, a 70 KiB code", "/oauth2/token", "grant_type=authorization_code&code=" + big, []string{hsForm, auth},
				http.StatusBadRequest, hsJSON},
			{"introspect, a 70 KiB body", "/oauth2/introspect", "token=" + big, []string{hsForm, auth},
				http.StatusBadRequest, hsJSON},
			{"revoke, a 70 KiB body", "/oauth2/revoke", "token=" + big, []string{hsForm, auth},
				http.StatusBadRequest, hsJSON},
			{"userinfo, a 70 KiB body", "/oauth2/userinfo", "access_token=" + big, []string{hsForm},
				http.StatusUnauthorized, ""},
			{"sign-in, a 70 KiB body", "/login", "email=ann%40example.org&password=" + big, []string{hsForm},
				http.StatusRequestEntityTooLarge, hsHTML},
			{"sign-in, a 20 KiB body", "/login", "email=ann%40example.org&password=" + big[:20<<10], []string{hsForm},
				http.StatusRequestEntityTooLarge, hsHTML},
			{"logout, a 70 KiB body", "/oauth2/logout", "state=" + big, []string{hsForm},
				http.StatusBadRequest, hsHTML},
		} {
			r := hsDo(t, nil, http.MethodPost, e.u.issuer+c.path, c.body, c.headers...)
			status := c.status
			if status == 0 { // any 4xx
				status = r.status
				if r.status < 400 || r.status > 499 {
					t.Errorf("%s: status %d, want 4xx", c.name, r.status)
				}
			}
			hsExpect(t, c.name, r, status, c.kind)
			if r.header.Get("Location") != "" || r.setsSession() {
				t.Errorf("%s: redirected or set a cookie:\n%v", c.name, r)
			}
		}
		e.unchanged("oversize requests", before)
	})
}

// Garbage where a token belongs: userinfo answers 401, introspection
// {"active": false}, revocation 200 (RFC 7009 §2.2), and the real tokens
// stay valid.
func TestHostileGarbageTokens(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		tok := e.tokens(e.u.inst, e.shopID, e.shopSecret)
		idToken, _ := tok.Extra("id_token").(string)
		elsewhere := e.tokens(e.other, e.otherID, e.otherSecret)
		random := base64.RawURLEncoding.EncodeToString(hsRandom(48))
		shaped := "ory_at_" + base64.RawURLEncoding.EncodeToString(hsRandom(32)) + "." + base64.RawURLEncoding.EncodeToString(hsRandom(32))
		garbage := []struct{ name, token string }{
			{"random bytes", random},
			{"raw binary", string(hsRandom(40))},
			{"a token of the right shape", shaped},
			{"an access token of another institution", elsewhere.AccessToken},
			{"a refresh token of another institution", elsewhere.RefreshToken},
			{"a JWT (the ID token)", idToken},
			{"a JWT with alg none", "eyJhbGciOiJub25lIn0." + strings.Split(idToken, ".")[1] + "."},
			{"an access token with a changed signature", tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA"},
			{"percent junk", "%zz%00%"},
			{"a huge token", strings.Repeat("A", 40<<10)},
		}
		before := e.state()
		userinfo, introspect, revoke := e.u.issuer+"/oauth2/userinfo", e.u.issuer+"/oauth2/introspect", e.u.issuer+"/oauth2/revoke"
		auth := hsBasic(e.shopID, e.shopSecret)
		for _, g := range garbage {
			form := url.Values{"token": {g.token}}.Encode()
			if fzValidHeaderValue(g.token) {
				r := hsDo(t, nil, http.MethodGet, userinfo, "", "Authorization: Bearer "+g.token)
				hsExpect(t, "userinfo GET, "+g.name, r, http.StatusUnauthorized, hsJSON)
				e.wantBearerError(t, "userinfo GET, "+g.name, r, "invalid_token")
			}
			r := hsDo(t, nil, http.MethodPost, userinfo, url.Values{"access_token": {g.token}}.Encode(), hsForm)
			hsExpect(t, "userinfo POST, "+g.name, r, http.StatusUnauthorized, hsJSON)
			e.wantBearerError(t, "userinfo POST, "+g.name, r, "invalid_token")

			for _, hint := range []string{"", "access_token", "refresh_token", "bogus"} {
				body := form
				if hint != "" {
					body += "&token_type_hint=" + hint
				}
				r = hsDo(t, nil, http.MethodPost, introspect, body, hsForm, auth)
				hsExpect(t, "introspect, "+g.name, r, http.StatusOK, hsJSON)
				if out := r.json(t); out["active"] != false || len(out) != 1 {
					t.Errorf("introspect, %s: %v, want only active false", g.name, out)
				}
			}
			r = hsDo(t, nil, http.MethodPost, revoke, form, hsForm, auth)
			hsExpect(t, "revoke, "+g.name, r, http.StatusOK, hsEmpty)
		}
		// An empty bearer, a bearer of spaces, another scheme: 401 with the
		// challenge and no error code (RFC 6750 §3.1).
		for _, h := range []string{"Authorization: Bearer", "Authorization: Bearer ", "Authorization: Bearer     ",
			"Authorization: Basic " + tok.AccessToken, "Authorization: bearer", "Authorization: "} {
			r := hsDo(t, nil, http.MethodGet, userinfo, "", h)
			hsExpect(t, "userinfo, "+h, r, http.StatusUnauthorized, "")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("userinfo, %s: WWW-Authenticate %q", h, r.header.Get("WWW-Authenticate"))
			}
		}
		r := hsDo(t, nil, http.MethodGet, userinfo, "")
		hsExpect(t, "userinfo without a token", r, http.StatusUnauthorized, hsEmpty)

		// A refresh token used as an access token, and the other way round.
		for _, req := range []struct{ method, body, header string }{
			{http.MethodGet, "", "Authorization: Bearer " + tok.RefreshToken},
			{http.MethodPost, url.Values{"access_token": {tok.RefreshToken}}.Encode(), hsForm},
		} {
			r = hsDo(t, nil, req.method, userinfo, req.body, req.header)
			hsExpect(t, req.method+" userinfo with the refresh token", r, http.StatusUnauthorized, hsJSON)
			e.wantBearerError(t, req.method+" userinfo with the refresh token", r, "invalid_token")
		}
		r = hsDo(t, nil, http.MethodPost, e.u.issuer+"/oauth2/token",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.AccessToken}}.Encode(), hsForm, auth)
		hsExpect(t, "refresh grant with the access token", r, http.StatusBadRequest, hsJSON)
		mustEqualf(t, "refresh grant with the access token: error", r.json(t)["error"], "invalid_grant")
		r = hsDo(t, nil, http.MethodPost, e.u.issuer+"/oauth2/token",
			url.Values{"grant_type": {"authorization_code"}, "code": {tok.RefreshToken}, "redirect_uri": {testRedirectURI}}.Encode(), hsForm, auth)
		hsExpect(t, "code grant with the refresh token", r, http.StatusBadRequest, hsJSON)
		mustEqualf(t, "code grant with the refresh token: error", r.json(t)["error"], "invalid_grant")

		// Introspection and revocation by a client that does not
		// authenticate, or with bad credentials.
		for _, h := range [][]string{{hsForm}, {hsForm, hsBasic(e.shopID, "wrong")}, {hsForm, hsBasic("nobody", "x")},
			{hsForm, "Authorization: Basic !!!"}, {hsForm, "Authorization: Bearer " + tok.AccessToken}} {
			r := hsDo(t, nil, http.MethodPost, introspect, url.Values{"token": {tok.AccessToken}}.Encode(), h...)
			hsExpect(t, fmt.Sprintf("introspect with %q", h[1:]), r, http.StatusUnauthorized, hsJSON)
			r = hsDo(t, nil, http.MethodPost, revoke, url.Values{"token": {tok.AccessToken}}.Encode(), h...)
			hsExpect(t, fmt.Sprintf("revoke with %q", h[1:]), r, r.status, hsJSON)
			if r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
				t.Errorf("revoke with %q: %d, want 400 or 401", h[1:], r.status)
			}
		}
		// A token of another client is not revoked (RFC 7009 §2.1) and not
		// shown (only a resource server sees other clients' tokens).
		r = hsDo(t, nil, http.MethodPost, introspect, url.Values{"token": {tok.AccessToken}}.Encode(), hsForm,
			hsBasic(e.thirdID, e.thirdSecret))
		hsExpect(t, "introspect another client's token", r, http.StatusOK, hsJSON)
		mustEqualf(t, "introspect another client's token: active", r.json(t)["active"], false)
		r = hsDo(t, nil, http.MethodPost, revoke, url.Values{"token": {tok.RefreshToken}}.Encode(), hsForm,
			hsBasic(e.thirdID, e.thirdSecret))
		hsClean(t, "revoke another client's token", r)

		// Nothing of the above ended a grant.
		for _, c := range []struct {
			issuer   string
			id, sec  string
			token    string
			inactive string
		}{
			{e.u.issuer, e.serviceID, e.serviceSecret, tok.AccessToken, "demo access token"},
			{e.u.issuer, e.serviceID, e.serviceSecret, tok.RefreshToken, "demo refresh token"},
			{e.u.url + "/institutions/other", e.otherID, e.otherSecret, elsewhere.AccessToken, "other access token"},
			{e.u.url + "/institutions/other", e.otherID, e.otherSecret, elsewhere.RefreshToken, "other refresh token"},
		} {
			r := hsDo(t, nil, http.MethodPost, c.issuer+"/oauth2/introspect", url.Values{"token": {c.token}}.Encode(),
				hsForm, hsBasic(c.id, c.sec))
			if r.json(t)["active"] != true {
				t.Errorf("the %s is no longer active after the garbage: %v", c.inactive, r)
			}
		}
		r = hsDo(t, nil, http.MethodGet, userinfo, "", "Authorization: Bearer "+tok.AccessToken)
		hsExpect(t, "userinfo with the real token", r, http.StatusOK, hsJSON)
		e.unchanged("garbage tokens", before)
	})
}

// wantBearerError checks an RFC 6750 error: the WWW-Authenticate challenge
// names the error.
func (e *hsEnv) wantBearerError(t *testing.T, what string, r hsResp, code string) {
	t.Helper()
	if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `error="`+code+`"`) {
		t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge with error %q", what, h, code)
	}
}

// The token endpoint with a wrong Content-Type, mixed or malformed client
// authentication, another client's code: an RFC 6749 error, no token.
func TestHostileTokenRequests(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		token := e.u.issuer + "/oauth2/token"
		code, verifier := e.code()
		redeem := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirectURI},
			"code_verifier": {verifier}}
		shop, service := hsBasic(e.shopID, e.shopSecret), hsBasic(e.serviceID, e.serviceSecret)
		cc := "grant_type=client_credentials&scope=accounts%3Aread"
		before := e.state()
		for _, c := range []struct {
			name, body string
			headers    []string
			status     int
			code       string // "" : any error
		}{
			{"text/plain", cc, []string{"Content-Type: text/plain", service}, 400, "invalid_request"},
			{"no Content-Type", cc, []string{service}, 400, "invalid_request"},
			{"JSON", `{"grant_type":"client_credentials"}`, []string{"Content-Type: application/json", service}, 400, "invalid_request"},
			{"multipart without a boundary", cc, []string{"Content-Type: multipart/form-data", service}, 400, "invalid_request"},
			{"a broken multipart body", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_cre",
				[]string{"Content-Type: multipart/form-data; boundary=x", service}, 400, "invalid_request"},
			{"an empty body", "", []string{hsForm, service}, 400, "invalid_request"},
			{"no client authentication", cc, []string{hsForm}, 0, ""},
			{"a wrong secret", cc, []string{hsForm, hsBasic(e.serviceID, "wrong")}, 401, "invalid_client"},
			{"an unknown client", cc, []string{hsForm, hsBasic("nobody", "x")}, 401, "invalid_client"},
			{"an invalid percent-encoding in the Basic client id", cc,
				[]string{hsForm, "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:"+e.serviceSecret))}, 0, ""},
			{"an invalid percent-encoding in the Basic secret", cc,
				[]string{hsForm, "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(e.serviceID+":%"))}, 0, ""},
			{"Basic credentials without a colon", cc,
				[]string{hsForm, "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(e.serviceID))}, 0, ""},
			{"Basic credentials that are not base64", cc, []string{hsForm, "Authorization: Basic %%%"}, 0, ""},
			{"a bearer token instead of client credentials", cc, []string{hsForm, "Authorization: Bearer x"}, 0, ""},
			{"a code of another client", redeem.Encode(), []string{hsForm, hsBasic(e.thirdID, e.thirdSecret)}, 400, "invalid_grant"},
			{"a code through a client without the grant", redeem.Encode(), []string{hsForm, service}, 400, ""},
			{"a code with the wrong verifier", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {testRedirectURI}, "code_verifier": {strings.Repeat("v", 43)}}.Encode(), []string{hsForm, shop}, 400, "invalid_grant"},
			{"a confidential client without its secret", "grant_type=client_credentials&client_id=" + e.shopID, []string{hsForm}, 401, "invalid_client"},
			{"an unknown grant", "grant_type=password&username=ann%40example.org&password=" + url.QueryEscape(testPassword),
				[]string{hsForm, shop}, 400, ""},
			{"no grant", "code=" + code, []string{hsForm, shop}, 400, "invalid_request"},
			{"a scope the client may not have", "grant_type=client_credentials&scope=openid", []string{hsForm, service}, 400, "invalid_scope"},
		} {
			r := hsDo(t, nil, http.MethodPost, token, c.body, c.headers...)
			status := c.status
			if status == 0 {
				status = r.status
				if r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
					t.Errorf("token, %s: status %d, want 400 or 401", c.name, r.status)
				}
			}
			hsExpect(t, "token, "+c.name, r, status, hsJSON)
			if c.code != "" {
				mustEqualf(t, "token, "+c.name+": error", r.json(t)["error"], c.code)
			}
		}
		e.unchanged("refused token requests", before)

		// Basic for one client, client_secret_post for another: whatever
		// the answer, no token is issued to the client of the body.
		r := hsDo(t, nil, http.MethodPost, token, cc+"&client_id="+url.QueryEscape(e.shopID)+"&client_secret="+url.QueryEscape(e.shopSecret),
			hsForm, service)
		hsExpect(t, "token, Basic and client_secret_post of different clients", r, r.status, hsJSON)
		if r.status == http.StatusOK {
			at, _ := r.json(t)["access_token"].(string)
			if got := hsIntrospectClient(t, e.u, e.serviceID, e.serviceSecret, at); got != e.serviceID {
				t.Errorf("token, Basic and client_secret_post: issued to %q", got)
			}
		}
		r = hsDo(t, nil, http.MethodPost, token, redeem.Encode()+"&client_id="+url.QueryEscape(e.shopID)+
			"&client_secret="+url.QueryEscape(e.shopSecret), hsForm, hsBasic(e.thirdID, e.thirdSecret))
		hsExpect(t, "token, the code's client in the body, another in Basic", r, http.StatusBadRequest, hsJSON)

		// The code survived every refused attempt and the verifier check:
		// its own client redeems it once, a second time is invalid_grant.
		before = e.state()
		r = hsDo(t, nil, http.MethodPost, token, redeem.Encode(), hsForm, shop)
		if r.status == http.StatusOK {
			r = hsDo(t, nil, http.MethodPost, token, redeem.Encode(), hsForm, shop)
			hsExpect(t, "token, the code redeemed twice", r, http.StatusBadRequest, hsJSON)
			mustEqualf(t, "token, the code redeemed twice: error", r.json(t)["error"], "invalid_grant")
		} else {
			hsExpect(t, "token, the code after refused attempts", r, http.StatusBadRequest, hsJSON)
		}
	})
}

// Methods an endpoint does not serve: 405 with Allow.
func TestHostileMethods(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		before := e.state()
		for _, c := range []struct{ method, path, allow string }{
			{"GET", "/oauth2/token", "POST"},
			{"GET", "/oauth2/introspect", "POST"},
			{"GET", "/oauth2/revoke", "POST"},
			{"PUT", "/oauth2/token", "POST"},
			{"DELETE", "/oauth2/userinfo", "GET"},
			{"PUT", "/oauth2/authorize", "GET"},
			{"DELETE", "/login", "POST"},
			{"PATCH", "/logout", "POST"},
			{"POST", "/jwks", "GET"},
			{"POST", "/.well-known/openid-configuration", "GET"},
			{"POST", "/account", "GET"},
		} {
			what := c.method + " " + c.path
			r := hsDo(t, nil, c.method, e.u.issuer+c.path, "", hsForm)
			hsExpect(t, what, r, http.StatusMethodNotAllowed, "")
			if !strings.Contains(r.header.Get("Allow"), c.allow) {
				t.Errorf("%s: Allow %q, want %s in it", what, r.header.Get("Allow"), c.allow)
			}
		}
		e.unchanged("requests with the wrong method", before)
	})
}

// The sign-in form: missing and hostile fields are refused with the page,
// nobody signed in; return_to never leaves the institution; a cross-site
// POST is refused.
func TestHostileSignInForm(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		login := e.u.issuer + "/login"
		pw := url.QueryEscape(testPassword)
		before := e.state()
		for _, c := range []struct {
			name, body string
			status     int
		}{
			{"no fields", "", http.StatusBadRequest},
			{"no password", "email=ann%40example.org", http.StatusBadRequest},
			{"no email", "password=" + pw, http.StatusBadRequest},
			{"empty fields", "email=&password=", http.StatusBadRequest},
			{"blank email", "email=+++&password=" + pw, http.StatusBadRequest},
			{"a 2 KiB email", "email=" + strings.Repeat("a", 2048) + "%40example.org&password=" + pw, http.StatusBadRequest},
			{"an email with CRLF", "email=ann%40example.org%0D%0ASet-Cookie%3A+usher_session%3Dx&password=" + pw, http.StatusBadRequest},
			{"an email with NUL", "email=ann%40example.org%00&password=" + pw, http.StatusBadRequest},
			{"a password over 1 KiB", "email=ann%40example.org&password=" + strings.Repeat("p", 1100), http.StatusBadRequest},
			{"the right password plus 1 KiB", "email=ann%40example.org&password=" + pw + strings.Repeat("p", 1024), http.StatusBadRequest},
			{"invalid UTF-8", "email=%FF%FE%40example.org&password=%C3%28", http.StatusBadRequest},
			{"a malformed form", "email=%zz&password=%", http.StatusBadRequest},
			{"the email twice, another first", "email=bob%40example.org&email=ann%40example.org&password=" + pw, http.StatusBadRequest},
			{"the password twice, a wrong one first", "email=ann%40example.org&password=wrong&password=" + pw, http.StatusBadRequest},
		} {
			r := hsDo(t, nil, http.MethodPost, login, c.body, hsForm)
			hsExpect(t, "sign-in, "+c.name, r, c.status, hsHTML)
			if r.setsSession() || r.header.Get("Location") != "" {
				t.Errorf("sign-in, %s: signed in or redirected:\n%v", c.name, r)
			}
			if strings.Contains(r.body, "Set-Cookie:") && !strings.Contains(r.body, "Set-Cookie: usher_session=x") {
				t.Errorf("sign-in, %s: the page shows the injected text unescaped", c.name)
			}
		}
		e.unchanged("refused sign-ins", before)

		// A cross-site POST, even with the right password: 403 page.
		for _, h := range [][]string{{"Sec-Fetch-Site: cross-site"}, {"Sec-Fetch-Site: same-site"}, {"Origin: https://evil.example"},
			{"Origin: null"}} {
			r := hsDo(t, nil, http.MethodPost, login, "email=ann%40example.org&password="+pw, append(h, hsForm)...)
			hsExpect(t, fmt.Sprintf("sign-in, cross-site %q", h), r, http.StatusForbidden, hsHTML)
			if r.setsSession() || r.header.Get("Location") != "" {
				t.Errorf("sign-in, cross-site %q: signed in or redirected:\n%v", h, r)
			}
		}
		e.unchanged("cross-site sign-ins", before)

		// A return_to outside the institution's authorization endpoint is
		// ignored: the right password lands on the account page.
		for _, rt := range []string{
			"javascript:alert(1)", "//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example/",
			"\\\\evil.example", "/%2F%2Fevil.example", "http://" + strings.TrimPrefix(e.u.url, "http://") + "@evil.example/",
			e.u.url + "/institutions/demo/oauth2/authorize?client_id=x", "/institutions/other/oauth2/authorize?client_id=x",
			"/institutions/demo/oauth2/authorize/../../../account?x=1", "/institutions/demo/oauth2/authorize%3Fx=1",
			"/institutions/demo/oauth2/authorize?x=1#https://evil.example", "/institutions/demo/oauth2/authorize?\r\nLocation: https://evil.example",
			"/institutions/demo/oauth2/authorize", " /institutions/demo/oauth2/authorize?x=1", "data:text/html,<script>alert(1)</script>",
			"/institutions/demo/oauth2/authorize?" + strings.Repeat("x", 5000),
		} {
			what := fmt.Sprintf("sign-in with return_to %q", rt)
			r := hsDo(t, nil, http.MethodPost, login, url.Values{"email": {"ann@example.org"}, "password": {testPassword},
				"return_to": {rt}}.Encode(), hsForm)
			hsExpect(t, what, r, http.StatusSeeOther, "")
			if loc := r.header.Get("Location"); loc != "/institutions/demo/account" {
				t.Errorf("%s: redirect to %q, want the account page", what, loc)
			}
			g := hsDo(t, nil, http.MethodGet, login+"?"+url.Values{"return_to": {rt}}.Encode(), "")
			hsExpect(t, "sign-in page with return_to "+rt, g, http.StatusOK, hsHTML)
			if strings.Contains(g.body, "evil.example") || strings.Contains(g.body, `name="return_to"`) {
				t.Errorf("sign-in page with return_to %q: the form carries it on", rt)
			}
		}
		// A return_to whose client_id no client can have (a NUL byte,
		// invalid UTF-8): the pages answer as for an unknown client.
		signedIn := newBrowser(t)
		newRP(t, e.u.issuer, e.shopID, e.shopSecret).signIn(signedIn, "ann@example.org")
		signedIn.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		for _, id := range []string{"\x00", "a\x00b", "\xff", "\xc3\x28"} {
			q := e.authorizeQuery()
			q.Set("client_id", id)
			rt := "/institutions/demo/oauth2/authorize?" + q.Encode()
			what := fmt.Sprintf("client_id %q in return_to", id)
			r := hsDo(t, nil, http.MethodGet, login+"?"+url.Values{"return_to": {rt}}.Encode(), "")
			hsExpect(t, "sign-in page, "+what, r, http.StatusOK, hsHTML)
			r = hsDo(t, nil, http.MethodPost, login, url.Values{"email": {"nobody@example.org"}, "password": {"wrong"},
				"return_to": {rt}}.Encode(), hsForm)
			hsExpect(t, "sign-in, wrong password, "+what, r, http.StatusBadRequest, hsHTML)
			r = hsDo(t, nil, http.MethodPost, login, url.Values{"email": {"ann@example.org"}, "password": {testPassword},
				"return_to": {rt}}.Encode(), hsForm)
			hsExpect(t, "sign-in, "+what, r, http.StatusSeeOther, "")
			mustEqualf(t, "sign-in, "+what+": Location", r.header.Get("Location"), rt)
			r = hsDo(t, signedIn.http, http.MethodGet, e.u.issuer+"/consent?"+url.Values{"return_to": {rt}}.Encode(), "")
			hsExpect(t, "consent page, "+what, r, http.StatusBadRequest, hsHTML)
			r = hsDo(t, signedIn.http, http.MethodPost, e.u.issuer+"/consent", url.Values{"consent": {"allow"},
				"return_to": {rt}}.Encode(), hsForm)
			hsExpect(t, "consent, "+what, r, http.StatusBadRequest, hsHTML)
		}

		// A valid return_to is resumed exactly, on this server.
		rt := "/institutions/demo/oauth2/authorize?" + e.authorizeQuery().Encode()
		r := hsDo(t, nil, http.MethodPost, login, url.Values{"email": {"ann@example.org"}, "password": {testPassword},
			"return_to": {rt}}.Encode(), hsForm)
		hsExpect(t, "sign-in with a valid return_to", r, http.StatusSeeOther, "")
		mustEqualf(t, "sign-in with a valid return_to: Location", r.header.Get("Location"), rt)
		if !r.setsSession() {
			t.Error("the right password set no session cookie")
		}
	})
}

// RP-initiated logout with a bad id_token_hint: a 400 page, and nobody is
// signed out.
func TestHostileLogoutHint(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		shop := newRP(t, e.u.issuer, e.shopID, e.shopSecret)
		b := newBrowser(t)
		tok, _ := shop.signIn(b, "ann@example.org")
		idToken := tok.Extra("id_token").(string)
		parts := strings.Split(idToken, ".")
		elsewhere, _ := e.tokens(e.other, e.otherID, e.otherSecret).Extra("id_token").(string)
		enc := base64.RawURLEncoding.EncodeToString
		mac := hmac.New(sha256.New, []byte(e.shopSecret))
		hsHeader := enc([]byte(`{"alg":"HS256","typ":"JWT"}`))
		mac.Write([]byte(hsHeader + "." + parts[1]))
		hints := []struct{ name, hint string }{
			{"not a JWT", "not-a-jwt"},
			{"two parts", parts[0] + "." + parts[1]},
			{"alg none", enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."},
			{"alg none, no signature part", enc([]byte(`{"alg":"none"}`)) + "." + parts[1]},
			{"an unknown kid", enc([]byte(`{"alg":"RS256","kid":"unknown","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]},
			{"no kid", enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]},
			{"HS256 with the client secret", hsHeader + "." + parts[1] + "." + enc(mac.Sum(nil))},
			{"a changed claim", parts[0] + "." + enc([]byte(`{"iss":"`+e.u.issuer+`","aud":"`+e.thirdID+`","sub":"x"}`)) + "." + parts[2]},
			{"a changed signature", parts[0] + "." + parts[1] + "." + enc(hsRandom(256))},
			{"of another institution", elsewhere},
			{"header not JSON", enc([]byte("{{{")) + "." + parts[1] + "." + parts[2]},
			{"not base64", "!!!.$$$.%%%"},
			{"huge", strings.Repeat("A", 30<<10) + "." + parts[1] + "." + parts[2]},
		}
		logout := e.u.issuer + "/oauth2/logout"
		noFollow := *b.http
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		for _, h := range hints {
			for _, extra := range []url.Values{{}, {"post_logout_redirect_uri": {"https://shop.example/bye"}, "state": {"s"}}} {
				q := url.Values{"id_token_hint": {h.hint}}
				for k, v := range extra {
					q[k] = v
				}
				what := fmt.Sprintf("logout with a hint %s (%v)", h.name, extra)
				r := hsDo(t, &noFollow, http.MethodGet, logout+"?"+q.Encode(), "")
				hsExpect(t, what, r, http.StatusBadRequest, hsHTML)
				r = hsDo(t, &noFollow, http.MethodPost, logout, q.Encode(), hsForm)
				hsExpect(t, what+", POST", r, http.StatusBadRequest, hsHTML)
				if r.header.Get("Location") != "" {
					t.Errorf("%s: redirected to %q", what, r.header.Get("Location"))
				}
			}
		}
		// Nobody was signed out: the account page still shows ann.
		r := hsDo(t, &noFollow, http.MethodGet, e.u.issuer+"/account", "")
		if r.status != http.StatusOK || !strings.Contains(r.body, "ann@example.org") {
			t.Errorf("after the refused logouts the browser is no longer signed in:\n%v", r)
		}
		// Parameters that do not parse: the page, not a 500.
		for _, q := range []string{"id_token_hint=%zz", "post_logout_redirect_uri=%zz&state=%", "client_id=" + e.shopID + "&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"} {
			r := hsDo(t, &noFollow, http.MethodGet, logout+"?"+q, "")
			hsExpect(t, "logout ?"+q, r, http.StatusBadRequest, hsHTML)
		}
		r = hsDo(t, &noFollow, http.MethodGet, e.u.issuer+"/account", "")
		if r.status != http.StatusOK || !strings.Contains(r.body, "ann@example.org") {
			t.Errorf("after the refused logouts the browser is no longer signed in:\n%v", r)
		}
	})
}
