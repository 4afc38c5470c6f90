package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// The endpoints of a running Usher while PostgreSQL is stopped (a proxy
// between them refuses connections): each answers 503 with Retry-After
// (the JSON error temporarily_unavailable, the localized "try again" page,
// an admin problem), never fosite's "unrecognizable" error; discovery and
// the JWKS are served as last loaded; the metrics count the 503s; the log
// says once that the database is unavailable and once that it is back,
// whatever the number of requests meanwhile. Once PostgreSQL is back,
// service resumes without a restart and the tokens issued before still
// work.
func TestE2EDatabaseDown(t *testing.T) {
	db := sqltest.Postgres(t)
	proxy, through := sqltest.ProxyFor(t, db)
	u := startUsher(t, sqltest.DB{Dialect: db.Dialect, URL: through}, "USHER_LOG_LEVEL=info",
		"USHER_DATABASE_TIMEOUT=1s", "USHER_DATABASE_READ_TIMEOUT=1s")
	id, secret := u.shop()
	u.account(u.inst, storage.Customer, "ann@example.org")
	shop := newRP(t, u.issuer, id, secret)
	b := newBrowser(t)
	code, f := shop.code(b, "ann@example.org")
	tok := wantTokens(t, "code exchange", u.redeem(t, id, secret, code, f.verifier))
	_, discovery := rawGet(t, u.endpoint("/.well-known/openid-configuration"))
	_, jwks := rawGet(t, u.endpoint("/jwks"))
	logged := notAccessLog(u.log)

	proxy.Down()
	const rounds = 20
	for range rounds {
		wantUnavailable(t, "token", u.refresh(t, id, secret, tok.str("refresh_token")))
	}
	wantUnavailable(t, "introspection", u.introspect(t, id, secret, tok.str("access_token")))
	wantUnavailable(t, "revocation", send(t, http.MethodPost, u.endpoint("/oauth2/revoke"), basic(id, secret),
		url.Values{"token": {tok.str("refresh_token")}}))
	wantUnavailable(t, "userinfo", send(t, http.MethodGet, u.endpoint("/oauth2/userinfo"), "Bearer "+tok.str("access_token"), nil))
	wantUnavailable(t, "admin API", send(t, http.MethodGet, u.endpoint("/admin/v1/accounts"), "Bearer "+tok.str("access_token"), nil))
	// Signed in: the session is read from the database, the redirect URI
	// is known: back to the application with temporarily_unavailable.
	resp, body := b.open(shop.authURL(newFlow()))
	if q := callback(t, resp, body); q.Get("error") != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("authorization, signed in: %v, Retry-After %q, want error=temporarily_unavailable", q, resp.Header.Get("Retry-After"))
	}
	for name, path := range map[string]string{
		"sign-in page":        "/login",
		"password reset page": "/password/forgot",
	} {
		resp, body := rawGet(t, u.endpoint(path))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(body, "Temporarily unavailable") {
			t.Errorf("%s page: %d, Retry-After %q, want the 503 \"try again\" page:\n%.600s", name, resp.StatusCode,
				resp.Header.Get("Retry-After"), body)
		}
	}
	for path, want := range map[string]string{"/.well-known/openid-configuration": discovery, "/jwks": jwks} {
		if resp, body := rawGet(t, u.endpoint(path)); resp.StatusCode != http.StatusOK || body != want {
			t.Errorf("%s with the database down: %d, want the last loaded copy (200):\n%.300s", path, resp.StatusCode, body)
		}
	}
	if n := u.log.count("database unavailable"); n != 1 {
		t.Errorf("the outage start was logged %d times, want once", n)
	}
	if n := u.log.count("schema is behind"); n != 0 {
		t.Errorf("a connection failure was logged as a schema problem %d times", n)
	}
	if n := u.log.count("unrecognizable"); n != 0 {
		t.Errorf("fosite's unmapped error appeared %d times", n)
	}
	if n := notAccessLog(u.log) - logged; n > 3 {
		t.Errorf("%d requests during the outage wrote %d log lines besides the access log, want a few", rounds+8, n)
	}
	_, metrics := rawGet(t, u.metricsURL)
	if !strings.Contains(metrics, `usher_http_requests_total{code="503",route="POST /institutions/{slug}/oauth2/token"} 20`) {
		t.Errorf("the metrics do not count the token endpoint's 20 answers 503:\n%s", grepLines(metrics, "oauth2/token"))
	}
	if !strings.Contains(metrics, `usher_http_requests_total{code="503",route="GET /institutions/{slug}/oauth2/authorize"} 1`) {
		t.Errorf("the metrics do not count the redirect with temporarily_unavailable as an error:\n%s", grepLines(metrics, "authorize"))
	}

	if err := proxy.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "introspection after the outage", func() bool {
		return u.introspect(t, id, secret, tok.str("access_token")).status == http.StatusOK
	})
	if !u.active(t, id, secret, tok.str("access_token")) {
		t.Error("the access token issued before the outage is no longer active")
	}
	wantTokens(t, "refresh after the outage", u.refresh(t, id, secret, tok.str("refresh_token")))
	if n := u.log.count("database available again"); n != 1 {
		t.Errorf("the outage end was logged %d times, want once", n)
	}
}

