package main

import (
	"bytes"
	"fmt"
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

// metricTestSample is one parsed sample line.
type metricTestSample struct {
	name   string
	labels map[string]string
	value  float64
}

// metricTestExposition is a parsed exposition.
type metricTestExposition struct {
	samples []metricTestSample
	types   map[string]string // family name -> TYPE
	helps   map[string]string // family name -> HELP text
}

// metricTestScrape serves a GET /metrics and returns the raw body, checking
// the status and Content-Type.
func metricTestScrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	return rec.Body.String()
}

// metricTestParse parses the text format strictly enough to catch format
// errors: HELP and TYPE at most once per family, well-formed labels and
// values.
func metricTestParse(t *testing.T, text string) metricTestExposition {
	t.Helper()
	e, err := metricTestParseText(text)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// metricTestParseText is metricTestParse returning the first error, for use
// outside the test goroutine.
func metricTestParseText(text string) (metricTestExposition, error) {
	e := metricTestExposition{types: map[string]string{}, helps: map[string]string{}}
	if !strings.HasSuffix(text, "\n") {
		return e, fmt.Errorf("exposition does not end with a line feed")
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if err := e.parseLine(line); err != nil {
			return e, fmt.Errorf("line %d %q: %w", i+1, line, err)
		}
	}
	return e, nil
}

// parseLine parses one line into e.
func (e *metricTestExposition) parseLine(line string) error {
	if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
		name, help, _ := strings.Cut(rest, " ")
		if _, dup := e.helps[name]; dup {
			return fmt.Errorf("second HELP for %s", name)
		}
		e.helps[name] = help
		return nil
	}
	if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
		name, typ, _ := strings.Cut(rest, " ")
		if _, dup := e.types[name]; dup {
			return fmt.Errorf("second TYPE for %s", name)
		}
		e.types[name] = typ
		return nil
	}
	s, err := metricTestParseSample(line)
	if err != nil {
		return err
	}
	e.samples = append(e.samples, s)
	return nil
}

// metricTestParseSample parses `name{a="x",b="y"} value`.
func metricTestParseSample(line string) (metricTestSample, error) {
	s := metricTestSample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("no metric name")
	}
	s.name, line = line[:i], line[i:]
	if line[0] == '{' {
		rest, err := metricTestParseLabels(line[1:], s.labels)
		if err != nil {
			return s, err
		}
		line = rest
	}
	v, ok := strings.CutPrefix(line, " ")
	if !ok {
		return s, fmt.Errorf("no space before value")
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return s, fmt.Errorf("value: %w", err)
	}
	s.value = f
	return s, nil
}

// metricTestParseLabels parses `a="x",b="y"}` into labels, unescaping the
// values, and returns what follows the closing brace.
func metricTestParseLabels(in string, labels map[string]string) (string, error) {
	for {
		name, rest, ok := strings.Cut(in, `="`)
		if !ok || name == "" {
			return "", fmt.Errorf("bad label in %q", in)
		}
		var b strings.Builder
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] != '\\' {
				b.WriteByte(rest[i])
				continue
			}
			i++
			switch {
			case i >= len(rest):
				return "", fmt.Errorf("dangling backslash")
			case rest[i] == 'n':
				b.WriteByte('\n')
			case rest[i] == '\\' || rest[i] == '"':
				b.WriteByte(rest[i])
			default:
				return "", fmt.Errorf("bad escape \\%c", rest[i])
			}
		}
		if i >= len(rest) {
			return "", fmt.Errorf("unterminated label value")
		}
		if _, dup := labels[name]; dup {
			return "", fmt.Errorf("label %s twice", name)
		}
		labels[name] = b.String()
		rest = rest[i+1:]
		switch {
		case strings.HasPrefix(rest, "}"):
			return rest[1:], nil
		case strings.HasPrefix(rest, ","):
			in = rest[1:]
		default:
			return "", fmt.Errorf("expected , or } in %q", rest)
		}
	}
}

// find returns the samples of the given name whose labels are exactly
// labels (pairs of name, value).
func (e metricTestExposition) find(name string, labels ...string) []metricTestSample {
	var out []metricTestSample
	for _, s := range e.samples {
		if s.name == name && metricTestLabelsEqual(s.labels, labels) {
			out = append(out, s)
		}
	}
	return out
}

