package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// testCLI runs the binary's commands in-process against one database.
type testCLI struct {
	t   *testing.T
	env []string
}

// newTestCLI returns a CLI configured for production use of db, the way an
// operator's environment would configure it.
func newTestCLI(t *testing.T, db sqltest.DB) *testCLI {
	return &testCLI{t: t, env: []string{
		"USHER_DATABASE_URL=" + db.URL,
		"USHER_SECRET=" + strings.Repeat("s", 40),
		"USHER_PUBLIC_URL=https://id.example.org",
		"USHER_SMTP_HOST=smtp.example.org",
		"USHER_SMTP_FROM=Usher <no-reply@example.org>",
		"USHER_LOG_LEVEL=warn",
	}}
}

func (tc *testCLI) run(stdin string, args ...string) (string, error) {
	tc.t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{env: tc.env, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, now: time.Now}
	err := c.run(context.Background(), args)
	return out.String(), err
}

// ok runs a command that must succeed.
func (tc *testCLI) ok(stdin string, args ...string) string {
	tc.t.Helper()
	out, err := tc.run(stdin, args...)
	if err != nil {
		tc.t.Fatalf("usher %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// fails runs a command that must fail with an error mentioning want, on one line.
func (tc *testCLI) fails(want, stdin string, args ...string) {
	tc.t.Helper()
	_, err := tc.run(stdin, args...)
	if err == nil {
		tc.t.Fatalf("usher %s succeeded, want an error mentioning %q", strings.Join(args, " "), want)
	}
	if !strings.Contains(err.Error(), want) {
		tc.t.Fatalf("usher %s: error %q does not mention %q", strings.Join(args, " "), err, want)
	}
}

func (tc *testCLI) json(v any, args ...string) {
	tc.t.Helper()
	tc.jsonIn("", v, args...)
}

func (tc *testCLI) jsonIn(stdin string, v any, args ...string) {
	tc.t.Helper()
	out := tc.ok(stdin, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		tc.t.Fatalf("usher %s: output %q is not JSON: %v", strings.Join(args, " "), out, err)
	}
}

// demoCLI is newTestCLI on a migrated db with an institution "demo".
func demoCLI(t *testing.T, db sqltest.DB) *testCLI {
	t.Helper()
	tc := newTestCLI(t, db)
	tc.ok("", "migrate")
	tc.ok("", "institution", "create", "demo", "--name", "Demo")
	return tc
}

func TestCLIInstitutions(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := newTestCLI(t, db)
		tc.fails("run usher migrate", "", "institution", "list")
		tc.ok("", "migrate")

		var created struct{ ID, Slug string }
		tc.json(&created, "institution", "create", "opera", "--name", "City Opera", "--json")
		if created.ID == "" || created.Slug != "opera" {
			t.Fatalf("create printed %+v", created)
		}
		tc.fails("exists", "", "institution", "create", "opera", "--name", "Again")
		tc.fails("slug", "", "institution", "create", "Bad Slug!", "--name", "x")

		tc.ok("", "institution", "update", "opera", "--two-factor", "on", "--reset-link-ttl", "24h",
			"--password-min-length", "12", "--password-require-digit", "on")
		tc.fails("between", "", "institution", "update", "opera", "--reset-link-ttl", "1s")
		tc.fails("want on or off", "", "institution", "update", "opera", "--two-factor", "maybe")
		tc.fails("no institution", "", "institution", "update", "ballet", "--two-factor", "on")

		var list []institutionJSON
		tc.json(&list, "institution", "list", "--json")
		if len(list) != 1 {
			t.Fatalf("list = %+v", list)
		}
		s := list[0].Settings
		if !s.TwoFactor || s.ResetLinkTTL.Std() != 24*time.Hour || s.Password.MinLength != 12 || !s.Password.RequireDigit {
			t.Errorf("update not applied: %+v", s)
		}
		if s.ActivationLinkTTL.Std() != 7*24*time.Hour {
			t.Errorf("the refused update changed something: %+v", s)
		}
		if list[0].Version != 2 {
			t.Errorf("version = %d, want 2 (one successful update)", list[0].Version)
		}
	})
}

func TestCLIClients(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := demoCLI(t, db)

		var made map[string]string
		tc.json(&made, "client", "create", "--institution", "demo", "--name", "Shop",
			"--redirect-uri", "https://shop.example/cb", "--point-of-sale", "--home-url", "https://shop.example/", "--json")
		if len(made["client_id"]) < 20 || len(made["client_secret"]) != 43 || len(made) != 2 {
			t.Fatalf("create printed %v", made)
		}
		tc.fails("reverse-domain", "", "client", "create", "--institution", "demo", "--name", "Evil",
			"--redirect-uri", "javascript:alert(1)")
		tc.fails("fragment", "", "client", "create", "--institution", "demo", "--name", "Frag",
			"--redirect-uri", "https://shop.example/cb#x")
		tc.fails("no institution", "", "client", "create", "--institution", "nope", "--name", "x",
			"--redirect-uri", "https://shop.example/cb")

		var public map[string]string
		tc.json(&public, "client", "create", "--institution", "demo", "--name", "App", "--public",
			"--redirect-uri", "com.example.app:/cb", "--json")
		if _, has := public["client_secret"]; has {
			t.Errorf("public client got a secret: %v", public)
		}

		var list []clientJSON
		tc.json(&list, "client", "list", "--institution", "demo", "--json")
		if len(list) != 2 {
			t.Fatalf("want the 2 valid clients, got %+v", list)
		}
		out := tc.ok("", "client", "list", "--institution", "demo")
		if strings.Contains(out, made["client_secret"]) || strings.Contains(out, "sha256$") {
			t.Error("client list shows a secret or its hash")
		}

		tc.ok("", "client", "delete", "--institution", "demo", made["client_id"])
		tc.fails("no client", "", "client", "delete", "--institution", "demo", made["client_id"])
		tc.json(&list, "client", "list", "--institution", "demo", "--json")
		if len(list) != 1 || list[0].ID != public["client_id"] {
			t.Errorf("after delete: %+v", list)
		}
	})
}

