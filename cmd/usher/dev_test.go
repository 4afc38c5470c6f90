package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// --dev runs only on SQLite, on loopback addresses (the metrics listener's
// too) and URL: its master secret and demo passwords are published.
func TestDevRefusesProduction(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"USHER_DATABASE_URL=postgres://u@db.internal/usher"}, "--dev runs only on SQLite"},
		{[]string{"USHER_LISTEN=0.0.0.0:8080"}, "--dev listens only on a loopback address"},
		{[]string{"USHER_LISTEN=:8080"}, "--dev listens only on a loopback address"},
		{[]string{"USHER_METRICS_LISTEN=:9464"}, "metrics.listen: --dev listens only on a loopback address"},
		{[]string{"USHER_METRICS_LISTEN=0.0.0.0:9464"}, "metrics.listen: --dev listens only on a loopback address"},
		{[]string{"USHER_PUBLIC_URL=https://id.example.org"}, "--dev serves only a loopback URL"},
	} {
		_, _, err := loadConfig("", tc.env, true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.env, err, tc.want)
		}
	}
	if _, _, err := loadConfig("", []string{"USHER_LISTEN=localhost:9090"}, true); err != nil {
		t.Errorf("--dev on localhost: %v", err)
	}
	if _, _, err := loadConfig("", []string{"USHER_METRICS_LISTEN="}, true); err != nil {
		t.Errorf("--dev without metrics: %v", err)
	}
}

// --dev never adopts an institution with the demo's slug that it did not
// create: no demo accounts with published passwords are added to it.
func TestDevNeverAdoptsAnotherDemo(t *testing.T) {
	t.Chdir(t.TempDir())
	db := sqltest.SQLite(t)
	tc := &testCLI{t: t, env: []string{"USHER_DATABASE_URL=" + db.URL, "USHER_SECRET=" + strings.Repeat("s", 40),
		"USHER_LOG_LEVEL=warn"}}
	tc.ok("", "migrate", "--dev")
	tc.ok("", "institution", "create", "demo", "--name", "A real theatre", "--dev")
	c := &cli{env: append(tc.env, "USHER_LISTEN=127.0.0.1:0"), stdin: strings.NewReader(""), stdout: &syncBuffer{},
		stderr: &syncBuffer{}, now: time.Now}
	err := c.run(context.Background(), []string{"serve", "--dev"})
	if err == nil || !strings.Contains(err.Error(), "--dev did not create") {
		t.Fatalf("serve --dev with another demo institution: %v", err)
	}
	var list []accountJSON
	tc.json(&list, "account", "list", "--institution", "demo", "--json", "--dev")
	if len(list) != 0 {
		t.Errorf("demo accounts were added: %+v", list)
	}
}
