package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
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
// From it a newcomer reaches every flow: sign-in to a first-party shop, to
// the box office (with or without two-step verification, which an operator
// enrols in at sign-in), to a third-party application (the consent page),
// forgotten password, registration, the account page, and signing out
// (of the demo and of Usher).
type demoRP struct {
	publicURL  string
	issuer     string
	stylesheet string                // the URL of usher.css
	clients    map[string]demoClient // "shop", "box-office", "partner"
	mu         sync.Mutex
	pending    map[string]demoPending  // by state
	sessions   map[string]*demoSession // by cookie
	provider   *oidc.Provider          // found by discovery on first use
	page       *template.Template
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

func newDemoRP(publicURL string, d *demoData, stylesheet string) *demoRP {
	return &demoRP{
		publicURL:  publicURL,
		issuer:     d.issuer,
		stylesheet: stylesheet,
		clients: map[string]demoClient{
			"shop":       {demoShopID, d.shopSecret},
			"box-office": {demoBoxOfficeID, d.boxOfficeSecret},
			"partner":    {demoPartnerID, d.partnerSecret},
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
	mux.HandleFunc("POST /demo/logout", d.logout)
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

// login starts a code flow with PKCE and a nonce; ?two_factor=1 asks for
// two factors (acr_values=2), which makes an operator without one enrol.
func (d *demoRP) login(w http.ResponseWriter, r *http.Request) {
	client := r.URL.Query().Get("client")
	conf, _, err := d.oauth(r.Context(), client)
	if err != nil {
		d.fail(w, http.StatusBadRequest, "The demo could not start signing in", err)
		return
	}
	p := demoPending{client: client, nonce: demoRandom(), verifier: oauth2.GenerateVerifier(), at: time.Now()}
	state := demoRandom()
	d.mu.Lock()
	d.pending[state] = p
	d.mu.Unlock()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(p.verifier), oidc.Nonce(p.nonce)}
	if r.URL.Query().Get("two_factor") == "1" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", "2"))
	}
	http.Redirect(w, r, conf.AuthCodeURL(state, opts...), http.StatusSeeOther)
}

// logout ends the demo's own session, then Usher's (RP-initiated logout),
// which sends the browser back here.
func (d *demoRP) logout(w http.ResponseWriter, r *http.Request) {
	s, id := d.current(r)
	http.SetCookie(w, &http.Cookie{Name: demoCookie, Value: "", Path: "/demo/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
	if s == nil {
		http.Redirect(w, r, "/demo/", http.StatusSeeOther)
		return
	}
	d.mu.Lock()
	delete(d.sessions, id)
	d.mu.Unlock()
	end := d.issuer + "/oauth2/logout?" + url.Values{"id_token_hint": {s.idToken},
		"post_logout_redirect_uri": {d.publicURL + "/demo/"}, "state": {demoRandom()}}.Encode()
	http.Redirect(w, r, end, http.StatusSeeOther)
}

// fail shows the demo's error page: what went wrong, and the way back.
func (d *demoRP) fail(w http.ResponseWriter, status int, title string, err error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = d.page.Execute(w, map[string]any{"Stylesheet": d.stylesheet, "Issuer": d.issuer,
		"Error": title, "Detail": err.Error(), "Status": status})
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
		d.fail(w, http.StatusBadRequest, "This sign-in is unknown or expired", errors.New("start again from the demo page"))
		return
	case q.Get("error") != "":
		d.fail(w, http.StatusBadRequest, "Usher did not sign you in",
			fmt.Errorf("the provider answered %s: %s", q.Get("error"), q.Get("error_description")))
		return
	}
	ctx := r.Context()
	conf, provider, err := d.oauth(ctx, p.client)
	if err != nil {
		d.fail(w, http.StatusBadGateway, "The demo could not reach Usher", err)
		return
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		d.fail(w, http.StatusBadGateway, "The code could not be exchanged for tokens", err)
		return
	}
	s, err := d.session(ctx, provider, conf.ClientID, p.client, tok, p.nonce)
	if err != nil {
		d.fail(w, http.StatusBadGateway, "The tokens could not be verified", err)
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
		d.fail(w, http.StatusBadGateway, "The demo could not reach Usher", err)
		return
	}
	expired := &oauth2.Token{RefreshToken: s.token.RefreshToken, Expiry: time.Now().Add(-time.Second)}
	tok, err := conf.TokenSource(ctx, expired).Token()
	if err != nil {
		d.fail(w, http.StatusBadGateway, "The tokens could not be refreshed", err)
		return
	}
	fresh, err := d.session(ctx, provider, conf.ClientID, s.client, tok, "")
	if err != nil {
		d.fail(w, http.StatusBadGateway, "The tokens could not be verified", err)
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

// home shows the sign-in buttons and the other flows, or what the
// application received.
func (d *demoRP) home(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Issuer": d.issuer, "Stylesheet": d.stylesheet}
	if s, _ := d.current(r); s != nil {
		claims, _ := json.MarshalIndent(s.claims, "", "  ")
		info, _ := json.MarshalIndent(s.userinfo, "", "  ")
		data["Client"], data["Claims"], data["UserInfo"] = s.client, string(claims), string(info)
		data["Expiry"] = s.token.Expiry.Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var buf bytes.Buffer
	if err := d.page.Execute(&buf, data); err != nil {
		d.fail(w, http.StatusInternalServerError, "The demo page could not be drawn", err)
		return
	}
	_, _ = buf.WriteTo(w)
}

func demoRandom() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const demoPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{with .Error}}{{.}} · {{end}}Usher demo application</title><link rel="stylesheet" href="{{.Stylesheet}}"></head>
<body><header class="brand"><p class="name">Usher demo application</p></header>
<main>
{{- if .Error}}
<h1>{{.Error}}</h1>
<p>{{.Detail}}</p>
<p class="aside">Error {{.Status}}</p>
<p><a class="button" href="/demo/">Back to the demo</a></p>
{{- else if .Claims}}
<h1>Signed in</h1>
<p>Signed in through the <strong>{{.Client}}</strong> client. The access token expires at {{.Expiry}}.</p>
<h2>ID token claims</h2><pre>{{.Claims}}</pre>
<h2>Userinfo</h2><pre>{{.UserInfo}}</pre>
<form method="post" action="/demo/refresh"><div class="actions"><button type="submit">Refresh the tokens</button></div></form>
<p><a href="{{.Issuer}}/account">Your account at Usher</a> (password, two-step verification, browsers signed in)</p>
<form method="post" action="/demo/logout"><div class="actions"><button type="submit" class="secondary">Sign out</button></div></form>
{{- else}}
<h1>Usher demo application</h1>
<p>This page is a relying party, like a ticket shop: it signs in through <code>{{.Issuer}}</code>.</p>
<h2>Sign in</h2>
<ul class="ways">
<li><a href="/demo/login?client=shop">Sign in to the shop (customer)</a></li>
<li><a href="/demo/login?client=box-office">Sign in to the box office (operator)</a></li>
<li><a href="/demo/login?client=box-office&amp;two_factor=1">Sign in to the box office with two-step verification</a> (the operator sets it up at the first sign-in)</li>
<li><a href="/demo/login?client=partner">Sign in to a third-party application</a> (asks the customer's consent)</li>
</ul>
<h2>Other flows</h2>
<ul class="ways">
<li><a href="{{.Issuer}}/password/forgot">Forgot password</a> (the email is printed in the console)</li>
<li><a href="{{.Issuer}}/register">Register a customer account</a></li>
<li><a href="{{.Issuer}}/account">The account page</a></li>
</ul>
{{- end}}
</main></body></html>
`
