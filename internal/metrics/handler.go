package metrics

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/common/expfmt"
)

// contentType is the Content-Type of the Prometheus text exposition format
// 0.0.4.
const contentType = string(expfmt.FmtText)

// Handler serves the metrics in the Prometheus text exposition format 0.0.4
// to GET and HEAD requests, uncached. (promhttp's handler would also
// negotiate other formats and compression; Usher's scrapers and its
// benchmark read the text format.)
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var b bytes.Buffer
		if err := m.write(&b); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", strconv.Itoa(b.Len()))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b.Bytes()) // nothing to do when the scraper has gone
	})
}

// write appends the whole exposition to b.
func (m *Metrics) write(b *bytes.Buffer) error {
	families, err := m.registry.Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics: %w", err)
	}
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(b, f); err != nil {
			return fmt.Errorf("encoding metrics: %w", err)
		}
	}
	return nil
}
