package main

import (
	"bytes"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metricMaxSeries caps the distinct label sets of one family; observations
// with further label sets are counted under the label value "other".
const metricMaxSeries = 1000

// metricOverflowValue is the label value that collects the observations of
// label sets past metricMaxSeries.
const metricOverflowValue = "other"

// metricContentType is the Content-Type of the Prometheus text exposition
// format 0.0.4.
const metricContentType = "text/plain; version=0.0.4; charset=utf-8"

// metricLabels holds the label values of one series, in the order of its
// family's label names; unused slots stay empty. An array (not a slice or a
// joined string) so that it is a map key needing no allocation on lookup.
type metricLabels [2]string

// metricSeries is one labelled time series. Counters use value; histograms
// use buckets (non-cumulative counts, the last one for +Inf) and sumNanos.
type metricSeries struct {
	labels   metricLabels
	value    atomic.Uint64
	buckets  []atomic.Uint64
	sumNanos atomic.Int64
}

// metricFamily is a counter or histogram family: its series, found through a
// map guarded by a RWMutex whose read lock is the fast path; the series
// themselves are updated with atomics.
type metricFamily struct {
	name       string
	help       string
	kind       string // "counter" or "histogram"
	labelNames []string
	bounds     []time.Duration // histogram upper bounds, ascending
	les        []string        // bounds formatted as "le" label values

	mu     sync.RWMutex
	series map[metricLabels]*metricSeries
}

// Metrics is a small registry of the process's metrics, exposed in the
// Prometheus text format by ServeHTTP. It is safe for concurrent use. Create
// it once with newMetrics and pass it to whoever records. The recording
// methods do nothing on a nil *Metrics.
type Metrics struct {
	requests     *metricFamily
	durations    *metricFamily
	signIns      *metricFamily
	lockouts     *metricFamily
	emailsQueued *metricFamily
	emailsSent   *metricFamily
	emailsFailed *metricFamily
	tokensIssued *metricFamily
	families     []*metricFamily // in exposition order

	codes   []string // codes[i] is the decimal text of status code 100+i
	started time.Time
	version string
	// statements reads the number of SQL statements sent so far (the
	// benchmarks divide it by the operations they ran); nil: not exposed.
	statements func() uint64
}

// CountStatements exposes the database's statement counter as
// usher_db_statements_total. Call it before serving.
func (m *Metrics) CountStatements(read func() uint64) { m.statements = read }

// newMetrics returns an empty registry. Its creation time is exposed as
// process_start_time_seconds, so main creates it first thing.
func newMetrics() *Metrics {
	m := &Metrics{
		requests: metricNewFamily("usher_http_requests_total",
			"HTTP requests served, by route pattern and status code.", "counter", "route", "code"),
		durations: metricNewHistogram("usher_http_request_duration_seconds",
			"Time to serve an HTTP request, by route pattern.", metricDurationBuckets(), "route"),
		signIns: metricNewFamily("usher_sign_ins_total",
			"Sign-in attempts, by outcome.", "counter", "outcome"),
		lockouts: metricNewFamily("usher_lockouts_total",
			"Accounts locked after too many failed attempts.", "counter"),
		emailsQueued: metricNewFamily("usher_emails_queued_total",
			"Emails queued in the outbox, by document class.", "counter", "class"),
		emailsSent: metricNewFamily("usher_emails_sent_total",
			"Emails delivered to the SMTP server, by document class.", "counter", "class"),
		emailsFailed: metricNewFamily("usher_emails_failed_total",
			"Failed email delivery attempts, by document class.", "counter", "class"),
		tokensIssued: metricNewFamily("usher_tokens_issued_total",
			"OAuth2 token responses issued, by grant type.", "counter", "grant"),
		started: time.Now(),
		version: metricBuildVersion(),
	}
	m.families = []*metricFamily{m.requests, m.durations, m.signIns, m.lockouts,
		m.emailsQueued, m.emailsSent, m.emailsFailed, m.tokensIssued}
	m.lockouts.get(metricLabels{}) // an unlabelled counter shows 0 from the start
	m.codes = make([]string, 500)
	for i := range m.codes {
		m.codes[i] = strconv.Itoa(100 + i)
	}
	return m
}

// metricDurationBuckets returns the upper bounds of the request duration
// histogram.
func metricDurationBuckets() []time.Duration {
	return []time.Duration{
		time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
		10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
	}
}

// metricBuildVersion returns the main module's version from the build
// information, or "unknown".
func metricBuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "unknown"
	}
	return bi.Main.Version
}

