package outage

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// An outage of many failures logs its start once, then at most one summary
// line per kind every Every with the count since the last, then its end
// with the total; a success outside an outage logs nothing.
func TestLog(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), "database", 10*time.Second, func() time.Time { return now })
	l.OK()
	if buf.Len() != 0 || l.Down() {
		t.Fatalf("a success outside an outage: %q, down %v", buf.String(), l.Down())
	}
	cause := errors.New("dial tcp: connection refused")
	for i := range 1000 { // 25 s of failures, 40 a second, two kinds
		kind := "connection refused"
		if i%4 == 0 {
			kind = "deadline exceeded"
		}
		l.Failed(kind, cause)
		now = now.Add(25 * time.Millisecond)
	}
	if !l.Down() {
		t.Error("not down during the outage")
	}
	l.OK()
	l.OK()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	count := func(part string) int {
		n := 0
		for _, line := range lines {
			if strings.Contains(line, part) {
				n++
			}
		}
		return n
	}
	if n := count(`msg="database unavailable"`); n != 1 || !strings.Contains(lines[0], "connection refused") {
		t.Errorf("start logged %d times (first line %q), want once, saying what failed", n, lines[0])
	}
	if n := count(`msg="database still unavailable"`); n != 4 { // two summaries (at 10 s and 20 s), two kinds each
		t.Errorf("%d summary lines, want 4:\n%s", n, buf.String())
	}
	if n := count(`msg="database available again" dependency=database failures=1000`); n != 1 {
		t.Errorf("end logged %d times with the total, want once:\n%s", n, buf.String())
	}
	if len(lines) != 6 || l.Down() {
		t.Errorf("1000 failures logged %d lines (down %v), want 6", len(lines), l.Down())
	}
}
