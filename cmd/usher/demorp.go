package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// demoRP is the relying party built into --dev at /demo/: it signs in with
// the demo shop or box-office client exactly as an application would
// (golang.org/x/oauth2 with PKCE, coreos/go-oidc verifying the ID token) and
// shows what it received, so a newcomer sees the whole flow in a browser.
// It keeps its state in memory: it is a demonstration, for one process.
//
// Its page is the application's, not Usher's, and speaks English only.
type demoRP struct {
	publicURL string
	issuer    string
	clients   map[string]demoClient // "shop", "box-office"
	mu        sync.Mutex
	pending   map[string]demoPending  // by state
	sessions  map[string]*demoSession // by cookie
	provider  *oidc.Provider          // found by discovery on first use
	page      *template.Template
}

type demoClient struct{ id, secret string }

type demoPending struct {
	client, nonce, verifier string
	at                      time.Time
}

type demoSession struct {
	client   string
	token    *oauth2.Token
	idToken  string
	claims   map[string]any
	userinfo map[string]any
}

const demoCookie = "usher_demo"

func newDemoRP(publicURL string, d *demoData) *demoRP {
	return &demoRP{
		publicURL: publicURL,
		issuer:    d.issuer,
		clients: map[string]demoClient{
			"shop":       {demoShopID, d.shopSecret},
			"box-office": {demoBoxOfficeID, d.boxOfficeSecret},
		},
		pending:  map[string]demoPending{},
		sessions: map[string]*demoSession{},
		page:     template.Must(template.New("demo").Parse(demoPage)),
	}
}

// routes registers the demo under /demo/.
func (d *demoRP) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /demo/{$}", d.home)
	mux.HandleFunc("GET /demo/login", d.login)
	mux.HandleFunc("GET /demo/callback", d.callback)
	mux.HandleFunc("POST /demo/refresh", d.refresh)
}

// oauth returns the configuration of a demo client, discovering the issuer
// on first use (the server is listening by then).
func (d *demoRP) oauth(ctx context.Context, client string) (*oauth2.Config, *oidc.Provider, error) {
	c, ok := d.clients[client]
	if !ok {
		return nil, nil, fmt.Errorf("no demo client %q", client)
	}
	d.mu.Lock()
	p := d.provider
	d.mu.Unlock()
	if p == nil {
		var err error
		if p, err = oidc.NewProvider(ctx, d.issuer); err != nil {
			return nil, nil, fmt.Errorf("discovery: %w", err)
		}
		d.mu.Lock()
		d.provider = p
		d.mu.Unlock()
	}
	return &oauth2.Config{ClientID: c.id, ClientSecret: c.secret, Endpoint: p.Endpoint(),
		RedirectURL: d.publicURL + "/demo/callback",
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}}, p, nil
}

// login starts a code flow with PKCE and a nonce.
func (d *demoRP) login(w http.ResponseWriter, r *http.Request) {
	client := r.URL.Query().Get("client")
	conf, _, err := d.oauth(r.Context(), client)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p := demoPending{client: client, nonce: demoRandom(), verifier: oauth2.GenerateVerifier(), at: time.Now()}
	state := demoRandom()
	d.mu.Lock()
	d.pending[state] = p
	d.mu.Unlock()
	http.Redirect(w, r, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(p.verifier), oidc.Nonce(p.nonce)), http.StatusSeeOther)
}

