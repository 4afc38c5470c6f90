package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// scenario is one kind of operation. prepare builds the state of n workers
// (unmeasured); op runs one complete operation of worker i, on the
// worker's own connection e.raw[i] for the back channel.
type scenario interface {
	prepare(ctx context.Context, e *env, n int) error
	op(ctx context.Context, e *env, i int) error
}

// scenarioNames lists the scenarios in the order "all" runs them.
// password-login comes last: argon2id's memory stays in the server's RSS
// for a while and would be counted in the next scenario's.
var scenarioNames = []string{"client-credentials", "client-credentials-jwt", "introspect", "refresh", "refresh-openid",
	"sso-code-flow", "userinfo", "discovery", "jwks", "healthz", "forgot-known", "forgot-unknown", "reset-page",
	"password-login"}

func newScenario(name string) scenario {
	switch name {
	case "client-credentials":
		return &clientCredentials{}
	case "client-credentials-jwt":
		return &clientCredentials{jwt: true}
	case "introspect":
		return &introspect{}
	case "refresh":
		return &refresh{scope: "offline_access"}
	case "refresh-openid":
		return &refresh{scope: "openid offline_access", openid: true}
	case "sso-code-flow":
		return &ssoCodeFlow{}
	case "password-login":
		return &passwordLogin{}
	case "userinfo":
		return &userinfo{}
	case "discovery":
		return &document{path: "/.well-known/openid-configuration", field: []byte(`"issuer"`)}
	case "jwks":
		return &document{path: "/jwks", field: []byte(`"keys"`)}
	case "healthz":
		return &document{path: "/healthz", field: []byte("ok"), root: true}
	case "forgot-known":
		return &forgot{known: true}
	case "forgot-unknown":
		return &forgot{}
	case "reset-page":
		return &resetPage{}
	}
	return nil
}

func expandScenarios(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == "all" {
			out = append(out, scenarioNames...)
			continue
		}
		if newScenario(a) == nil {
			return nil, fmt.Errorf("unknown scenario %q (one of %s, all)", a, strings.Join(scenarioNames, ", "))
		}
		out = append(out, a)
	}
	return out, nil
}

// clientCredentials: a back end gets an access token; with jwt, a back end
// registered for JWT access tokens, whose token must be a JWT.
type clientCredentials struct{ jwt bool }

func (*clientCredentials) prepare(context.Context, *env, int) error { return nil }

func (s *clientCredentials) op(_ context.Context, e *env, i int) error {
	if !s.jwt {
		_, err := e.clientCredentials(e.raw[i])
		return err
	}
	tok, err := e.token(e.raw[i], e.jwtMachineAuth)
	if err == nil && strings.Count(tok, ".") != 2 {
		err = fmt.Errorf("client credentials of the JWT client: %.40q is not a JWT", tok)
	}
	return err
}

// introspect: a resource server asks about access tokens issued
// beforehand (client credentials tokens of another client).
type introspect struct {
	bodies [][]byte // the request bodies, one per token
	next   []int    // per worker: the index of its next token
}

func (s *introspect) prepare(ctx context.Context, e *env, n int) error {
	s.bodies = make([][]byte, e.o.tokens)
	s.next = make([]int, n)
	for i := range s.next {
		s.next[i] = i * len(s.bodies) / n // each worker walks the tokens from its own offset
	}
	// A few lanes, each issuing its share of the tokens on one connection.
	lanes := min(setupAtOnce, len(s.bodies))
	return parallel(lanes, lanes, func(lane int) error {
		c := e.newRaw()
		defer c.close()
		for i := lane; i < len(s.bodies); i += lanes {
			tok, err := e.clientCredentials(c)
			if err != nil {
				return err
			}
			s.bodies[i] = []byte(url.Values{"token": {tok}, "token_type_hint": {"access_token"}}.Encode())
		}
		return nil
	})
}

var activeTrue = []byte(`"active":true`)

func (s *introspect) op(_ context.Context, e *env, i int) error {
	body := s.bodies[s.next[i]]
	s.next[i] = (s.next[i] + 1) % len(s.bodies)
	path := e.base + "/oauth2/introspect"
	a, err := e.raw[i].do("POST", path, body, formHeader, e.resourceAuth)
	if err != nil {
		return err
	}
	if a.status != 200 {
		return rawError("introspect", path, a)
	}
	if !bytes.Contains(a.body, activeTrue) {
		return fmt.Errorf("introspect: a live token is not active: %.200s", a.body)
	}
	return nil
}

// refresh: each worker signed in once with offline_access and rotates its
// own refresh token at every operation.
type refresh struct {
	scope  string
	openid bool
	chains []string
}

func (s *refresh) prepare(ctx context.Context, e *env, n int) error {
	s.chains = make([]string, n)
	return parallel(n, setupAtOnce, func(i int) error {
		t, err := e.issue(ctx, i, s.scope, s.openid)
		if err != nil {
			return err
		}
		if t.RefreshToken == "" {
			return errors.New("code exchange: no refresh token although offline_access was asked")
		}
		s.chains[i] = t.RefreshToken
		return nil
	})
}