// metricNewFamily returns an empty family of the given kind and label names
// (at most two).
func metricNewFamily(name, help, kind string, labelNames ...string) *metricFamily {
	if len(labelNames) > len(metricLabels{}) {
		panic("metrics: too many label names for " + name)
	}
	return &metricFamily{
		name: name, help: help, kind: kind, labelNames: labelNames,
		series: make(map[metricLabels]*metricSeries),
	}
}

// metricNewHistogram returns an empty histogram family with the given
// ascending upper bounds.
func metricNewHistogram(name, help string, bounds []time.Duration, labelNames ...string) *metricFamily {
	f := metricNewFamily(name, help, "histogram", labelNames...)
	f.bounds = bounds
	f.les = make([]string, len(bounds))
	for i, b := range bounds {
		f.les[i] = metricFormatFloat(b.Seconds())
	}
	return f
}

// ObserveRequest records one served HTTP request: its route pattern, status
// code and duration.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.get(metricLabels{route, m.statusText(status)}).value.Add(1)
	m.durations.get(metricLabels{route}).observe(m.durations.bounds, d)
}

// SignIn counts one sign-in attempt by outcome ("success", "failure",
// "locked", ...).
func (m *Metrics) SignIn(outcome string) {
	if m != nil {
		m.signIns.inc(outcome)
	}
}

// Lockout counts one account lockout.
func (m *Metrics) Lockout() {
	if m != nil {
		m.lockouts.get(metricLabels{}).value.Add(1)
	}
}

// EmailQueued counts one email of the given document class put in the outbox.
func (m *Metrics) EmailQueued(class string) {
	if m != nil {
		m.emailsQueued.inc(class)
	}
}

// EmailSent counts one email of the given document class delivered.
func (m *Metrics) EmailSent(class string) {
	if m != nil {
		m.emailsSent.inc(class)
	}
}

// EmailFailed counts one failed delivery attempt of an email of the given
// document class.
func (m *Metrics) EmailFailed(class string) {
	if m != nil {
		m.emailsFailed.inc(class)
	}
}

// TokenIssued counts one token response of the given grant type.
func (m *Metrics) TokenIssued(grant string) {
	if m != nil {
		m.tokensIssued.inc(grant)
	}
}

// statusText returns the decimal text of an HTTP status code, without
// allocating for the codes 100-599.
func (m *Metrics) statusText(code int) string {
	if code >= 100 && code-100 < len(m.codes) {
		return m.codes[code-100]
	}
	return strconv.Itoa(code)
}

// get returns the series of the label values lv, creating it if needed. Past
// metricMaxSeries label sets, it returns the overflow series whose label
// values are all "other".
func (f *metricFamily) get(lv metricLabels) *metricSeries {
	f.mu.RLock()
	s := f.series[lv]
	f.mu.RUnlock()
	if s != nil {
		return s
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s = f.series[lv]; s != nil {
		return s
	}
	if len(f.series) >= metricMaxSeries {
		lv = f.overflowLabels()
		if s = f.series[lv]; s != nil {
			return s
		}
	}
	s = &metricSeries{labels: lv}
	if f.kind == "histogram" {
		s.buckets = make([]atomic.Uint64, len(f.bounds)+1)
	}
	f.series[lv] = s
	return s
}

// overflowLabels returns the label values of the overflow series.
func (f *metricFamily) overflowLabels() metricLabels {
	var lv metricLabels
	for i := range f.labelNames {
		lv[i] = metricOverflowValue
	}
	return lv
}

// inc adds one to the counter series of the single label value v.
func (f *metricFamily) inc(v string) {
	f.get(metricLabels{v}).value.Add(1)
}

// observe records duration d in the histogram series s with the given bounds.
func (s *metricSeries) observe(bounds []time.Duration, d time.Duration) {
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	s.buckets[i].Add(1)
	s.sumNanos.Add(int64(d))
}

// ServeHTTP serves the metrics in the Prometheus text exposition format
// 0.0.4 to GET and HEAD requests.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var b bytes.Buffer
	m.write(&b)
	h := w.Header()
	h.Set("Content-Type", metricContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b.Bytes()) // nothing to do when the scraper has gone
}

// write appends the whole exposition to b: the families, then the process
// gauges.
func (m *Metrics) write(b *bytes.Buffer) {
	for _, f := range m.families {
		f.write(b)
	}
	m.writeProcess(b)
}

