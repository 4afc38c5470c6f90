package main

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// The newcomer's path: serve --dev, open /demo/, sign in as the demo
// customer whose password serve printed, and see what the application got.
func TestDemoRelyingParty(t *testing.T) {
	t.Chdir(t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // serve listens on it; the public URL is derived from it, as in --dev
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	ready := make(chan net.Addr, 1)
	c := &cli{env: []string{"USHER_LISTEN=" + addr, "USHER_METRICS_LISTEN=127.0.0.1:0", "USHER_DATABASE_URL=" + sqltest.SQLite(t).URL},
		stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, now: time.Now,
		listening: func(a net.Addr) { ready <- a }}
	done := make(chan error, 1)
	go func() { done <- c.run(ctx, []string{"serve", "--dev"}) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, errOut.String())
	}
	m := regexp.MustCompile(`customer@example.org  password (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("serve --dev did not print the demo customer's password:\n%s", out.String())
	}

	b := newBrowser(t)
	base := "http://" + addr
	resp, body := b.visit(base + "/demo/login?client=shop")
	if !strings.HasSuffix(resp.Request.URL.Path, "/login") {
		t.Fatalf("signing in to the demo shop did not show Usher's sign-in page: %s", resp.Request.URL)
	}
	resp, body = b.submit(resp, body, url.Values{"email": {"customer@example.org"}, "password": {m[1]}})
	if resp.Request.URL.Path != "/demo/" || resp.StatusCode != 200 {
		t.Fatalf("after sign-in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	for _, want := range []string{"ID token claims", "customer@example.org", `&#34;amr&#34;`, "Userinfo"} {
		if !strings.Contains(body, want) {
			t.Errorf("the demo page does not show %q:\n%s", want, body)
		}
	}
	resp, body = b.submit(resp, body, url.Values{}) // the refresh form
	if resp.Request.URL.Path != "/demo/" || !strings.Contains(body, "customer@example.org") {
		t.Errorf("refresh: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	demoSignOut(t, b, base)
	demoThirdParty(t, b, base, m[1])
	if resp, body := b.visit(base + "/demo/callback?state=forged"); resp.StatusCode != 400 ||
		!strings.Contains(body, "<h1>This sign-in is unknown or expired</h1>") || !strings.Contains(body, `href="/demo/"`) {
		t.Errorf("a forged callback: %d\n%s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// Signing out of the demo ends its own session and Usher's: the demo shows
// every way to sign in again, and Usher asks for a password.
func demoSignOut(t *testing.T, b *browser, base string) {
	t.Helper()
	resp, err := b.http.PostForm(base+"/demo/logout", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := b.read(resp)
	if resp.Request.URL.Path != "/demo/" || strings.Contains(body, "ID token claims") ||
		!strings.Contains(body, "client=box-office") || !strings.Contains(body, "/password/forgot") ||
		!strings.Contains(body, "/register") || !strings.Contains(body, "two_factor=1") {
		t.Fatalf("after signing out of the demo: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if !b.visitedPage("/oauth2/logout") {
		t.Errorf("signing out of the demo did not sign out of Usher: %v", b.pages)
	}
	if resp, _ := b.visit(base + "/demo/login?client=shop"); !strings.HasSuffix(resp.Request.URL.Path, "/login") {
		t.Errorf("after signing out, Usher did not ask for the password: %s", resp.Request.URL)
	}
}

// The third-party demo client shows the consent page.
func demoThirdParty(t *testing.T, b *browser, base, password string) {
	t.Helper()
	resp, body := b.visit(base + "/demo/login?client=partner")
	if !strings.HasSuffix(resp.Request.URL.Path, "/login") || !strings.Contains(body, "Demo Partner App") {
		t.Fatalf("the third-party client: %s\n%s", resp.Request.URL, body)
	}
	resp, body = b.submit(resp, body, url.Values{"email": {"customer@example.org"}, "password": {password}})
	if !onConsentPage(resp) || !strings.Contains(body, "Demo Partner App") {
		t.Fatalf("the third-party client did not ask consent: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, body = b.submit(resp, body, url.Values{"consent": {"allow"}})
	if resp.Request.URL.Path != "/demo/" || !strings.Contains(body, "<strong>partner</strong>") {
		t.Errorf("after consent: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}