// callback redeems the code, verifies the ID token and reads userinfo.
func (d *demoRP) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d.mu.Lock()
	p, ok := d.pending[q.Get("state")]
	delete(d.pending, q.Get("state"))
	d.mu.Unlock()
	switch {
	case !ok || time.Since(p.at) > 10*time.Minute:
		http.Error(w, "unknown or expired state", http.StatusBadRequest)
		return
	case q.Get("error") != "":
		http.Error(w, "the provider answered "+q.Get("error")+": "+q.Get("error_description"), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	conf, provider, err := d.oauth(ctx, p.client)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		http.Error(w, "token exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	s, err := d.session(ctx, provider, conf.ClientID, p.client, tok, p.nonce)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	id := demoRandom()
	d.mu.Lock()
	d.sessions[id] = s
	d.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: demoCookie, Value: id, Path: "/demo/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/demo/", http.StatusSeeOther)
}

// session verifies what the token endpoint returned and reads userinfo.
func (d *demoRP) session(ctx context.Context, p *oidc.Provider, clientID, client string, tok *oauth2.Token, nonce string) (*demoSession, error) {
	raw, _ := tok.Extra("id_token").(string)
	id, err := p.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("ID token: %w", err)
	}
	if nonce != "" && id.Nonce != nonce {
		return nil, fmt.Errorf("ID token: wrong nonce")
	}
	s := &demoSession{client: client, token: tok, idToken: raw}
	if err := id.Claims(&s.claims); err != nil {
		return nil, err
	}
	info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	if err := info.Claims(&s.userinfo); err != nil {
		return nil, err
	}
	return s, nil
}

// refresh uses the refresh token and shows the new ID token.
func (d *demoRP) refresh(w http.ResponseWriter, r *http.Request) {
	s, id := d.current(r)
	if s == nil {
		http.Redirect(w, r, "/demo/", http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	conf, provider, err := d.oauth(ctx, s.client)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	expired := &oauth2.Token{RefreshToken: s.token.RefreshToken, Expiry: time.Now().Add(-time.Second)}
	tok, err := conf.TokenSource(ctx, expired).Token()
	if err != nil {
		http.Error(w, "refresh: "+err.Error(), http.StatusBadGateway)
		return
	}
	fresh, err := d.session(ctx, provider, conf.ClientID, s.client, tok, "")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	d.mu.Lock()
	d.sessions[id] = fresh
	d.mu.Unlock()
	http.Redirect(w, r, "/demo/", http.StatusSeeOther)
}

func (d *demoRP) current(r *http.Request) (*demoSession, string) {
	c, err := r.Cookie(demoCookie)
	if err != nil {
		return nil, ""
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sessions[c.Value], c.Value
}

// home shows the sign-in buttons, or what the application received.
func (d *demoRP) home(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Issuer": d.issuer}
	if s, _ := d.current(r); s != nil {
		claims, _ := json.MarshalIndent(s.claims, "", "  ")
		info, _ := json.MarshalIndent(s.userinfo, "", "  ")
		logout := d.issuer + "/oauth2/logout?" + url.Values{"id_token_hint": {s.idToken},
			"post_logout_redirect_uri": {d.publicURL + "/demo/"}, "state": {demoRandom()}}.Encode()
		data["Client"], data["Claims"], data["UserInfo"], data["Logout"] = s.client, string(claims), string(info), logout
		data["Expiry"] = s.token.Expiry.Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := d.page.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func demoRandom() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const demoPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Usher demo application</title><link rel="stylesheet" href="/static/usher.css"></head>
<body><main class="page">
<h1>Usher demo application</h1>
<p>This page is a relying party, like a ticket shop: it signs in through <code>{{.Issuer}}</code>.</p>
{{if .Claims}}
<p>Signed in through the <strong>{{.Client}}</strong> client. The access token expires at {{.Expiry}}.</p>
<h2>ID token claims</h2><pre>{{.Claims}}</pre>
<h2>Userinfo</h2><pre>{{.UserInfo}}</pre>
<form method="post" action="/demo/refresh"><button type="submit">Refresh the tokens</button></form>
<p><a href="{{.Logout}}">Sign out</a></p>
{{else}}
<p><a class="button" href="/demo/login?client=shop">Sign in to the shop (customer)</a></p>
<p><a class="button" href="/demo/login?client=box-office">Sign in to the box office (operator)</a></p>
{{end}}
</main></body></html>
`
