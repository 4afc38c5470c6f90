package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ObserveRequest records one served HTTP request: its route pattern, status
// code and duration.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	s := m.requestSeries(route, status)
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

// requestKey names the series of one route and status.
type requestKey struct {
	route  string
	status int
}

// requestSeries are the series that the requests of one route and status
// are recorded in.
type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// requestSeries returns the series of route and status. They are looked up
// in client_golang's vectors once, then kept in a map: the vectors' own
// lookup (validating, hashing and finding the label values, once per
// vector) would more than double the cost of ObserveRequest.
func (m *Metrics) requestSeries(route string, status int) requestSeries {
	k := requestKey{route, status}
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if ok {
		return s
	}
	s = requestSeries{
		count:    m.requests.WithLabelValues(route, strconv.Itoa(status)),
		duration: m.durations.WithLabelValues(route),
	}
	m.mu.Lock()
	m.series[k] = s
	m.mu.Unlock()
	return s
}

// SignIn counts one sign-in attempt by outcome ("success", "failure",
// "locked", ...).
func (m *Metrics) SignIn(outcome string) {
	if m != nil {
		m.signIns.WithLabelValues(outcome).Inc()
	}
}

// Lockout counts one account lockout, which is also a theft signal
// ("lockout").
func (m *Metrics) Lockout() {
	if m != nil {
		m.lockouts.Inc()
		m.theftSignals.WithLabelValues(SignalLockout).Inc()
	}
}

// The theft signals.
const (
	SignalCodeReplay   = "code_replay"   // an authorization code redeemed twice
	SignalRefreshReuse = "refresh_reuse" // a rotated refresh token used again
	SignalLockout      = "lockout"       // an account locked after too many failures
)

// TheftSignal counts one sign of stolen credentials (a Signal constant).
func (m *Metrics) TheftSignal(signal string) {
	if m != nil {
		m.theftSignals.WithLabelValues(signal).Inc()
	}
}

// EmailQueued counts one email of the given document class put in the outbox.
func (m *Metrics) EmailQueued(class string) {
	if m != nil {
		m.emailsQueued.WithLabelValues(class).Inc()
	}
}

// EmailSent counts one email of the given document class delivered.
func (m *Metrics) EmailSent(class string) {
	if m != nil {
		m.emailsSent.WithLabelValues(class).Inc()
	}
}

// EmailFailed counts one failed delivery attempt of an email of the given
// document class.
func (m *Metrics) EmailFailed(class string) {
	if m != nil {
		m.emailsFailed.WithLabelValues(class).Inc()
	}
}

// TokenIssued counts one token response of the given grant type.
func (m *Metrics) TokenIssued(grant string) {
	if m != nil {
		m.tokensIssued.WithLabelValues(grant).Inc()
	}
}

// CountStatements exposes the database's statement counter as
// usher_db_statements_total, read at scrape time. Until it is called, the
// counter is not exposed.
func (m *Metrics) CountStatements(read func() uint64) { m.statements.Store(&read) }

// readStatements reads the statement counter, if there is one.
func (m *Metrics) readStatements() (float64, bool) {
	read := m.statements.Load()
	if read == nil {
		return 0, false
	}
	return float64((*read)()), true
}
