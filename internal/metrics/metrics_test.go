package metrics

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExactValues(t *testing.T) {
	m := New()
	m.ObserveRequest("GET /b", 500, 20*time.Second)
	m.ObserveRequest("GET /a", 200, 500*time.Microsecond)
	m.ObserveRequest("GET /a", 200, time.Millisecond) // on a bound: le is inclusive
	m.ObserveRequest("GET /a", 200, 3*time.Millisecond)
	m.ObserveRequest("GET /a", 404, 20*time.Millisecond)
	m.SignIn("success")
	m.SignIn("success")
	m.SignIn("failure")
	m.Lockout()
	for range 3 {
		m.EmailQueued("reset")
	}
	m.EmailSent("reset")
	m.EmailFailed("activation")
	m.TokenIssued("authorization_code")
	m.TokenIssued("refresh_token")
	m.TokenIssued("refresh_token")
	m.TheftSignal(SignalCodeReplay)
	m.TheftSignal(SignalRefreshReuse)
	m.TheftSignal(SignalRefreshReuse)

	e := parse(t, scrape(t, m))

	wantEqual(t, "requests GET /a 200", e.value(t, "usher_http_requests_total", "route", "GET /a", "code", "200"), 3)
	wantEqual(t, "requests GET /a 404", e.value(t, "usher_http_requests_total", "route", "GET /a", "code", "404"), 1)
	wantEqual(t, "requests GET /b 500", e.value(t, "usher_http_requests_total", "route", "GET /b", "code", "500"), 1)
	wantEqual(t, "sign-ins success", e.value(t, "usher_sign_ins_total", "outcome", "success"), 2)
	wantEqual(t, "sign-ins failure", e.value(t, "usher_sign_ins_total", "outcome", "failure"), 1)
	wantEqual(t, "lockouts", e.value(t, "usher_lockouts_total"), 1)
	wantEqual(t, "queued", e.value(t, "usher_emails_queued_total", "class", "reset"), 3)
	wantEqual(t, "sent", e.value(t, "usher_emails_sent_total", "class", "reset"), 1)
	wantEqual(t, "failed", e.value(t, "usher_emails_failed_total", "class", "activation"), 1)
	wantEqual(t, "tokens code", e.value(t, "usher_tokens_issued_total", "grant", "authorization_code"), 1)
	wantEqual(t, "tokens refresh", e.value(t, "usher_tokens_issued_total", "grant", "refresh_token"), 2)
	const theft = "usher_theft_signals_total"
	wantEqual(t, "theft code replay", e.value(t, theft, "signal", SignalCodeReplay), 1)
	wantEqual(t, "theft refresh reuse", e.value(t, theft, "signal", SignalRefreshReuse), 2)
	wantEqual(t, "theft lockout", e.value(t, theft, "signal", SignalLockout), 1)

	const h = "usher_http_request_duration_seconds"
	wantA := map[string]float64{"0.001": 2, "0.0025": 2, "0.005": 3, "0.01": 3, "0.025": 4, "0.05": 4,
		"0.1": 4, "0.25": 4, "0.5": 4, "1": 4, "2.5": 4, "5": 4, "10": 4, "+Inf": 4}
	for le, want := range wantA {
		wantEqual(t, "GET /a le "+le, e.value(t, h+"_bucket", "route", "GET /a", "le", le), want)
	}
	if n := len(e.find(h+"_bucket", "route", "GET /a", "le", "0.001")); n != 1 {
		t.Fatalf("bucket lines: %d", n)
	}
	wantEqual(t, "GET /a count", e.value(t, h+"_count", "route", "GET /a"), 4)
	wantEqual(t, "GET /a sum", e.value(t, h+"_sum", "route", "GET /a"), 0.0245)
	wantEqual(t, "GET /b le 10", e.value(t, h+"_bucket", "route", "GET /b", "le", "10"), 0)
	wantEqual(t, "GET /b +Inf", e.value(t, h+"_bucket", "route", "GET /b", "le", "+Inf"), 1)
	wantEqual(t, "GET /b sum", e.value(t, h+"_sum", "route", "GET /b"), 20)

	wantTypes := map[string]string{
		"usher_http_requests_total": "counter", h: "histogram", "usher_sign_ins_total": "counter",
		"usher_lockouts_total": "counter", "usher_emails_queued_total": "counter",
		"usher_emails_sent_total": "counter", "usher_emails_failed_total": "counter",
		"usher_tokens_issued_total": "counter", theft: "counter", "usher_go_goroutines": "gauge",
		"usher_go_memstats_heap_inuse_bytes": "gauge", "process_start_time_seconds": "gauge",
		"usher_build_info": "gauge",
	}
	for name, typ := range wantTypes {
		if e.types[name] != typ {
			t.Errorf("TYPE %s = %q, want %q", name, e.types[name], typ)
		}
		if e.helps[name] == "" {
			t.Errorf("no HELP for %s", name)
		}
	}
}