// With PostgreSQL frozen (the proxy forwards nothing, connections stay
// open), the token endpoint answers 503 within the database deadline and a
// margin, for more concurrent requests than the connection pool holds, and
// discovery is still served; once PostgreSQL answers again, so does Usher.
func TestE2EDatabaseStalled(t *testing.T) {
	db := sqltest.Postgres(t)
	proxy, through := sqltest.ProxyFor(t, db)
	const deadline = time.Second
	u := startUsher(t, sqltest.DB{Dialect: db.Dialect, URL: through},
		"USHER_DATABASE_TIMEOUT=1s", "USHER_DATABASE_READ_TIMEOUT=1s")
	id, secret, tok := signedInTokens(t, u)

	proxy.Stall()
	start := time.Now()
	var wg sync.WaitGroup
	answers := make(chan apiResponse, 40)
	for range 40 { // the pool holds 25 connections
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers <- u.refresh(t, id, secret, tok.str("refresh_token"))
		}()
	}
	wg.Wait()
	took := time.Since(start)
	t.Logf("40 token requests with the database stalled: all answered in %s", took)
	close(answers)
	for a := range answers {
		wantUnavailable(t, "token, stalled", a)
	}
	// Each request meets at most a few deadlines in turn (the client, then
	// the token); the machine is loaded: a generous margin.
	if limit := 4*deadline + 3*time.Second; took > limit {
		t.Errorf("40 token requests with the database stalled took %s, want under %s", took, limit)
	}
	if resp, body := rawGet(t, u.endpoint("/jwks")); resp.StatusCode != http.StatusOK {
		t.Errorf("JWKS with the database stalled: %d, want the last loaded copy: %s", resp.StatusCode, body)
	}

	if err := proxy.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the token endpoint after the stall", func() bool {
		return u.refresh(t, id, secret, tok.str("refresh_token")).status == http.StatusOK
	})
}

// wantUnavailable checks a 503 temporarily_unavailable (or an admin
// problem 503) with Retry-After.
func wantUnavailable(t *testing.T, what string, r apiResponse) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("%s: %d, Retry-After %q, want 503 with Retry-After: %s", what, r.status, r.header.Get("Retry-After"), r.raw)
		return
	}
	if r.str("error") != "temporarily_unavailable" && r.num("status") != http.StatusServiceUnavailable {
		t.Errorf("%s: %s, want temporarily_unavailable", what, r.raw)
	}
	if strings.Contains(r.raw, "unrecognizable") {
		t.Errorf("%s: fosite's unmapped error: %s", what, r.raw)
	}
}

// notAccessLog counts the lines of the log that are not the access log.
func notAccessLog(w *testLogWriter) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if !strings.Contains(l, "http request") {
			n++
		}
	}
	return n
}

func grepLines(text, part string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// waitFor polls ok until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("%s: not back after %s", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PostgreSQL restarting under load (its connections reset, refused for a
// moment): while it is away, relying parties get only answers that say so
// (503 with Retry-After) or the right answer, never an error that tells
// them to give up (invalid_token, active: false, a 500); once it is back,
// errors stop at once, without a restart, and the tokens issued before
// still work.
func TestE2EDatabaseRestartUnderLoad(t *testing.T) {
	db := sqltest.Postgres(t)
	proxy, through := sqltest.ProxyFor(t, db)
	u := startUsher(t, sqltest.DB{Dialect: db.Dialect, URL: through})
	id, secret, tok := signedInTokens(t, u)
	access := tok.str("access_token")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for i := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var r apiResponse
				if i%2 == 0 {
					r = u.introspect(t, id, secret, access)
				} else {
					r = send(t, http.MethodGet, u.endpoint("/oauth2/userinfo"), "Bearer "+access, nil)
				}
				outcome := "ok"
				switch {
				case r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") != "":
					outcome = "503"
				case r.status != http.StatusOK || (i%2 == 0 && r.body["active"] != true):
					outcome = "wrong"
					t.Errorf("during the restart: %d %s", r.status, r.raw)
				}
				mu.Lock()
				counts[outcome]++
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	proxy.Down()
	time.Sleep(700 * time.Millisecond) // PostgreSQL's restart
	if err := proxy.Resume(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	waitFor(t, 5*time.Second, "userinfo after the restart", func() bool {
		return send(t, http.MethodGet, u.endpoint("/oauth2/userinfo"), "Bearer "+access, nil).status == http.StatusOK
	})
	t.Logf("answers again %s after PostgreSQL came back", time.Since(back).Round(time.Millisecond))
	time.Sleep(200 * time.Millisecond) // the requests that met the outage end
	mu.Lock()
	before := counts["503"]
	mu.Unlock()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if counts["503"] == 0 {
		t.Error("no request met the restart: the test proves nothing")
	}
	if counts["503"] != before {
		t.Errorf("%d answers 503 after the service was back", counts["503"]-before)
	}
	t.Logf("answers during the test: %v", counts)
	if !u.active(t, id, secret, access) {
		t.Error("the access token issued before the restart is no longer active")
	}
}