// value returns the single sample value of name with exactly labels,
// failing the test when there is not exactly one.
func (e metricTestExposition) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	found := e.find(name, labels...)
	if len(found) != 1 {
		t.Fatalf("%s%v: %d samples, want 1", name, labels, len(found))
	}
	return found[0].value
}

// metricTestLabelsEqual reports whether got holds exactly the pairs of want.
func metricTestLabelsEqual(got map[string]string, want []string) bool {
	if len(got)*2 != len(want) {
		return false
	}
	for i := 0; i < len(want); i += 2 {
		if v, ok := got[want[i]]; !ok || v != want[i+1] {
			return false
		}
	}
	return true
}

// metricTestEqual fails the test when got != want.
func metricTestEqual(t *testing.T, what string, got, want float64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestMetricsExactValues(t *testing.T) {
	m := newMetrics()
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

	e := metricTestParse(t, metricTestScrape(t, m))

	metricTestEqual(t, "requests GET /a 200", e.value(t, "usher_http_requests_total", "route", "GET /a", "code", "200"), 3)
	metricTestEqual(t, "requests GET /a 404", e.value(t, "usher_http_requests_total", "route", "GET /a", "code", "404"), 1)
	metricTestEqual(t, "requests GET /b 500", e.value(t, "usher_http_requests_total", "route", "GET /b", "code", "500"), 1)
	metricTestEqual(t, "sign-ins success", e.value(t, "usher_sign_ins_total", "outcome", "success"), 2)
	metricTestEqual(t, "sign-ins failure", e.value(t, "usher_sign_ins_total", "outcome", "failure"), 1)
	metricTestEqual(t, "lockouts", e.value(t, "usher_lockouts_total"), 1)
	metricTestEqual(t, "queued", e.value(t, "usher_emails_queued_total", "class", "reset"), 3)
	metricTestEqual(t, "sent", e.value(t, "usher_emails_sent_total", "class", "reset"), 1)
	metricTestEqual(t, "failed", e.value(t, "usher_emails_failed_total", "class", "activation"), 1)
	metricTestEqual(t, "tokens code", e.value(t, "usher_tokens_issued_total", "grant", "authorization_code"), 1)
	metricTestEqual(t, "tokens refresh", e.value(t, "usher_tokens_issued_total", "grant", "refresh_token"), 2)

	const h = "usher_http_request_duration_seconds"
	wantA := map[string]float64{"0.001": 2, "0.0025": 2, "0.005": 3, "0.01": 3, "0.025": 4, "0.05": 4,
		"0.1": 4, "0.25": 4, "0.5": 4, "1": 4, "2.5": 4, "5": 4, "10": 4, "+Inf": 4}
	for le, want := range wantA {
		metricTestEqual(t, "GET /a le "+le, e.value(t, h+"_bucket", "route", "GET /a", "le", le), want)
	}
	if n := len(e.find(h+"_bucket", "route", "GET /a", "le", "0.001")); n != 1 {
		t.Fatalf("bucket lines: %d", n)
	}
	metricTestEqual(t, "GET /a count", e.value(t, h+"_count", "route", "GET /a"), 4)
	metricTestEqual(t, "GET /a sum", e.value(t, h+"_sum", "route", "GET /a"), 0.0245)
	metricTestEqual(t, "GET /b le 10", e.value(t, h+"_bucket", "route", "GET /b", "le", "10"), 0)
	metricTestEqual(t, "GET /b +Inf", e.value(t, h+"_bucket", "route", "GET /b", "le", "+Inf"), 1)
	metricTestEqual(t, "GET /b sum", e.value(t, h+"_sum", "route", "GET /b"), 20)

	wantTypes := map[string]string{
		"usher_http_requests_total": "counter", h: "histogram", "usher_sign_ins_total": "counter",
		"usher_lockouts_total": "counter", "usher_emails_queued_total": "counter",
		"usher_emails_sent_total": "counter", "usher_emails_failed_total": "counter",
		"usher_tokens_issued_total": "counter", "usher_go_goroutines": "gauge",
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

func TestMetricsLockoutsStartAtZero(t *testing.T) {
	e := metricTestParse(t, metricTestScrape(t, newMetrics()))
	metricTestEqual(t, "lockouts", e.value(t, "usher_lockouts_total"), 0)
	if got := e.find("usher_sign_ins_total"); len(got) != 0 {
		t.Errorf("sign-ins before any: %v", got)
	}
}

func TestMetricsDeterministicSortedOutput(t *testing.T) {
	m := newMetrics()
	for _, r := range []string{"GET /z", "GET /b", "POST /a", "GET /a"} {
		for _, code := range []int{500, 200, 302} {
			m.ObserveRequest(r, code, time.Millisecond)
		}
	}
	for _, o := range []string{"locked", "success", "failure"} {
		m.SignIn(o)
	}
	first := metricTestFamiliesPart(metricTestScrape(t, m))
	for range 5 {
		if again := metricTestFamiliesPart(metricTestScrape(t, m)); again != first {
			t.Fatalf("output changed between scrapes:\n%s\n---\n%s", first, again)
		}
	}
	var order []string
	for _, line := range strings.Split(first, "\n") {
		if strings.HasPrefix(line, "usher_http_requests_total{") {
			order = append(order, line)
		}
	}
	want := []string{
		`usher_http_requests_total{route="GET /a",code="200"} 1`,
		`usher_http_requests_total{route="GET /a",code="302"} 1`,
		`usher_http_requests_total{route="GET /a",code="500"} 1`,
		`usher_http_requests_total{route="GET /b",code="200"} 1`,
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

// metricTestFamiliesPart returns the exposition without the process gauges,
// which change between scrapes.
func metricTestFamiliesPart(text string) string {
	i := strings.Index(text, "# HELP usher_go_goroutines")
	if i < 0 {
		return text
	}
	return text[:i]
}

func TestMetricsLabelEscaping(t *testing.T) {
	m := newMetrics()
	odd := "a\\b\"c\nd"
	m.SignIn(odd)
	m.ObserveRequest(odd, 200, time.Millisecond)
	text := metricTestScrape(t, m)
	if want := `usher_sign_ins_total{outcome="a\\b\"c\nd"} 1` + "\n"; !strings.Contains(text, want) {
		t.Errorf("escaped line %q missing from:\n%s", want, text)
	}
	e := metricTestParse(t, text)
	metricTestEqual(t, "odd outcome", e.value(t, "usher_sign_ins_total", "outcome", odd), 1)
	metricTestEqual(t, "odd route", e.value(t, "usher_http_requests_total", "route", odd, "code", "200"), 1)
	metricTestEqual(t, "odd route bucket", e.value(t, "usher_http_request_duration_seconds_bucket", "route", odd, "le", "+Inf"), 1)
}

func TestMetricsEscapeFunctions(t *testing.T) {
	for in, want := range map[string]string{"plain": "plain", `\`: `\\`, `"`: `\"`, "\n": `\n`, "x\\\"\ny": `x\\\"\ny`} {
		if got := metricEscapeLabel(in); got != want {
			t.Errorf("metricEscapeLabel(%q) = %q, want %q", in, got, want)
		}
	}
	if got := metricEscapeHelp("a\\b\n\"c"); got != `a\\b\n"c` {
		t.Errorf("metricEscapeHelp = %q", got)
	}
}

func TestMetricsBucketsCumulative(t *testing.T) {
	m := newMetrics()
	rng := rand.New(rand.NewPCG(1, 2))
	bounds := metricDurationBuckets()
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
	e := metricTestParse(t, metricTestScrape(t, m))
	const h = "usher_http_request_duration_seconds"
	prev := -1.0
	for i := range want {
		le := "+Inf"
		if i < len(bounds) {
			le = strconv.FormatFloat(bounds[i].Seconds(), 'g', -1, 64)
		}
		got := e.value(t, h+"_bucket", "route", "GET /x", "le", le)
		metricTestEqual(t, "le "+le, got, want[i])
		if got < prev {
			t.Errorf("bucket le %s = %v below previous %v", le, got, prev)
		}
		prev = got
	}
	metricTestEqual(t, "count", e.value(t, h+"_count", "route", "GET /x"), n)
	if got, w := e.value(t, h+"_sum", "route", "GET /x"), sum.Seconds(); got < w-1e-6 || got > w+1e-6 {
		t.Errorf("sum = %v, want %v", got, w)
	}
}

func TestMetricsSeriesCap(t *testing.T) {
	m := newMetrics()
	for i := range metricMaxSeries {
		m.SignIn("o" + strconv.Itoa(i))
	}
	for i := range 5 {
		m.SignIn("extra" + strconv.Itoa(i))
	}
	m.SignIn("extra0") // still over the cap: counted as other again
	m.SignIn("o7")     // an existing series keeps counting
	for i := range metricMaxSeries + 3 {
		m.ObserveRequest("GET /r"+strconv.Itoa(i), 200, time.Millisecond)
	}

	e := metricTestParse(t, metricTestScrape(t, m))
	if got := len(e.find("usher_sign_ins_total")); got != 0 {
		t.Fatalf("unlabelled sign-in sample: %d", got)
	}
	count := 0
	for _, s := range e.samples {
		if s.name == "usher_sign_ins_total" {
			count++
		}
	}
	if count != metricMaxSeries+1 {
		t.Errorf("sign-in series = %d, want %d", count, metricMaxSeries+1)
	}
	metricTestEqual(t, "other", e.value(t, "usher_sign_ins_total", "outcome", "other"), 6)
	metricTestEqual(t, "o7", e.value(t, "usher_sign_ins_total", "outcome", "o7"), 2)
	if got := e.find("usher_sign_ins_total", "outcome", "extra1"); len(got) != 0 {
		t.Errorf("series past the cap was created")
	}
	metricTestEqual(t, "requests other", e.value(t, "usher_http_requests_total", "route", "other", "code", "other"), 3)
	metricTestEqual(t, "durations other", e.value(t, "usher_http_request_duration_seconds_count", "route", "other"), 3)
}

func TestMetricsConcurrent(t *testing.T) {
	m := newMetrics()
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
				m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if _, err := metricTestParseText(rec.Body.String()); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-scraped

	e := metricTestParse(t, metricTestScrape(t, m))
	metricTestEqual(t, "sign-ins", e.value(t, "usher_sign_ins_total", "outcome", "success"), workers*per)
	metricTestEqual(t, "tokens", e.value(t, "usher_tokens_issued_total", "grant", "refresh_token"), workers*per)
	total := 0.0
	for _, s := range e.samples {
		if s.name == "usher_http_requests_total" {
			total += s.value
		}
	}
	metricTestEqual(t, "requests", total, workers*per)
	metricTestEqual(t, "GET /r0 count", e.value(t, "usher_http_request_duration_seconds_count", "route", "GET /r0"), workers*per/4)
}

func TestMetricsProcessGauges(t *testing.T) {
	before := time.Now()
	m := newMetrics()
	e := metricTestParse(t, metricTestScrape(t, m))
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
	var info []metricTestSample
	for _, s := range e.samples {
		if s.name == "usher_build_info" {
			info = append(info, s)
		}
	}
	if len(info) != 1 || info[0].value != 1 || info[0].labels["version"] == "" || len(info[0].labels) != 1 {
		t.Errorf("build info = %+v", info)
	}
}

func TestMetricsMethods(t *testing.T) {
	m := newMetrics()
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestMetricsNilRecordsNothing(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("GET /", 200, time.Millisecond)
	m.SignIn("success")
	m.Lockout()
	m.EmailQueued("reset")
	m.EmailSent("reset")
	m.EmailFailed("reset")
	m.TokenIssued("refresh_token")
}

func TestMetricFormatFloat(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1: "1", 0.001: "0.001", 0.0025: "0.0025", 2.5: "2.5",
		1.7e9: "1700000000", 1e300: "1e+300"} {
		if got := metricFormatFloat(v); got != want {
			t.Errorf("metricFormatFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	m := newMetrics()
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
func TestMetricStatements(t *testing.T) {
	m := newMetrics()
	var b bytes.Buffer
	m.write(&b)
	if strings.Contains(b.String(), "usher_db_statements_total") {
		t.Fatal("statements exposed before CountStatements")
	}
	n := uint64(41)
	m.CountStatements(func() uint64 { return n })
	n++
	b.Reset()
	m.write(&b)
	for _, want := range []string{"# TYPE usher_db_statements_total counter\n", "\nusher_db_statements_total 42\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