func TestLockoutsStartAtZero(t *testing.T) {
	e := parse(t, scrape(t, New()))
	wantEqual(t, "lockouts", e.value(t, "usher_lockouts_total"), 0)
	if got := e.find("usher_sign_ins_total"); len(got) != 0 {
		t.Errorf("sign-ins before any: %v", got)
	}
}

func TestDeterministicSortedOutput(t *testing.T) {
	m := New()
	for _, r := range []string{"GET /z", "GET /b", "POST /a", "GET /a"} {
		for _, code := range []int{500, 200, 302} {
			m.ObserveRequest(r, code, time.Millisecond)
		}
	}
	for _, o := range []string{"locked", "success", "failure"} {
		m.SignIn(o)
	}
	first := familiesPart(scrape(t, m))
	for range 5 {
		if again := familiesPart(scrape(t, m)); again != first {
			t.Fatalf("output changed between scrapes:\n%s\n---\n%s", first, again)
		}
	}
	var order []string
	for _, line := range strings.Split(first, "\n") {
		if strings.HasPrefix(line, "usher_http_requests_total{") {
			order = append(order, line)
		}
	}
	// client_golang writes the labels in the order of their names and sorts
	// the series by their label values in that order.
	want := []string{
		`usher_http_requests_total{code="200",route="GET /a"} 1`,
		`usher_http_requests_total{code="200",route="GET /b"} 1`,
		`usher_http_requests_total{code="200",route="GET /z"} 1`,
		`usher_http_requests_total{code="200",route="POST /a"} 1`,
	}
	for i, w := range want {
		if order[i] != w {
			t.Errorf("line %d = %q, want %q", i, order[i], w)
		}
	}
	if i, j := strings.Index(first, `outcome="failure"`), strings.Index(first, `outcome="success"`); i > j {
		t.Errorf("sign-in outcomes not sorted")
	}
}