func TestCLIAccounts(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := demoCLI(t, db)
		create := []string{"account", "create", "--institution", "demo", "--kind", "customer", "--password-stdin"}

		var made map[string]string
		tc.jsonIn("correct horse battery\n", &made, append(create, "--email", "Ann@Example.org", "--json")...)
		if made["id"] == "" {
			t.Fatalf("create printed %v", made)
		}
		tc.fails("already exists", "another good passphrase\n", append(create, "--email", "ann@example.ORG")...)
		tc.fails("Use at least 10 characters", "short\n", append(create, "--email", "bob@example.org")...)
		tc.fails("too common", "1234567890\n", append(create, "--email", "bob@example.org")...)
		tc.fails("valid email", "correct horse battery\n", append(create, "--email", "not-an-email")...)
		tc.fails("--password-stdin is required", "", "account", "create", "--institution", "demo",
			"--kind", "customer", "--email", "bob@example.org")
		// The same email is fine for the other kind.
		tc.ok("operator passphrase 1\n", "account", "create", "--institution", "demo", "--kind", "operator",
			"--email", "ann@example.org", "--password-stdin")

		var list []accountJSON
		tc.json(&list, "account", "list", "--institution", "demo", "--json")
		if len(list) != 2 {
			t.Fatalf("want 2 accounts (refused ones not created), got %+v", list)
		}
		tc.json(&list, "account", "list", "--institution", "demo", "--kind", "customer", "--json")
		if len(list) != 1 || list[0].ID != made["id"] || list[0].Status != "active" || !list[0].HasPassword {
			t.Fatalf("customers: %+v", list)
		}

		tc.fails("Use at least 10", "tiny\n", "account", "set-password", "--institution", "demo",
			"--email", "ANN@example.org", "--password-stdin")
		tc.ok("a brand new passphrase\n", "account", "set-password", "--institution", "demo",
			"--email", "ANN@example.org", "--password-stdin", "--temporary")
		tc.json(&list, "account", "list", "--institution", "demo", "--kind", "customer", "--json")
		if !list[0].MustChangePassword {
			t.Errorf("temporary password not marked: %+v", list[0])
		}
		tc.fails("no such account", "x\n", "account", "set-password", "--institution", "demo",
			"--email", "nobody@example.org", "--password-stdin")
		tc.ok("", "account", "unlock", "--institution", "demo", "--id", made["id"])
		tc.ok("", "janitor")
	})
}

// The external reference and the class of invitations from the command
// line.
func TestCLIExternalRefAndInvitationEmail(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := demoCLI(t, db)
		create := []string{"account", "create", "--institution", "demo", "--kind", "customer", "--password-stdin"}
		tc.ok("correct horse battery\n", append(create, "--email", "ann@example.org", "--external-ref", "C-1")...)
		tc.fails("already has this external reference", "correct horse battery\n",
			append(create, "--email", "bob@example.org", "--external-ref", "C-1")...)
		var list []accountJSON
		tc.json(&list, "account", "list", "--institution", "demo", "--json")
		if len(list) != 1 || list[0].ExternalRef != "C-1" {
			t.Errorf("account list: %+v", list)
		}

		tc.fails("account_invitation or password_reset", "", "institution", "update", "demo", "--invitation-email", "welcome")
		var inst institutionJSON
		tc.json(&inst, "institution", "update", "demo", "--invitation-email", "password_reset", "--json")
		if inst.Settings.InvitationEmail != "password_reset" {
			t.Errorf("invitation email: %+v", inst.Settings)
		}
	})
}