// writeProcess appends the gauges read at scrape time.
func (m *Metrics) writeProcess(b *bytes.Buffer) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	metricWriteGauge(b, "usher_go_goroutines", "Number of goroutines.", float64(runtime.NumGoroutine()))
	metricWriteGauge(b, "usher_go_memstats_heap_inuse_bytes", "Bytes in in-use heap spans.", float64(ms.HeapInuse))
	if rss, ok := metricResidentBytes(); ok {
		metricWriteGauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.", float64(rss))
	}
	if m.statements != nil {
		metricWriteHeader(b, "usher_db_statements_total", "SQL statements sent to the database.", "counter")
		b.WriteString("usher_db_statements_total ")
		b.WriteString(strconv.FormatUint(m.statements(), 10))
		b.WriteByte('\n')
	}
	start := float64(m.started.UnixNano()) / 1e9
	metricWriteGauge(b, "process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.", start)
	metricWriteHeader(b, "usher_build_info", "Build information; the value is always 1.", "gauge")
	b.WriteString("usher_build_info")
	metricWriteLabels(b, []string{"version"}, metricLabels{m.version}, "", "")
	b.WriteString(" 1\n")
}

// metricResidentBytes reads the resident set size from /proc/self/statm
// (Linux); ok is false when it cannot be read.
func metricResidentBytes() (rss int64, ok bool) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

// write appends the family to b: HELP and TYPE once, then its series sorted
// by label values.
func (f *metricFamily) write(b *bytes.Buffer) {
	metricWriteHeader(b, f.name, f.help, f.kind)
	for _, s := range f.snapshot() {
		if f.kind == "histogram" {
			f.writeHistogram(b, s)
			continue
		}
		b.WriteString(f.name)
		metricWriteLabels(b, f.labelNames, s.labels, "", "")
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(s.value.Load(), 10))
		b.WriteByte('\n')
	}
}

// snapshot returns the family's series sorted by label values.
func (f *metricFamily) snapshot() []*metricSeries {
	f.mu.RLock()
	list := make([]*metricSeries, 0, len(f.series))
	for _, s := range f.series {
		list = append(list, s)
	}
	f.mu.RUnlock()
	slices.SortFunc(list, func(a, b *metricSeries) int {
		for i := range a.labels {
			if c := strings.Compare(a.labels[i], b.labels[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return list
}

// writeHistogram appends the cumulative buckets, sum and count of one
// histogram series. The count is the +Inf bucket, so the two always agree.
func (f *metricFamily) writeHistogram(b *bytes.Buffer, s *metricSeries) {
	var cum uint64
	for i := range s.buckets {
		cum += s.buckets[i].Load()
		le := "+Inf"
		if i < len(f.les) {
			le = f.les[i]
		}
		b.WriteString(f.name)
		b.WriteString("_bucket")
		metricWriteLabels(b, f.labelNames, s.labels, "le", le)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(cum, 10))
		b.WriteByte('\n')
	}
	b.WriteString(f.name)
	b.WriteString("_sum")
	metricWriteLabels(b, f.labelNames, s.labels, "", "")
	b.WriteByte(' ')
	b.WriteString(metricFormatFloat(float64(s.sumNanos.Load()) / 1e9))
	b.WriteByte('\n')
	b.WriteString(f.name)
	b.WriteString("_count")
	metricWriteLabels(b, f.labelNames, s.labels, "", "")
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(cum, 10))
	b.WriteByte('\n')
}

// metricWriteHeader appends the HELP and TYPE lines of a family.
func metricWriteHeader(b *bytes.Buffer, name, help, kind string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(metricEscapeHelp(help))
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(kind)
	b.WriteByte('\n')
}

// metricWriteGauge appends an unlabelled gauge family with its one sample.
func metricWriteGauge(b *bytes.Buffer, name, help string, v float64) {
	metricWriteHeader(b, name, help, "gauge")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(metricFormatFloat(v))
	b.WriteByte('\n')
}

// metricWriteLabels appends {name="value",...} for the given names and
// values, plus the extra pair when extraName is not empty; nothing when there
// are no labels at all.
func metricWriteLabels(b *bytes.Buffer, names []string, values metricLabels, extraName, extraValue string) {
	if len(names) == 0 && extraName == "" {
		return
	}
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		metricWritePair(b, n, values[i])
	}
	if extraName != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		metricWritePair(b, extraName, extraValue)
	}
	b.WriteByte('}')
}

// metricWritePair appends name="escaped value".
func metricWritePair(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(`="`)
	b.WriteString(metricEscapeLabel(value))
	b.WriteByte('"')
}

// metricEscapeLabel escapes a label value: backslash, double quote and line
// feed.
func metricEscapeLabel(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

// metricEscapeHelp escapes a HELP text: backslash and line feed.
func metricEscapeHelp(v string) string {
	if !strings.ContainsAny(v, "\\\n") {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(v)
}

// metricFormatFloat formats a sample value as Prometheus expects: integers
// without exponent where exact, otherwise the shortest representation, and
// +Inf, -Inf, NaN.
func metricFormatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
