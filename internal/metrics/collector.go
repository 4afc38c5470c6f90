package metrics

import (
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// optional is a metric of one sample read at scrape time, left out of the
// exposition when it cannot be read.
type optional struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	read func() (float64, bool)
}

// Describe implements prometheus.Collector.
func (o *optional) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }

// Collect implements prometheus.Collector.
func (o *optional) Collect(ch chan<- prometheus.Metric) {
	if v, ok := o.read(); ok {
		ch <- prometheus.MustNewConstMetric(o.desc, o.kind, v)
	}
}

// residentBytes reads the resident set size from /proc/self/statm (Linux);
// ok is false when it cannot be read.
func residentBytes() (rss float64, ok bool) {
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
	return float64(pages * int64(os.Getpagesize())), true
}