// familiesPart returns the exposition without the process gauges, which
// change between scrapes.
func familiesPart(text string) string {
	var keep []string
	for _, line := range strings.Split(text, "\n") {
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if i := strings.IndexAny(name, "{ "); i >= 0 {
			name = name[:i]
		}
		switch name {
		case "usher_go_goroutines", "usher_go_memstats_heap_inuse_bytes", "process_resident_memory_bytes":
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

func TestLabelEscaping(t *testing.T) {
	m := New()
	odd := "a\\b\"c\nd"
	m.SignIn(odd)
	m.ObserveRequest(odd, 200, time.Millisecond)
	text := scrape(t, m)
	if want := `usher_sign_ins_total{outcome="a\\b\"c\nd"} 1` + "\n"; !strings.Contains(text, want) {
		t.Errorf("escaped line %q missing from:\n%s", want, text)
	}
	e := parse(t, text)
	wantEqual(t, "odd outcome", e.value(t, "usher_sign_ins_total", "outcome", odd), 1)
	wantEqual(t, "odd route", e.value(t, "usher_http_requests_total", "route", odd, "code", "200"), 1)
	wantEqual(t, "odd route bucket", e.value(t, "usher_http_request_duration_seconds_bucket", "route", odd, "le", "+Inf"), 1)
}

func TestBucketsCumulative(t *testing.T) {
	m := New()
	rng := rand.New(rand.NewPCG(1, 2))
	bounds := durationBuckets()
	want := make([]float64, len(bounds)+1) // cumulative, last is +Inf
	var sum time.Duration
	const n = 5000
	for range n {
		d := time.Duration(rng.Int64N(int64(15 * time.Second)))
		sum += d
		m.ObserveRequest("GET /x", 200, d)
		for i, b := range bounds {
			if d <= b {
				want[i]++
			}
		}
		want[len(bounds)]++
	}
	e := parse(t, scrape(t, m))
	const h = "usher_http_request_duration_seconds"
	prev := -1.0
	for i := range want {
		le := "+Inf"
		if i < len(bounds) {
			le = strconv.FormatFloat(bounds[i].Seconds(), 'g', -1, 64)
		}
		got := e.value(t, h+"_bucket", "route", "GET /x", "le", le)
		wantEqual(t, "le "+le, got, want[i])
		if got < prev {
			t.Errorf("bucket le %s = %v below previous %v", le, got, prev)
		}
		prev = got
	}
	wantEqual(t, "count", e.value(t, h+"_count", "route", "GET /x"), n)
	if got, w := e.value(t, h+"_sum", "route", "GET /x"), sum.Seconds(); got < w-1e-6 || got > w+1e-6 {
		t.Errorf("sum = %v, want %v", got, w)
	}
}

func TestConcurrent(t *testing.T) {
	m := New()
	const workers, per = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				m.ObserveRequest("GET /r"+strconv.Itoa(i%4), 200+w%2, time.Duration(i)*time.Microsecond)
				m.SignIn("success")
				m.TokenIssued("refresh_token")
			}
		})
	}
	stop := make(chan struct{})
	scraped := make(chan struct{})
	go func() { // scrapes while recording
		defer close(scraped)
		for {
			select {
			case <-stop:
				return
			default:
				rec := httptest.NewRecorder()
				m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if _, err := parseText(rec.Body.String()); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-scraped

	e := parse(t, scrape(t, m))
	wantEqual(t, "sign-ins", e.value(t, "usher_sign_ins_total", "outcome", "success"), workers*per)
	wantEqual(t, "tokens", e.value(t, "usher_tokens_issued_total", "grant", "refresh_token"), workers*per)
	total := 0.0
	for _, s := range e.samples {
		if s.name == "usher_http_requests_total" {
			total += s.value
		}
	}
	wantEqual(t, "requests", total, workers*per)
	wantEqual(t, "GET /r0 count", e.value(t, "usher_http_request_duration_seconds_count", "route", "GET /r0"), workers*per/4)
}

func TestProcessGauges(t *testing.T) {
	before := time.Now()
	m := New()
	e := parse(t, scrape(t, m))
	if g := e.value(t, "usher_go_goroutines"); g < 1 {
		t.Errorf("goroutines = %v", g)
	}
	if h := e.value(t, "usher_go_memstats_heap_inuse_bytes"); h <= 0 {
		t.Errorf("heap in use = %v", h)
	}
	if st := e.value(t, "process_start_time_seconds"); st < float64(before.Unix())-1 || st > float64(time.Now().Unix())+1 {
		t.Errorf("start time = %v", st)
	}
	if runtime.GOOS == "linux" {
		if rss := e.value(t, "process_resident_memory_bytes"); rss <= 0 {
			t.Errorf("rss = %v", rss)
		}
	}
	var info []sample
	for _, s := range e.samples {
		if s.name == "usher_build_info" {
			info = append(info, s)
		}
	}
	if len(info) != 1 || info[0].value != 1 || info[0].labels["version"] == "" || len(info[0].labels) != 1 {
		t.Errorf("build info = %+v", info)
	}
}

func TestMethods(t *testing.T) {
	m := New()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestNilRecordsNothing(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("GET /", 200, time.Millisecond)
	m.SignIn("success")
	m.Lockout()
	m.EmailQueued("reset")
	m.EmailSent("reset")
	m.EmailFailed("reset")
	m.TokenIssued("refresh_token")
	m.TheftSignal(SignalCodeReplay)
}

func BenchmarkObserveRequest(b *testing.B) {
	m := New()
	routes := []string{"GET /institutions/{slug}/login", "POST /institutions/{slug}/oauth2/token",
		"GET /institutions/{slug}/jwks", "GET /healthz"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.ObserveRequest(routes[i%len(routes)], 200, 3*time.Millisecond)
			i++
		}
	})
}

// The statement counter is exposed once wired, as a counter, and read at
// scrape time.
func TestStatements(t *testing.T) {
	m := New()
	var b bytes.Buffer
	if err := m.write(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "usher_db_statements_total") {
		t.Fatal("statements exposed before CountStatements")
	}
	n := uint64(41)
	m.CountStatements(func() uint64 { return n })
	n++
	b.Reset()
	if err := m.write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# TYPE usher_db_statements_total counter\n", "\nusher_db_statements_total 42\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
