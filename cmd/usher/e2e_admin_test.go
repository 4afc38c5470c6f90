package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
)

// The admin API, end to end: the box office's back end calls it with a
// client-credentials token or with an operator's token, obtained from the
// running server as a real back end would.

// adminScopes are the scopes of the tokens the tests use.
var adminScopes = []string{issuer.ScopeAccountsRead, issuer.ScopeAccountsWrite, issuer.ScopeSettingsWrite}

// adminClient calls one institution's admin API with one access token.
type adminClient struct {
	t     *testing.T
	base  string // {issuer}/admin/v1
	token string
}

// adminOf is the admin API of inst, called with token ("": none).
func (u *usherServer) adminOf(inst *storage.Institution, token string) *adminClient {
	return &adminClient{t: u.t, base: issuer.URL(u.url, inst.Slug) + "/admin/v1", token: token}
}

// call sends a request (body: a string sent as JSON text, anything else
// encoded; nil: no body) and decodes the JSON answer.
func (c *adminClient) call(method, path string, body any) apiResponse {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req)
}

// do sends req with the token and decodes the JSON answer.
func (c *adminClient) do(req *http.Request) apiResponse {
	c.t.Helper()
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := apiResponse{status: resp.StatusCode, header: resp.Header, body: map[string]any{}, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
			c.t.Fatalf("%s %s answered %d with %s %q", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		}
		if err := json.Unmarshal(raw, &out.body); err != nil {
			c.t.Fatalf("%s %s answered invalid JSON %q", req.Method, req.URL.Path, raw)
		}
	}
	return out
}

// want checks the status of an answer and returns it.
func (c *adminClient) want(what string, r apiResponse, status int) apiResponse {
	c.t.Helper()
	if r.status != status {
		c.t.Fatalf("%s: %d %s, want %d", what, r.status, strings.TrimSpace(r.raw), status)
	}
	return r
}

// wantProblem checks a problem answer: its status, its type name ("" for
// about:blank) and, for refused input, the fields and message ids listed.
func wantProblem(t *testing.T, what string, r apiResponse, status int, kind string, errors ...string) {
	t.Helper()
	wantType := "about:blank"
	if kind != "" {
		wantType = "https://usher-idp.github.io/problems/" + kind
	}
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" || r.str("type") != wantType ||
		r.body["status"] != float64(status) || r.str("title") == "" || r.str("detail") == "" {
		t.Errorf("%s: %d %s %s, want a %d problem of type %s", what, r.status, r.header.Get("Content-Type"),
			strings.TrimSpace(r.raw), status, wantType)
		return
	}
	var got []string
	list, _ := r.body["errors"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["message"] == "" || m["message"] == m["message_id"] {
			t.Errorf("%s: error %v has no message", what, m)
		}
		got = append(got, m["field"].(string)+":"+m["message_id"].(string))
	}
	if strings.Join(got, " ") != strings.Join(errors, " ") {
		t.Errorf("%s: errors %v, want %v", what, got, errors)
	}
}

// serviceToken registers a back end of inst for the client-credentials
// grant with the scopes, and returns its ID and an access token with them.
func (u *usherServer) serviceToken(inst *storage.Institution, scopes ...string) (string, string) {
	u.t.Helper()
	id, secret := u.client(inst, provider.ClientSpec{Name: "Box office back end",
		GrantTypes: []string{provider.GrantClientCredentials}, Scopes: scopes})
	tok := wantTokens(u.t, "client credentials", send(u.t, http.MethodPost, issuer.URL(u.url, inst.Slug)+"/oauth2/token",
		basic(id, secret), url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(scopes, " ")}}))
	return id, tok.str("access_token")
}

// operatorToken registers a box office in inst (operators sign in, the
// admin scopes registered), signs the operator with this email in through
// it in a browser, and returns the operator and its access token.
func (u *usherServer) operatorToken(inst *storage.Institution, email string) (*storage.Account, string) {
	u.t.Helper()
	scopes := append([]string{"openid", "offline_access"}, adminScopes...)
	id, secret := u.client(inst, provider.ClientSpec{Name: "Box office", RedirectURIs: []string{testRedirectURI},
		FirstParty: true, AccountKind: storage.Operator, Scopes: scopes})
	op := u.account(inst, storage.Operator, email)
	tok, _ := newRP(u.t, issuer.URL(u.url, inst.Slug), id, secret, scopes...).signIn(newBrowser(u.t), email)
	return op, tok.AccessToken
}

// pointOfSale registers a ticket shop of inst that is a point of sale.
func (u *usherServer) pointOfSale(inst *storage.Institution, name string) (string, string) {
	u.t.Helper()
	return u.client(inst, provider.ClientSpec{Name: name, RedirectURIs: []string{testRedirectURI}, FirstParty: true,
		PointOfSale: true, HomeURL: "https://shop.example/"})
}

// eventsOf lists "actor action" of an account's audit events, newest first.
func (c *adminClient) eventsOf(accountID string) []string {
	c.t.Helper()
	r := c.want("events", c.call(http.MethodGet, "/accounts/"+accountID+"/events", nil), http.StatusOK)
	var out []string
	list, _ := r.body["events"].([]any)
	for _, e := range list {
		m := e.(map[string]any)
		out = append(out, m["actor"].(string)+" "+m["action"].(string))
	}
	return out
}

// hasEvent reports whether events holds one.
func hasEvent(events []string, event string) bool {
	for _, e := range events {
		if e == event {
			return true
		}
	}
	return false
}

// testClock is a clock that the test moves forward: the server's time.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
