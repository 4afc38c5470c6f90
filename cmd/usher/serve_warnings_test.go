package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// getWith sends GET path with the headers and returns the status and body.
func getWith(t *testing.T, base, path string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// With trusted_proxies empty (the default), the first request that arrives
// with X-Forwarded-For makes serve log one warning, and /readyz lists it
// from then on (still 200); with trusted proxies set, nothing is said.
func TestServeWarnsOfUntrustedForwarding(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := newTestCLI(t, db)
		base, log := serveInBackground(t, tc.env)
		if status, body := getWith(t, base, "/readyz", nil); status != 200 || body != "ready\n" {
			t.Errorf("readyz before: %d %q", status, body)
		}
		for range 3 {
			getWith(t, base, "/healthz", http.Header{"X-Forwarded-For": {"203.0.113.9"}})
		}
		if status, body := getWith(t, base, "/readyz", nil); status != 200 || body != "ready\nwarning: x_forwarded_for_untrusted\n" {
			t.Errorf("readyz after X-Forwarded-For: %d %q", status, body)
		}
		if n := strings.Count(log.String(), "X-Forwarded-For arrived but trusted_proxies is empty"); n != 1 ||
			!strings.Contains(log.String(), "level=WARN") {
			t.Errorf("the warning was logged %d times, want once:\n%s", n, log)
		}

		trusted, trustedLog := serveInBackground(t, append(tc.env, "USHER_TRUSTED_PROXIES=127.0.0.0/8"))
		getWith(t, trusted, "/healthz", http.Header{"X-Forwarded-For": {"203.0.113.9"}})
		if status, body := getWith(t, trusted, "/readyz", nil); status != 200 || body != "ready\n" {
			t.Errorf("readyz with trusted proxies: %d %q", status, body)
		}
		if strings.Contains(trustedLog.String(), "X-Forwarded-For") {
			t.Errorf("a warning with trusted proxies:\n%s", trustedLog)
		}
	})
}

// smtp.tls: opportunistic makes serve warn at start that STARTTLS can be
// stripped, suggesting starttls or tls; starttls says nothing of it.
func TestServeWarnsOfOpportunisticTLS(t *testing.T) {
	db := sqltest.SQLite(t)
	tc := newTestCLI(t, db)
	_, log := serveInBackground(t, append(tc.env, "USHER_SMTP_TLS=opportunistic"))
	line := ""
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, "smtp.tls is opportunistic") {
			line = l
		}
	}
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "STARTTLS") || !strings.Contains(line, "starttls or tls") {
		t.Errorf("no warning of opportunistic TLS at start:\n%s", log)
	}
	_, quiet := serveInBackground(t, append(tc.env, "USHER_SMTP_TLS=starttls"))
	if strings.Contains(quiet.String(), "opportunistic") {
		t.Errorf("a warning with starttls:\n%s", quiet)
	}
}
