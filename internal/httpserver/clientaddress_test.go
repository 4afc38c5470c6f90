package httpserver

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.1:443": "192.0.2.1", "[2001:db8::1]:8080": "2001:db8::1", "@": "@", "": ""} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = in
		if got := ClientIP(r); got != want {
			t.Errorf("ClientIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client, no header", "203.0.113.5:4000", nil, "203.0.113.5:4000"},
		{"direct client forging the header", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5:4000"},
		{"through the load balancer", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1:0"},
		{"the client prepends a lie", "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1:0"},
		{"two trusted hops", "10.1.2.3:5000", []string{"198.51.100.1, 192.0.2.7"}, "198.51.100.1:0"},
		{"header split over two lines", "10.1.2.3:5000", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1:0"},
		{"IPv6 client", "[fd00::1]:443", []string{"2001:db8::5"}, "[2001:db8::5]:0"},
		{"garbled header", "10.1.2.3:5000", []string{"not-an-ip"}, "10.1.2.3:5000"},
		{"only proxies", "10.1.2.3:5000", []string{"10.4.4.4"}, "10.1.2.3:5000"},
	}
	for _, tt := range tests {
		var seen string
		h := ClientAddress(trusted, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if seen != tt.want {
			t.Errorf("%s: client %q, want %q", tt.name, seen, tt.want)
		}
	}
}
