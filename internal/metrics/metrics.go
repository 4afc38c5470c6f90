// Package metrics holds Usher's Prometheus metrics, on the ecosystem's
// client library (github.com/prometheus/client_golang) with a registry of
// their own: nothing is registered globally.
//
// Every label value comes from Usher's code (route patterns, status codes,
// outcome, class and grant constants), never from a request, so the number
// of series is bounded by the code.
package metrics

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the process's metrics: what the rest of Usher records through
// its methods, and the handler that exposes them (Handler). It is safe for
// concurrent use. Create it once with New and pass it to whoever records;
// the recording methods do nothing on a nil *Metrics.
type Metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	durations    *prometheus.HistogramVec
	signIns      *prometheus.CounterVec
	lockouts     prometheus.Counter
	emailsQueued *prometheus.CounterVec
	emailsSent   *prometheus.CounterVec
	emailsFailed *prometheus.CounterVec
	tokensIssued *prometheus.CounterVec
	theftSignals *prometheus.CounterVec
	// statements reads the number of SQL statements sent so far (the
	// benchmarks divide it by the operations they ran); nil: not exposed.
	statements atomic.Pointer[func() uint64]

	mu     sync.RWMutex // guards series
	series map[requestKey]requestSeries
}

// New returns the metrics, all at zero. Its creation time is exposed as
// process_start_time_seconds, so main creates it first thing.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: counterVec("usher_http_requests_total",
			"HTTP requests served, by route pattern and status code.", "route", "code"),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "usher_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern.",
			Buckets: seconds(durationBuckets()),
		}, []string{"route"}),
		signIns: counterVec("usher_sign_ins_total", "Sign-in attempts, by outcome.", "outcome"),
		lockouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "usher_lockouts_total",
			Help: "Accounts locked after too many failed attempts."}),
		emailsQueued: counterVec("usher_emails_queued_total",
			"Emails queued in the outbox, by document class.", "class"),
		emailsSent: counterVec("usher_emails_sent_total",
			"Emails delivered to the SMTP server, by document class.", "class"),
		emailsFailed: counterVec("usher_emails_failed_total",
			"Failed email delivery attempts, by document class.", "class"),
		tokensIssued: counterVec("usher_tokens_issued_total",
			"OAuth2 token responses issued, by grant type.", "grant"),
		theftSignals: counterVec("usher_theft_signals_total",
			"Signs of stolen credentials: a replayed authorization code, a reused refresh token, a locked account.",
			"signal"),
		series: make(map[requestKey]requestSeries),
	}
	m.registry.MustRegister(m.requests, m.durations, m.signIns, m.lockouts,
		m.emailsQueued, m.emailsSent, m.emailsFailed, m.tokensIssued,
		m.theftSignals)
	m.registry.MustRegister(processMetrics(time.Now())...)
	m.registry.MustRegister(&optional{
		desc: prometheus.NewDesc("usher_db_statements_total", "SQL statements sent to the database.", nil, nil),
		kind: prometheus.CounterValue,
		read: m.readStatements,
	})
	return m
}

// counterVec returns a counter family with the given label names.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// durationBuckets returns the upper bounds of the request duration
// histogram.
func durationBuckets() []time.Duration {
	return []time.Duration{
		time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
		10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
	}
}

// seconds converts durations to seconds.
func seconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// processMetrics returns the gauges of the process, read at scrape time:
// goroutines, heap in use, resident memory (where /proc tells it), start
// time and build information.
func processMetrics(started time.Time) []prometheus.Collector {
	version := buildVersion()
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "usher_go_goroutines", Help: "Number of goroutines."},
			func() float64 { return float64(runtime.NumGoroutine()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "usher_go_memstats_heap_inuse_bytes",
			Help: "Bytes in in-use heap spans."}, heapInUse),
		&optional{
			desc: prometheus.NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil, nil),
			kind: prometheus.GaugeValue,
			read: residentBytes,
		},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "process_start_time_seconds",
			Help: "Start time of the process since the Unix epoch in seconds."},
			func() float64 { return float64(started.UnixNano()) / 1e9 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "usher_build_info",
			Help: "Build information; the value is always 1.", ConstLabels: prometheus.Labels{"version": version}},
			func() float64 { return 1 }),
	}
}

// heapInUse returns the bytes in in-use heap spans.
func heapInUse() float64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse)
}

// buildVersion returns the main module's version from the build
// information, or "unknown".
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "unknown"
	}
	return bi.Main.Version
}
