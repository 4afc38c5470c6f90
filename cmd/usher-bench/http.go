package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The benchmark's HTTP side: one keep-alive transport shared by every
// worker, clients that never follow redirects (the flows follow them by
// hand, so every hop is checked), and browsers with their own cookie jar.

const (
	redirectURI = "https://bench.example/callback"
	userAgent   = "usher-bench"
)

func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns * 4,
		MaxIdleConnsPerHost: conns * 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

func noFollow(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
	url    *url.URL
}

func (r reply) location() string { return r.header.Get("Location") }

// do sends req and reads the whole answer.
func do(c *http.Client, req *http.Request) (reply, error) {
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL.Path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body, url: req.URL}, nil
}

func get(ctx context.Context, c *http.Client, rawURL string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return reply{}, err
	}
	return do(c, req)
}

// statusError describes an unexpected answer in one line: the status, the
// path and the start of the body (an RFC 6749 error says what went wrong).
func statusError(what string, r reply) error {
	body := strings.Join(strings.Fields(string(r.body)), " ")
	if i := strings.Index(body, "<title>"); i >= 0 { // a page: its title says what it is
		if j := strings.Index(body[i:], "</title>"); j >= 0 {
			body = "page " + strconv.Quote(body[i+len("<title>"):i+j])
		}
	}
	if len(body) > 160 {
		body = body[:160] + "…"
	}
	path := ""
	if r.url != nil {
		path = " " + r.url.Path
	}
	if loc := r.location(); loc != "" && body == "" {
		body = "Location: " + truncate(loc, 160)
	}
	return fmt.Errorf("%s: %d%s %s", what, r.status, path, body)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// tokenResponse is what the token endpoint issued.
type tokenResponse struct {
	AccessToken, IDToken, RefreshToken string
}

// browser is a person's browser: a cookie jar over the shared transport.
type browser struct {
	http *http.Client
}

func newBrowser(t http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &browser{http: &http.Client{Transport: t, Jar: jar, CheckRedirect: noFollow, Timeout: time.Minute}}
}

// follow gets rawURL and follows redirects within Usher. It stops at the
// relying party's redirect URI (returning its query) or at a page (200).
func (b *browser) follow(ctx context.Context, rawURL string) (callback url.Values, page reply, err error) {
	for hop := 0; hop < 8; hop++ {
		r, err := get(ctx, b.http, rawURL)
		if err != nil {
			return nil, reply{}, err
		}
		switch r.status {
		case http.StatusOK:
			return nil, r, nil
		case http.StatusFound, http.StatusSeeOther:
		default:
			return nil, r, statusError("browser", r)
		}
		next, err := r.url.Parse(r.location())
		if err != nil {
			return nil, r, fmt.Errorf("browser: redirect to %q: %v", r.location(), err)
		}
		if strings.HasPrefix(next.String(), redirectURI) {
			return next.Query(), r, nil
		}
		rawURL = next.String()
	}
	return nil, reply{}, fmt.Errorf("browser: more than 8 redirects from %s", rawURL)
}

// post submits a form in the browser.
func (b *browser) post(ctx context.Context, rawURL string, form url.Values) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(b.http, req)
}

// flow is one authorization request: state, nonce and PKCE verifier.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: randomString(16), nonce: randomString(16), verifier: randomString(32)}
}

func (f flow) challenge() string {
	sum := sha256.Sum256([]byte(f.verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
