package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request with X-Forwarded-For while no proxy is trusted logs one warning
// (not one per request) and /readyz lists it, still ready (200); requests
// without the header raise nothing.
func TestUntrustedForwardingWarnsOnceAndReadyzSaysSo(t *testing.T) {
	log, sink := testLogger()
	warnings := NewWarnings(log)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := Chain(ok, UntrustedForwarding(warnings))
	serve(h, httptest.NewRequest(http.MethodGet, "/", nil))
	if sink.String() != "" || len(warnings.List()) != 0 {
		t.Fatalf("a request without X-Forwarded-For raised %v: %s", warnings.List(), sink.String())
	}
	wantHealth(t, get(Readyz(testChecker{}, log, warnings), "/readyz"), http.StatusOK, "ready\n")
	for range 3 {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-Forwarded-For", "203.0.113.7")
		if rec := serve(h, r); rec.Code != http.StatusNoContent {
			t.Errorf("status %d", rec.Code)
		}
	}
	lines := sink.lines(t)
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["warning"] != WarningUntrustedForwarding ||
		!strings.Contains(lines[0]["msg"].(string), "trusted_proxies") {
		t.Errorf("log %v, want one warning naming trusted_proxies", lines)
	}
	if strings.Contains(sink.String(), "203.0.113.7") {
		t.Error("the warning logged the header's (client-written) address")
	}
	wantHealth(t, get(Readyz(testChecker{}, log, warnings), "/readyz"), http.StatusOK,
		"ready\nwarning: x_forwarded_for_untrusted\n")
}
