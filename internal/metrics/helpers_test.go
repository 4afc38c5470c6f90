package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// sample is one parsed sample line.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// exposition is a parsed exposition.
type exposition struct {
	samples []sample
	types   map[string]string // family name -> TYPE
	helps   map[string]string // family name -> HELP text
}

// scrape serves a GET /metrics and returns the raw body, checking
// the status and Content-Type.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	return rec.Body.String()
}

// parse parses the text format strictly enough to catch format
// errors: HELP and TYPE at most once per family, well-formed labels and
// values.
func parse(t *testing.T, text string) exposition {
	t.Helper()
	e, err := parseText(text)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// parseText is parse returning the first error, for use
// outside the test goroutine.
func parseText(text string) (exposition, error) {
	e := exposition{types: map[string]string{}, helps: map[string]string{}}
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
func (e *exposition) parseLine(line string) error {
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
	s, err := parseSample(line)
	if err != nil {
		return err
	}
	e.samples = append(e.samples, s)
	return nil
}

// parseSample parses `name{a="x",b="y"} value`.
func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("no metric name")
	}
	s.name, line = line[:i], line[i:]
	if line[0] == '{' {
		rest, err := parseLabels(line[1:], s.labels)
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

// parseLabels parses `a="x",b="y"}` into labels, unescaping the
// values, and returns what follows the closing brace.
func parseLabels(in string, labels map[string]string) (string, error) {
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
func (e exposition) find(name string, labels ...string) []sample {
	var out []sample
	for _, s := range e.samples {
		if s.name == name && labelsEqual(s.labels, labels) {
			out = append(out, s)
		}
	}
	return out
}

// value returns the single sample value of name with exactly labels,
// failing the test when there is not exactly one.
func (e exposition) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	found := e.find(name, labels...)
	if len(found) != 1 {
		t.Fatalf("%s%v: %d samples, want 1", name, labels, len(found))
	}
	return found[0].value
}

// labelsEqual reports whether got holds exactly the pairs of want.
func labelsEqual(got map[string]string, want []string) bool {
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

// wantEqual fails the test when got != want.
func wantEqual(t *testing.T, what string, got, want float64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
