package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// configTestSecret is a valid master secret for the tests (40 bytes).
const configTestSecret = "test-secret-0123456789-0123456789-012345"

// configTestExample is the path of the example file, relative to this package.
const configTestExample = "../../config.example.yaml"

// configTestBase is a minimal valid production file (the secret comes from the environment).
const configTestBase = `
public_url: https://id.example.org
database_url: postgres://usher@db.internal/usher
smtp:
  host: smtp.example.org
  from: Usher <no-reply@example.org>
`

// configTestLoad writes file (when not empty) to a temporary directory and loads it.
func configTestLoad(t *testing.T, file string, env []string, dev bool) (Config, configNotes, error) {
	t.Helper()
	path := ""
	if file != "" {
		path = filepath.Join(t.TempDir(), "usher.yaml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return loadConfig(path, env, dev)
}

// configTestProblems splits the error of loadConfig into its problems.
func configTestProblems(err error) []error {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

func TestConfigExampleLoads(t *testing.T) {
	t.Parallel()
	c, notes, err := loadConfig(configTestExample, []string{"USHER_SECRET=" + configTestSecret}, false)
	if err != nil {
		t.Fatalf("the example file does not load in production mode:\n%v", err)
	}
	if notes.DevSecretCreated {
		t.Error("production mode created a development secret")
	}
	checks := []struct{ name, got, want string }{
		{"public_url", c.PublicURL, "https://id.example.org"},
		{"smtp.host", c.SMTP.Host, "smtp.example.org"},
		{"smtp.port", fmt.Sprint(c.SMTP.Port), "587"},
		{"log.format", c.Log.Format, "json"},
		{"janitor.interval", c.Janitor.Interval.String(), "10m0s"},
		{"keys.rotate_every", c.Keys.RotateEvery.String(), "2160h0m0s"},
		{"tokens.refresh_grace", c.Tokens.RefreshGrace.String(), "15s"},
		{"tokens.grant_ttl", c.Tokens.GrantTTL.String(), "2160h0m0s"},
		{"tokens.jwt_access_ttl", c.Tokens.JWTAccessTTL.String(), "5m0s"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if _, err := c.masterSecret(); err != nil {
		t.Errorf("masterSecret: %v", err)
	}
}

// configTestDocumentedKeys returns the dotted paths of the keys written in the YAML file text,
// either set (`key:`) or commented out (`# key:`), at their nesting level (two spaces per level).
func configTestDocumentedKeys(text string) map[string]bool {
	keyLine := regexp.MustCompile(`^( *)(# ?)?([a-z_][a-z0-9_]*):(\s|$)`)
	found := map[string]bool{}
	var sections []string // sections[i] is the open section at depth i
	for _, line := range strings.Split(text, "\n") {
		m := keyLine.FindStringSubmatch(line)
		if m == nil || len(m[1])%2 != 0 {
			continue
		}
		depth := len(m[1]) / 2
		if depth > len(sections) {
			continue // deeper than any open section: not a key of ours
		}
		sections = sections[:depth]
		path := strings.Join(append(append([]string(nil), sections...), m[3]), ".")
		found[path] = true
		value := strings.TrimSpace(line[len(m[1])+len(m[2])+len(m[3])+1:])
		if m[2] == "" && (value == "" || strings.HasPrefix(value, "#")) {
			sections = append(sections, m[3]) // "section:" opens a mapping
		}
	}
	return found
}

func TestConfigExampleDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(configTestExample)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	documented := configTestDocumentedKeys(text)
	for _, k := range configKeys() {
		if !documented[k.Path] {
			t.Errorf("config.example.yaml does not document %s (as `%s:` or `# %s:` at its level)", k.Path, configTestLeaf(k.Path), configTestLeaf(k.Path))
		}
		if !strings.Contains(text, k.Env) {
			t.Errorf("config.example.yaml does not name the environment variable %s", k.Env)
		}
	}
}

// configTestLeaf returns the last element of a dotted path.
func configTestLeaf(path string) string {
	return path[strings.LastIndex(path, ".")+1:]
}

func TestConfigDocumentedKeysParser(t *testing.T) {
	t.Parallel()
	got := configTestDocumentedKeys("# intro: prose\nlisten: x\nsmtp:\n  host: y\n  # password: z\n  # The port: prose at depth 1\nlog:\n    deep: no\n")
	want := map[string]bool{"intro": true, "listen": true, "smtp": true, "smtp.host": true, "smtp.password": true, "log": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestConfigKeys(t *testing.T) {
	t.Parallel()
	keys := configKeys()
	seen := map[string]string{}
	for _, k := range keys {
		if other, dup := seen[k.Env]; dup {
			t.Errorf("%s and %s share the environment variable %s", other, k.Path, k.Env)
		}
		seen[k.Env] = k.Path
	}
	for _, want := range []string{"USHER_LISTEN", "USHER_PUBLIC_URL", "USHER_DATABASE_URL", "USHER_SECRET",
		"USHER_SECRET_FILE", "USHER_SMTP_HOST", "USHER_SMTP_RETRY_FOR", "USHER_LOG_FORMAT", "USHER_JANITOR_INTERVAL",
		"USHER_KEYS_ROTATE_EVERY", "USHER_TOKENS_REFRESH_GRACE", "USHER_TOKENS_JWT_ACCESS_TTL"} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no key for %s", want)
		}
	}
	if len(keys) != 31 {
		t.Errorf("got %d keys, want 31: %v", len(keys), seen)
	}
}

func TestConfigEnvOverridesFile(t *testing.T) {
	t.Parallel()
	file := configTestBase + "  port: 2525\nlog:\n  level: warn\n"
	env := []string{"USHER_SECRET=" + configTestSecret, "USHER_SMTP_HOST=relay.example.net", "USHER_LOG_LEVEL=debug"}
	c, _, err := configTestLoad(t, file, env, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Host != "relay.example.net" || c.Log.Level != "debug" {
		t.Errorf("environment did not override the file: host %q, level %q", c.SMTP.Host, c.Log.Level)
	}
	if c.SMTP.Port != 2525 || c.PublicURL != "https://id.example.org" {
		t.Errorf("file values lost: port %d, public_url %q", c.SMTP.Port, c.PublicURL)
	}
}

func TestConfigEveryKeySettableByEnv(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(configTestSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A value for each key, and how the field prints once set (fmt.Sprint).
	samples := map[string][2]string{
		"listen":                     {"127.0.0.1:9999", "127.0.0.1:9999"},
		"public_url":                 {"http://localhost:9999/", "http://localhost:9999"},
		"database_url":               {"sqlite:/var/lib/usher/usher.db", "sqlite:/var/lib/usher/usher.db"},
		"secret":                     {configTestSecret + "-env", configTestSecret + "-env"},
		"secret_file":                {secretFile, secretFile},
		"smtp.host":                  {"mx.example.net", "mx.example.net"},
		"smtp.port":                  {"2525", "2525"},
		"smtp.tls":                   {"tls", "tls"},
		"smtp.username":              {"mailer", "mailer"},
		"smtp.password":              {"hunter2", "hunter2"},
		"smtp.from":                  {"a@example.net", "a@example.net"},
		"smtp.timeout":               {"3s", "3s"},
		"smtp.retry_for":             {"2h", "2h0m0s"},
		"log.level":                  {"error", "error"},
		"log.format":                 {"json", "json"},
		"janitor.interval":           {"0", "0s"},
		"janitor.pending_accounts":   {"168h", "168h0m0s"},
		"outbox.retention":           {"168h", "168h0m0s"},
		"metrics.listen":             {"127.0.0.1:9100", "127.0.0.1:9100"},
		"keys.rotate_every":          {"720h", "720h0m0s"},
		"trusted_proxies":            {"10.0.0.0/8, 192.0.2.7", "10.0.0.0/8, 192.0.2.7"},
		"tokens.access_ttl":          {"15m", "15m0s"},
		"tokens.jwt_access_ttl":      {"2m", "2m0s"},
		"tokens.id_token_ttl":        {"30m", "30m0s"},
		"tokens.refresh_ttl":         {"24h", "24h0m0s"},
		"tokens.refresh_grace":       {"0s", "0s"},
		"tokens.grant_ttl":           {"720h", "720h0m0s"},
		"database.timeout":           {"10s", "10s"},
		"database.read_timeout":      {"1s", "1s"},
		"limits.connections":         {"500", "500"},
		"limits.requests_per_client": {"8", "8"},
	}
	keys := configKeys()
	if len(samples) != len(keys) {
		t.Errorf("samples has %d keys, Config has %d: add a sample for every new key", len(samples), len(keys))
	}
	for _, k := range keys {
		t.Run(k.Env, func(t *testing.T) {
			t.Parallel()
			sample, ok := samples[k.Path]
			if !ok {
				t.Fatalf("no sample value for %s", k.Path)
			}
			env := []string{k.Env + "=" + sample[0]}
			if k.Path != "secret_file" && k.Path != "secret" {
				env = append(env, "USHER_SECRET="+configTestSecret)
			}
			if k.Path == "smtp.password" {
				env = append(env, "USHER_SMTP_USERNAME=mailer")
			}
			c, _, err := configTestLoad(t, "", env, true)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(reflect.ValueOf(c).FieldByIndex(k.Index).Interface())
			if got != sample[1] {
				t.Errorf("%s=%s gives %s = %q, want %q", k.Env, sample[0], k.Path, got, sample[1])
			}
		})
	}
}

func TestConfigProblems(t *testing.T) {
	t.Parallel()
	secret := "USHER_SECRET=" + configTestSecret
	tests := []struct {
		name string
		file string
		env  []string
		dev  bool
		want []string // one substring per expected problem, in order
	}{
		{
			name: "valid base",
			file: configTestBase,
			env:  []string{secret},
		},
		{
			name: "unknown file key",
			file: configTestBase + "  hsot: typo\n",
			env:  []string{secret},
			want: []string{"smtp.hsot: unknown setting (line 7 of "},
		},
		{
			name: "unknown top-level file key",
			file: configTestBase + "listn: :80\n",
			env:  []string{secret},
			want: []string{"listn: unknown setting (line 7 of "},
		},
		{
			name: "unknown environment variable",
			file: configTestBase,
			env:  []string{secret, "USHER_SMTP_HSOT=x"},
			want: []string{"USHER_SMTP_HSOT: unknown setting"},
		},
		{
			name: "test variables ignored",
			file: configTestBase,
			env:  []string{secret, "USHER_TEST_POSTGRES=postgres://x", "USHER_TEST_=1", "OTHER_VAR=1"},
		},
		{
			name: "bad port in environment",
			file: configTestBase,
			env:  []string{secret, "USHER_SMTP_PORT=abc"},
			want: []string{`USHER_SMTP_PORT: must be an integer, got "abc"`},
		},
		{
			name: "bad duration in environment",
			file: configTestBase,
			env:  []string{secret, "USHER_JANITOR_INTERVAL=10"},
			want: []string{`USHER_JANITOR_INTERVAL: must be a duration like 30s, 10m or 24h, got "10"`},
		},
		{
			name: "bad port in file",
			file: configTestBase + "  port: abc\n",
			env:  []string{secret},
			want: []string{"smtp.port: cannot unmarshal !!str `abc` into int (line 7 of "},
		},
		{
			name: "bad duration in file",
			file: configTestBase + "  timeout: soon\n",
			env:  []string{secret},
			want: []string{`smtp.timeout: must be a duration like 30s, 10m or 24h, got "soon" (line 7 of `},
		},
		{
			name: "port out of range from environment",
			file: configTestBase,
			env:  []string{secret, "USHER_SMTP_PORT=70000"},
			want: []string{"smtp.port: must be between 1 and 65535, got 70000 (from USHER_SMTP_PORT)"},
		},
		{
			name: "port out of range from file",
			file: configTestBase + "  port: 70000\n",
			env:  []string{secret},
			want: []string{"smtp.port: must be between 1 and 65535, got 70000 (line 7 of "},
		},
		{
			name: "unsupported database scheme",
			file: configTestBase,
			env:  []string{secret, "USHER_DATABASE_URL=mysql://root:pw@db/usher"},
			want: []string{`database_url: unsupported scheme "mysql" (use postgres://… or sqlite:PATH) (from USHER_DATABASE_URL)`},
		},
		{
			name: "sqlite accepted",
			file: configTestBase,
			env:  []string{secret, "USHER_DATABASE_URL=sqlite:/var/lib/usher/usher.db"},
		},
		{
			name: "http public URL refused for a public host",
			file: configTestBase,
			env:  []string{secret, "USHER_PUBLIC_URL=http://id.example.org"},
			want: []string{"public_url: must use https"},
		},
		{
			name: "http public URL allowed for localhost",
			file: configTestBase,
			env:  []string{secret, "USHER_PUBLIC_URL=http://localhost:8080/"},
		},
		{
			name: "http public URL allowed for a loopback address",
			file: configTestBase,
			env:  []string{secret, "USHER_PUBLIC_URL=http://[::1]:8080"},
		},
		{
			name: "public URL with a query",
			file: configTestBase,
			env:  []string{secret, "USHER_PUBLIC_URL=https://id.example.org/?x=1"},
			want: []string{"public_url: must not have a query or a fragment"},
		},
		{
			name: "relative public URL",
			file: configTestBase,
			env:  []string{secret, "USHER_PUBLIC_URL=/usher"},
			want: []string{"public_url: must be an absolute http or https URL"},
		},
		{
			name: "no secret",
			file: configTestBase,
			want: []string{"secret: set secret or secret_file"},
		},
		{
			name: "both secrets",
			file: configTestBase + "secret_file: /nonexistent\n",
			env:  []string{secret},
			want: []string{"secret: set only one of secret and secret_file"},
		},
		{
			name: "short secret",
			file: configTestBase,
			env:  []string{"USHER_SECRET=short"},
			want: []string{"secret: must be at least 32 bytes, got 5"},
		},
		{
			name: "database deadlines and limits",
			file: configTestBase,
			env: []string{secret, "USHER_DATABASE_TIMEOUT=10ms", "USHER_DATABASE_READ_TIMEOUT=1s",
				"USHER_LIMITS_CONNECTIONS=-1", "USHER_LIMITS_REQUESTS_PER_CLIENT=-2"},
			want: []string{"database.timeout: must be at least 100ms, got 10ms",
				"database.read_timeout: must be at least 100ms and at most database.timeout (10ms), got 1s",
				"limits.connections: must be 0 (no limit) or more, got -1",
				"limits.requests_per_client: must be 0 (no limit) or more, got -2"},
		},
		{
			name: "missing secret file",
			file: configTestBase + "secret_file: /nonexistent/usher.secret\n",
			want: []string{"secret_file: cannot read: open /nonexistent/usher.secret"},
		},
		{
			name: "smtp host required in production",
			file: "public_url: https://id.example.org\ndatabase_url: sqlite:x.db\n",
			env:  []string{secret},
			want: []string{"smtp.host: required"},
		},
		{
			name: "smtp host optional in dev",
			env:  []string{secret},
			dev:  true,
		},
		{
			name: "smtp from required with a host",
			file: "public_url: https://id.example.org\ndatabase_url: sqlite:x.db\nsmtp:\n  host: mx\n",
			env:  []string{secret},
			want: []string{"smtp.from: required when smtp.host is set"},
		},
		{
			name: "bad smtp from",
			file: configTestBase,
			env:  []string{secret, "USHER_SMTP_FROM=Usher no-reply"},
			want: []string{"smtp.from: not an RFC 5322 address"},
		},
		{
			name: "negative duration",
			file: configTestBase,
			env:  []string{secret, "USHER_SMTP_RETRY_FOR=-1h"},
			want: []string{"smtp.retry_for: must not be negative, got -1h0m0s (from USHER_SMTP_RETRY_FOR)"},
		},
		{
			name: "zero smtp timeout",
			file: configTestBase + "  timeout: 0\n",
			env:  []string{secret},
			want: []string{"smtp.timeout: must be positive"},
		},
		{
			name: "bad listen",
			file: configTestBase + "listen: 8080\n",
			env:  []string{secret},
			want: []string{`listen: must be host:port, e.g. :8080 or 127.0.0.1:8080, got "8080" (line 7 of `},
		},
		{
			name: "bad metrics listen",
			file: configTestBase,
			env:  []string{secret, "USHER_METRICS_LISTEN=9464"},
			want: []string{`metrics.listen: must be host:port, e.g. 127.0.0.1:9464, or empty for no metrics, got "9464"`},
		},
		{
			name: "metrics listen port not a number",
			file: configTestBase,
			env:  []string{secret, "USHER_METRICS_LISTEN=127.0.0.1:metrics"},
			want: []string{`metrics.listen: port must be a number between 0 and 65535, got "metrics"`},
		},
		{
			name: "no metrics",
			file: configTestBase,
			env:  []string{secret, "USHER_METRICS_LISTEN="},
		},
		{
			name: "several problems at once",
			file: "listen: nope\npublic_url: http://id.example.org\ndatabase_url: mysql://x\nsmtp:\n  tls: ssl\n  hsot: x\nlog:\n  level: loud\n",
			env:  []string{"USHER_SMTP_PORT=0x", "USHER_LOG_FORMAT=xml", "USHER_NOPE=1"},
			want: []string{
				"smtp.hsot: unknown setting",
				"USHER_SMTP_PORT: must be an integer",
				"USHER_NOPE: unknown setting",
				"listen: must be host:port",
				"public_url: must use https",
				`database_url: unsupported scheme "mysql"`,
				"secret: set secret or secret_file",
				"smtp.host: required",
				`smtp.tls: must be one of none, opportunistic, starttls, tls, got "ssl"`,
				`log.level: must be one of debug, info, warn, error, got "loud"`,
				`log.format: must be text or json, got "xml" (from USHER_LOG_FORMAT)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := configTestLoad(t, tt.file, tt.env, tt.dev)
			problems := configTestProblems(err)
			if len(problems) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(problems), len(tt.want), err)
			}
			for i, p := range problems {
				if msg := p.Error(); !strings.Contains(msg, tt.want[i]) || strings.Contains(msg, "\n") {
					t.Errorf("problem %d = %q, want a single line containing %q", i, msg, tt.want[i])
				}
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "absent.yaml")
	_, _, err := loadConfig(missing, nil, true)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: got %v, want an fs.ErrNotExist naming %s", err, missing)
	}

	_, _, err = configTestLoad(t, "listen: :80\nsmtp:\n  host: [x\n", nil, true)
	if err == nil || !strings.Contains(err.Error(), "line ") || len(configTestProblems(err)) != 1 {
		t.Errorf("syntax error: got %v, want one problem with its line", err)
	}

	_, _, err = configTestLoad(t, "listen: :80\n---\nlisten: :81\n", []string{"USHER_SECRET=" + configTestSecret}, true)
	if err == nil || !strings.Contains(err.Error(), "single YAML document") {
		t.Errorf("two documents: got %v", err)
	}

	c, _, err := configTestLoad(t, "# only comments\n", []string{"USHER_SECRET=" + configTestSecret}, true)
	if err != nil || c.Listen != configDevListen {
		t.Errorf("empty file: got %v, listen %q", err, c.Listen)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	secret := "USHER_SECRET=" + configTestSecret
	tests := []struct {
		name  string
		file  string
		env   []string
		dev   bool
		check func(Config) string // returns what is wrong, or ""
	}{
		{"dev", "", []string{secret}, true, func(c Config) string {
			want := Config{
				Listen: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080", DatabaseURL: "sqlite:./usher-dev.db",
				Secret: configTestSecret,
				SMTP: ConfigSMTP{Port: 587, TLS: "starttls", From: "Usher <no-reply@localhost>",
					Timeout: configDuration(10 * time.Second), RetryFor: configDuration(24 * time.Hour)},
				Log:      ConfigLog{Level: "info", Format: "text"},
				Janitor:  ConfigJanitor{Interval: configDuration(10 * time.Minute), PendingAccounts: configDuration(30 * 24 * time.Hour)},
				Outbox:   ConfigOutbox{Retention: configDuration(30 * 24 * time.Hour)},
				Database: ConfigDatabase{Timeout: configDuration(5 * time.Second), ReadTimeout: configDuration(2 * time.Second)},
				Limits:   ConfigLimits{Connections: 2048, RequestsPerClient: 128},
				Metrics:  ConfigMetrics{Listen: "127.0.0.1:9464"},
				Keys:     ConfigKeys{RotateEvery: configDuration(90 * 24 * time.Hour)},
				Tokens: ConfigTokens{AccessTTL: configDuration(time.Hour), JWTAccessTTL: configDuration(5 * time.Minute),
					IDTokenTTL: configDuration(time.Hour),
					RefreshTTL: configDuration(30 * 24 * time.Hour), RefreshGrace: configDuration(15 * time.Second),
					GrantTTL: configDuration(90 * 24 * time.Hour)},
			}
			if !reflect.DeepEqual(c, want) {
				return fmt.Sprintf("got %+v, want %+v", c, want)
			}
			return ""
		}},
		{"dev public URL from a loopback listen host", "", []string{secret, "USHER_LISTEN=127.0.0.2:9000"}, true, func(c Config) string {
			return configTestWant(c.PublicURL, "http://127.0.0.2:9000")
		}},
		{"dev public URL from localhost", "listen: localhost:9000\n", []string{secret}, true, func(c Config) string {
			return configTestWant(c.PublicURL, "http://localhost:9000")
		}},
		{"dev public URL from an IPv6 listen host", "", []string{secret, "USHER_LISTEN=[::1]:9000"}, true, func(c Config) string {
			return configTestWant(c.PublicURL, "http://[::1]:9000")
		}},
		{"dev keeps explicit values", "public_url: http://localhost:8080\nsmtp:\n  from: a@b.c\n", []string{secret}, true, func(c Config) string {
			return configTestWant(c.PublicURL+" "+c.SMTP.From, "http://localhost:8080 a@b.c")
		}},
		{"production listen", configTestBase, []string{secret}, false, func(c Config) string {
			return configTestWant(c.Listen, ":8080")
		}},
		{"implicit TLS port", configTestBase + "  tls: TLS\n", []string{secret}, false, func(c Config) string {
			return configTestWant(fmt.Sprint(c.SMTP.TLS, " ", c.SMTP.Port), "tls 465")
		}},
		{"explicit port kept", configTestBase + "  tls: tls\n  port: 2465\n", []string{secret}, false, func(c Config) string {
			return configTestWant(fmt.Sprint(c.SMTP.Port), "2465")
		}},
		{"durations parse", configTestBase + "  timeout: 1m30s\n  retry_for: 0\njanitor:\n  interval: 0\n",
			[]string{secret, "USHER_SMTP_RETRY_FOR=36h"}, false, func(c Config) string {
				return configTestWant(fmt.Sprint(c.SMTP.Timeout.Duration(), " ", c.SMTP.RetryFor, " ", c.Janitor.Interval), "1m30s 36h0m0s 0s")
			}},
		{"empty file values keep defaults", configTestBase + "  timeout:\nlog:\n", []string{secret}, false, func(c Config) string {
			return configTestWant(fmt.Sprint(c.SMTP.Timeout, " ", c.Log.Level), "10s info")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := configTestLoad(t, tt.file, tt.env, tt.dev)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(c); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// configTestWant returns "" when got is want, else a message.
func configTestWant(got, want string) string {
	if got == want {
		return ""
	}
	return fmt.Sprintf("got %q, want %q", got, want)
}