func (s *refresh) op(ctx context.Context, e *env, i int) error {
	path := e.base + "/oauth2/token"
	body := "grant_type=refresh_token&refresh_token=" + url.QueryEscape(s.chains[i])
	a, err := e.raw[i].do("POST", path, []byte(body), formHeader, e.shopAuth)
	if err != nil {
		return err
	}
	t, err := tokensOf("refresh", path, a)
	if err != nil {
		return err
	}
	if t.RefreshToken == "" {
		return errors.New("refresh: no new refresh token")
	}
	s.chains[i] = t.RefreshToken
	if s.openid {
		return e.verifyIDToken(ctx, t, "")
	}
	return nil
}

// ssoCodeFlow: each worker's browser is signed in; every operation is an
// authorization request answered from that session (no page), the code
// exchange and the ID token verification.
type ssoCodeFlow struct{}

const fullScope = "openid email profile"

func (s *ssoCodeFlow) prepare(context.Context, *env, int) error { return nil }

func (s *ssoCodeFlow) op(ctx context.Context, e *env, i int) error {
	f := newFlow()
	cb, page, err := e.browsers[i].follow(ctx, e.authURL(f, fullScope))
	if err != nil {
		return err
	}
	if cb == nil {
		return statusError("authorize with a session: expected the redirect to the shop", page)
	}
	code, err := callbackCode(cb, f, e.issuer)
	if err != nil {
		return err
	}
	_, err = e.exchange(ctx, e.raw[i], code, f, true)
	return err
}

// passwordLogin: a new browser every time, the whole sign-in with the
// password, the code exchange and the ID token verification.
type passwordLogin struct{}

func (*passwordLogin) prepare(context.Context, *env, int) error { return nil }

func (*passwordLogin) op(ctx context.Context, e *env, i int) error {
	b := newBrowser(e.transport)
	f := newFlow()
	code, err := e.signIn(ctx, b, e.accounts[i], f, fullScope)
	if err != nil {
		return err
	}
	_, err = e.exchange(ctx, e.raw[i], code, f, true)
	return err
}

// userinfo: each worker holds an access token with openid email profile.
type userinfo struct {
	auth []header // Authorization: Bearer …, per worker
	sub  [][]byte // "sub":"<account id>", per worker
}

func (s *userinfo) prepare(ctx context.Context, e *env, n int) error {
	s.auth, s.sub = make([]header, n), make([][]byte, n)
	return parallel(n, setupAtOnce, func(i int) error {
		t, err := e.issue(ctx, i, fullScope, true)
		s.auth[i] = header{"Authorization", "Bearer " + t.AccessToken}
		s.sub[i] = []byte(`"sub":"` + e.accounts[i].id + `"`)
		return err
	})
}

func (s *userinfo) op(_ context.Context, e *env, i int) error {
	path := e.base + "/oauth2/userinfo"
	a, err := e.raw[i].do("GET", path, nil, s.auth[i])
	if err != nil {
		return err
	}
	if a.status != 200 {
		return rawError("userinfo", path, a)
	}
	if !bytes.Contains(a.body, s.sub[i]) {
		return fmt.Errorf("userinfo: not the account's claims: %.200s", a.body)
	}
	return nil
}

// document: a public JSON document (discovery, JWKS), or the liveness
// probe at the server's root, which does no work of its own: what is left
// of its cost and latency is the HTTP stack's, the middleware's and the
// machine's, a floor for every other scenario.
type document struct {
	path  string
	field []byte
	root  bool // path is the server's, not the institution's
}

func (*document) prepare(context.Context, *env, int) error { return nil }

func (s *document) op(_ context.Context, e *env, i int) error {
	path := e.base + s.path
	if s.root {
		path = s.path
	}
	a, err := e.raw[i].do("GET", path, nil)
	if err != nil {
		return err
	}
	if a.status != 200 || !bytes.Contains(a.body, s.field) {
		return rawError(strings.TrimPrefix(s.path, "/"), path, a)
	}
	return nil
}

// forgot: the forgotten-password form, posted with the email of a worker's
// account (known) or of nobody (unknown). The answer is the same page
// either way; what follows it (the link and its email, for a known email
// within the limits) runs after the answer.
type forgot struct {
	known bool
	n     []int // per worker: operations so far
}

func (s *forgot) prepare(_ context.Context, _ *env, n int) error {
	s.n = make([]int, n)
	return nil
}

var forgotAnswer = []byte("Your request has been registered")

func (s *forgot) op(_ context.Context, e *env, i int) error {
	email := e.accounts[i].email
	if !s.known {
		email = fmt.Sprintf("nobody-%d-%d@bench.example", i, s.n[i])
	}
	s.n[i]++
	path := e.base + "/password/forgot"
	a, err := e.raw[i].do("POST", path, []byte(url.Values{"email": {email}}.Encode()),
		header{"Content-Type", "application/x-www-form-urlencoded"})
	if err != nil {
		return err
	}
	if a.status != 200 || !bytes.Contains(a.body, forgotAnswer) {
		return rawError("forgot", path, a)
	}
	return nil
}
