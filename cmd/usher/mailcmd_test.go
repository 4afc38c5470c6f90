package main

import (
	"bytes"
	"context"
	"mime"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/templates"
)

// withSMTP points the CLI at a test SMTP server without TLS.
func (tc *testCLI) withSMTP(srv *mailtest.Server) *testCLI {
	env := []string{"USHER_SMTP_HOST=" + srv.Host, "USHER_SMTP_PORT=" + strconv.Itoa(srv.Port), "USHER_SMTP_TLS=none",
		"USHER_SMTP_TIMEOUT=5s"}
	for _, kv := range tc.env {
		if !strings.HasPrefix(kv, "USHER_SMTP_HOST=") {
			env = append(env, kv)
		}
	}
	return &testCLI{t: tc.t, env: env}
}

// serveInBackground runs usher serve until the test ends and returns its
// base URL and its log.
func serveInBackground(t *testing.T, env []string, args ...string) (base string, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	errOut := &syncBuffer{}
	c := &cli{env: append(env, "USHER_LISTEN=127.0.0.1:0", "USHER_METRICS_LISTEN=127.0.0.1:0"), stdin: strings.NewReader(""), stdout: &syncBuffer{},
		stderr: errOut, now: time.Now, listening: func(a net.Addr) { addrs <- a }}
	done := make(chan error, 1)
	go func() { done <- c.run(ctx, append([]string{"serve"}, args...)) }()
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v\n%s", err, errOut)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return base, errOut
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// usher serve delivers what usher mail test queues, through SMTP.
func TestServeDeliversMail(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		tc := newTestCLI(t, db).withSMTP(srv)
		tc.ok("", "migrate")
		tc.ok("", "institution", "create", "opera", "--name", "Opéra de Lyon")
		_, _ = serveInBackground(t, tc.env)
		var got emailJSON
		tc.json(&got, "mail", "test", "--institution", "opera", "--to", "ops@example.org", "--class", "account_invitation",
			"--locale", "fr", "--wait", "30s", "--json")
		if got.Status != "sent" || got.Class != "account_invitation" || got.Locale != "fr" {
			t.Fatalf("mail test: %+v", got)
		}
		msgs := srv.Wait(t, 1, 10*time.Second)
		msg, err := msgs[0].Message()
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if subject != "Votre compte chez Opéra de Lyon" || msg.Header.Get("Message-Id") != "<"+got.ID+"@id.example.org>" {
			t.Errorf("received: subject %q, Message-ID %q", subject, msg.Header.Get("Message-Id"))
		}
		var list []emailJSON
		tc.json(&list, "outbox", "list", "--institution", "opera", "--status", "sent", "--json")
		if len(list) != 1 || list[0].ID != got.ID || list[0].SentAt == nil {
			t.Errorf("outbox list: %+v", list)
		}
	})
}

// In --dev without smtp.host, emails are printed to the console.
func TestServeDevPrintsMail(t *testing.T) {
	t.Chdir(t.TempDir())
	db := sqltest.SQLite(t)
	env := []string{"USHER_DATABASE_URL=" + db.URL, "USHER_LOG_LEVEL=warn"}
	_, console := serveInBackground(t, env, "--dev")
	tc := &testCLI{t: t, env: env}
	out := tc.ok("", "mail", "test", "--dev", "--institution", "demo", "--to", "dev@example.org", "--wait", "30s")
	if !strings.Contains(out, ": sent") {
		t.Fatalf("mail test: %s", out)
	}
	for _, want := range []string{"To: <dev@example.org>", "Subject: Reset your password for", "/institutions/demo/password/reset?token=SAMPLE"} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("the console lacks %q:\n%s", want, console)
		}
	}
}

func TestCLIMailTestRefuses(t *testing.T) {
	tc := newTestCLI(t, sqltest.SQLite(t))
	tc.ok("", "migrate")
	tc.ok("", "institution", "create", "opera", "--name", "Opera")
	tc.fails("--to is required", "", "mail", "test", "--institution", "opera")
	tc.fails("unknown class", "", "mail", "test", "--institution", "opera", "--to", "a@example.org", "--class", "nope")
	tc.fails("--locale", "", "mail", "test", "--institution", "opera", "--to", "a@example.org", "--locale", "es")
	tc.fails("recipient", "", "mail", "test", "--institution", "opera", "--to", "not an address")
	// Without a server running, --wait reports that nothing was attempted.
	tc.fails("not delivered: still queued", "", "mail", "test", "--institution", "opera", "--to", "a@example.org", "--wait", "300ms")
}