func TestCLIBadInput(t *testing.T) {
	db := sqltest.SQLite(t)
	tc := newTestCLI(t, db)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
		{"missing argument", nil, []string{"institution", "create", "--name", "x"}, "want 1 argument"},
		{"unknown flag", nil, []string{"institution", "list", "--colour"}, "flag provided but not defined"},
		{"wrong scheme", []string{"USHER_DATABASE_URL=mysql://x/y"}, []string{"migrate"}, "unsupported scheme"},
		{"unreachable", []string{"USHER_DATABASE_URL=postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"},
			[]string{"migrate"}, "connect to postgres database"},
		{"unknown env", []string{"USHER_SMTP_HSOT=x"}, []string{"migrate"}, "USHER_SMTP_HSOT: unknown setting"},
		{"missing config file", nil, []string{"migrate", "--config", "/nonexistent/usher.yaml"}, "/nonexistent/usher.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first of duplicate variables wins, as with os.Getenv.
			c := &testCLI{t: t, env: append(append([]string(nil), tt.env...), tc.env...)}
			c.fails(tt.want, "", tt.args...)
		})
	}
}

// TestServeDev is the newcomer's first command: no configuration at all.
func TestServeDev(t *testing.T) {
	// --dev runs only on SQLite (TestDevRefusesProduction).
	func(t *testing.T, db sqltest.DB) {
		t.Chdir(t.TempDir()) // where ./usher-dev.secret appears
		env := []string{"USHER_LISTEN=127.0.0.1:0", "USHER_METRICS_LISTEN=127.0.0.1:0", "USHER_DATABASE_URL=" + db.URL}
		first := serveDevOnce(t, env)
		for _, want := range []string{"client_id demo-shop", "client_id demo-box-office", "customer@example.org", "operator@example.org"} {
			if !strings.Contains(first, want) {
				t.Errorf("serve --dev did not print %q:\n%s", want, first)
			}
		}
		if fi, err := os.Stat("usher-dev.secret"); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("development secret: %v %v", fi, err)
		}
		// A second start finds the demo data and prints the same credentials.
		if second := serveDevOnce(t, env); second != first {
			t.Errorf("second start printed\n%s\nfirst printed\n%s", second, first)
		}
		tc := &testCLI{t: t, env: append(env, "USHER_LOG_LEVEL=warn")}
		var accounts []accountJSON
		tc.json(&accounts, "account", "list", "--dev", "--institution", "demo", "--json")
		if len(accounts) != 2 {
			t.Errorf("demo accounts after two starts: %+v", accounts)
		}
	}(t, sqltest.SQLite(t))
}

// serveDevOnce starts serve --dev, checks that it serves, stops it
// gracefully and returns what it printed.
func serveDevOnce(t *testing.T, env []string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	var out, errOut bytes.Buffer
	c := &cli{env: env, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, now: time.Now,
		listening: func(a net.Addr) { addrs <- a }}
	done := make(chan error, 1)
	go func() { done <- c.run(ctx, []string{"serve", "--dev"}) }()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, errOut.String())
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	return out.String()
}

// client create --access-token-format jwt|opaque and --audience: stored and
// shown by client list; opaque is the default; a bad format or audience, or
// an audience for opaque tokens, is refused and creates nothing.
func TestCLIClientAccessTokenFormat(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := demoCLI(t, db)
		cc := []string{"client", "create", "--institution", "demo", "--grant", "client_credentials", "--scope", "tickets:read"}
		var jwtClient, plain map[string]string
		tc.json(&jwtClient, append(cc, "--name", "API client", "--access-token-format", "jwt",
			"--audience", "https://api.example.org", "--audience", "https://tickets.example.org", "--json")...)
		tc.json(&plain, append(cc, "--name", "Back end", "--json")...)
		tc.fails("access token format", "", append(cc, "--name", "Bad", "--access-token-format", "paseto")...)
		tc.fails("only a client with JWT access tokens", "", append(cc, "--name", "Bad", "--audience", "https://api.example.org")...)
		tc.fails("absolute URI", "", append(cc, "--name", "Bad", "--access-token-format", "jwt", "--audience", "api")...)

		var list []clientJSON
		tc.json(&list, "client", "list", "--institution", "demo", "--json")
		if len(list) != 2 {
			t.Fatalf("want the 2 valid clients, got %+v", list)
		}
		for _, c := range list {
			switch c.ID {
			case jwtClient["client_id"]:
				mustEqualf(t, "format of the JWT client", c.AccessTokenFormat, "jwt")
				mustEqualf(t, "audiences", c.Audiences, []string{"https://api.example.org", "https://tickets.example.org"})
			case plain["client_id"]:
				mustEqualf(t, "format by default", c.AccessTokenFormat, "opaque")
				mustEqualf(t, "audiences by default", len(c.Audiences), 0)
			}
		}
		out := tc.ok("", "client", "list", "--institution", "demo")
		if !strings.Contains(out, "ACCESS TOKENS") || !strings.Contains(out, "jwt (aud https://api.example.org https://tickets.example.org)") {
			t.Errorf("client list does not show the access token format:\n%s", out)
		}
	})
}