func TestCLIOutbox(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := newTestCLI(t, db)
		tc.ok("", "migrate")
		tc.ok("", "institution", "create", "opera", "--name", "Opera")
		var acc struct{ ID string }
		tc.jsonIn("a long passphrase 42\n", &acc, "account", "create", "--institution", "opera", "--kind", "customer",
			"--email", "ann@example.org", "--password-stdin", "--json")
		a := tc.app()
		inst, err := a.institution(t.Context(), "opera")
		if err != nil {
			t.Fatal(err)
		}
		acct, err := a.store.In(inst.ID).GetAccount(t.Context(), acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var forAnn *storage.OutboxEmail
		err = a.store.InTx(t.Context(), func(ctx context.Context) error {
			forAnn, err = a.outbox.Queue(ctx, inst, mail.To(acct), templates.TwoFactorEnabledEmail{At: time.Now()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var test emailJSON
		tc.json(&test, "mail", "test", "--institution", "opera", "--to", "ops@example.org", "--json")
		if test.Status != "queued" || test.AccountID != "" {
			t.Fatalf("mail test: %+v", test)
		}

		var list []emailJSON
		tc.json(&list, "outbox", "list", "--institution", "opera", "--json")
		if len(list) != 2 || list[0].ID != test.ID || list[1].ID != forAnn.ID {
			t.Fatalf("outbox list, newest first: %+v", list)
		}
		// The --json shape: these keys, and never the bodies (they may hold a live link).
		var raw []map[string]any
		tc.json(&raw, "outbox", "list", "--institution", "opera", "--json")
		for _, key := range []string{"id", "account_id", "class", "locale", "recipient", "sender", "subject", "status",
			"attempts", "next_attempt_at", "last_error", "created_at", "sent_at"} {
			if _, ok := raw[0][key]; !ok {
				t.Errorf("outbox list --json lacks %q: %v", key, raw[0])
			}
		}
		if len(raw[0]) != 13 {
			t.Errorf("outbox list --json: %d keys, want 13: %v", len(raw[0]), raw[0])
		}
		tc.json(&list, "outbox", "list", "--institution", "opera", "--account", "ANN@example.org", "--json")
		if len(list) != 1 || list[0].ID != forAnn.ID || list[0].Class != "two_factor_enabled" {
			t.Fatalf("outbox list --account: %+v", list)
		}
		tc.json(&list, "outbox", "list", "--institution", "opera", "--status", "failed", "--json")
		if len(list) != 0 {
			t.Fatalf("outbox list --status failed: %+v", list)
		}
		table := tc.ok("", "outbox", "list", "--institution", "opera")
		if !strings.Contains(table, "LAST ERROR") || !strings.Contains(table, forAnn.ID) {
			t.Errorf("outbox list:\n%s", table)
		}
		tc.fails("no account with the email", "", "outbox", "list", "--institution", "opera", "--account", "bob@example.org")
		tc.fails("--status", "", "outbox", "list", "--institution", "opera", "--status", "lost")

		// A failed email is queued again, and the retry is in the account's audit trail.
		if err := a.store.MarkEmailFailed(t.Context(), forAnn.ID, "550 no such user"); err != nil {
			t.Fatal(err)
		}
		tc.ok("", "outbox", "retry", "--institution", "opera", forAnn.ID)
		got, err := a.store.In(inst.ID).GetEmail(t.Context(), forAnn.ID)
		if err != nil || got.Status != storage.EmailQueued {
			t.Fatalf("after retry: %+v, %v", got, err)
		}
		events, err := a.store.In(inst.ID).ListAudit(t.Context(), storage.AuditFilter{AccountID: acct.ID, Action: "email_retried"})
		if err != nil || len(events) != 1 || events[0].Actor != "cli" || events[0].Details["email_id"] != forAnn.ID ||
			events[0].Details["previous_status"] != "failed" {
			t.Fatalf("audit: %+v, %v", events, err)
		}
		if err := a.store.MarkEmailSent(t.Context(), forAnn.ID); err != nil {
			t.Fatal(err)
		}
		tc.fails("sent already", "", "outbox", "retry", "--institution", "opera", forAnn.ID)
		tc.fails("no email", "", "outbox", "retry", "--institution", "opera", "0190f0e2-0000-7000-8000-000000000000")
		tc.fails("want 1 argument", "", "outbox", "retry", "--institution", "opera")
	})
}

// app opens the CLI's database the way a command does, until the test ends.
func (tc *testCLI) app() *app {
	tc.t.Helper()
	c := &cli{env: tc.env, stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, now: time.Now}
	a, err := c.open(context.Background(), newFlags("test"), false)
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.t.Cleanup(a.Close)
	return a
}

const goodTemplate = `# A French reset email for the opera.
[subject]
{{.Institution}} : nouveau mot de passe

[text]
{{template "greeting" .}}

Votre lien : {{.Link}}
[html]
{{template "greeting" .}}
<p><a href="{{.Link}}">Choisir un mot de passe</a></p>
`

func TestCLITemplates(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := newTestCLI(t, db)
		tc.ok("", "migrate")
		tc.ok("", "institution", "create", "opera", "--name", "Opera")
		dir := t.TempDir()
		file := filepath.Join(dir, "reset.fr.tmpl")
		if err := os.WriteFile(file, []byte(goodTemplate), 0o644); err != nil {
			t.Fatal(err)
		}
		out := tc.ok("", "template", "set", "--institution", "opera", "--class", "password_reset", "--locale", "fr", "--file", file)
		if !strings.Contains(out, "set: subject, text, html") {
			t.Errorf("template set: %s", out)
		}
		// A broken template is refused with the parser's message, and the
		// stored one is kept.
		broken := strings.Replace(goodTemplate, `{{.Link}}">`, `{{.Link ">`, 1)
		tc.fails(`template refused, nothing stored: html: template: content:2: unterminated quoted string`, broken,
			"template", "set", "--institution", "opera", "--class", "password_reset", "--locale", "fr", "--file", "-")
		tc.fails("can't evaluate field Link", "[text]\n{{.Link}}\n",
			"template", "set", "--institution", "opera", "--class", "two_factor_enabled", "--locale", "fr", "--file", "-")
		var list []struct {
			Class, Locale string
			Parts         []string
		}
		tc.json(&list, "template", "list", "--institution", "opera", "--json")
		if len(list) != 1 || list[0].Class != "password_reset" || list[0].Locale != "fr" || len(list[0].Parts) != 3 {
			t.Fatalf("template list: %+v", list)
		}
		shown := tc.ok("", "template", "show", "--institution", "opera", "--class", "password_reset", "--locale", "fr")
		if !strings.Contains(shown, "(overridden by opera)") || !strings.Contains(shown, "Votre lien : {{.Link}}") {
			t.Errorf("template show:\n%s", shown)
		}
		// What show prints is a template file: it can be set again as it is.
		src, err := parseTemplateFile(strings.NewReader(shown))
		if err != nil || src.Subject != "{{.Institution}} : nouveau mot de passe" {
			t.Fatalf("show does not round-trip: %+v, %v", src, err)
		}
		builtin := tc.ok("", "template", "show", "--builtin", "--class", "account_activation", "--locale", "de")
		if !strings.Contains(builtin, `{{t "email.account_activation.subject"`) {
			t.Errorf("template show --builtin:\n%s", builtin)
		}
		tc.ok("", "template", "delete", "--institution", "opera", "--class", "password_reset", "--locale", "fr")
		tc.json(&list, "template", "list", "--institution", "opera", "--json")
		if len(list) != 0 {
			t.Fatalf("after delete: %+v", list)
		}
		tc.fails("has no template", "", "template", "delete", "--institution", "opera", "--class", "password_reset", "--locale", "fr")
		tc.fails("--class", "", "template", "set", "--institution", "opera", "--class", "nope", "--locale", "fr", "--file", file)
		tc.fails("--locale", "", "template", "set", "--institution", "opera", "--class", "password_reset", "--locale", "es", "--file", file)
		tc.fails("--file is required", "", "template", "set", "--institution", "opera", "--class", "password_reset", "--locale", "fr")
	})
}

func TestTemplateFileFormat(t *testing.T) {
	cases := []struct {
		name, in string
		want     templates.EmailSource
		err      string
	}{
		{"all parts", "# c\n\n[subject]\n Hi {{.Institution}} \n[text]\n\nline 1\n\nline 2\n\n[html]\r\n<p>x</p>\r\n",
			templates.EmailSource{Subject: "Hi {{.Institution}}", Text: "line 1\n\nline 2\n", HTML: "<p>x</p>\n"}, ""},
		{"subject only", "[subject]\nHello", templates.EmailSource{Subject: "Hello"}, ""},
		{"a body line starting with #", "[text]\n# not a comment\n", templates.EmailSource{Text: "# not a comment\n"}, ""},
		{"no part", "# nothing\n", templates.EmailSource{}, "no part"},
		{"text before", "hello\n[subject]\nx\n", templates.EmailSource{}, "line 1: text before the first part"},
		{"twice", "[text]\na\n[text]\nb\n", templates.EmailSource{}, "line 3: [text] appears twice"},
		{"two-line subject", "[subject]\na\nb\n", templates.EmailSource{}, "one line"},
		{"empty part", "[subject]\nx\n[html]\n\n", templates.EmailSource{}, "[html] part is empty"},
		{"not utf-8", "[text]\n\xff\n", templates.EmailSource{}, "not UTF-8"},
	}
	for _, c := range cases {
		got, err := parseTemplateFile(strings.NewReader(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: want an error mentioning %q, got %v", c.name, c.err, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}

func TestEHLOName(t *testing.T) {
	for host, want := range map[string]string{"id.example.org": "id.example.org", "127.0.0.1": "[127.0.0.1]",
		"::1": "[IPv6:::1]", "localhost": "localhost"} {
		if got := ehloName(host); got != want {
			t.Errorf("ehloName(%q) = %q, want %q", host, got, want)
		}
	}
}
