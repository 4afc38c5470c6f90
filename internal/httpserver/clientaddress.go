package httpserver

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddress sets r.RemoteAddr to the client's address when the request
// came through a trusted proxy: the rightmost X-Forwarded-For entry that is
// not itself a trusted proxy. Entries further left were written by the
// client and are not believed.
//
// What needs the client's address (the access log here; the throttling
// and the audit events of the flows) reads it with ClientIP after this
// middleware ran, so there is one rule for it.
//
// With no trusted proxy the address stays the peer's, and a request that
// carries X-Forwarded-For raises WarningUntrustedForwarding on warnings
// (UntrustedForwarding).
func ClientAddress(trusted []netip.Prefix, warnings *Warnings) func(http.Handler) http.Handler {
	if len(trusted) == 0 {
		return UntrustedForwarding(warnings)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if client, ok := forwardedClient(r, trusted); ok {
				r2 := *r
				r2.RemoteAddr = netip.AddrPortFrom(client, 0).String()
				r = &r2
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ClientIP returns the IP address of the client of r: the IP of
// r.RemoteAddr ("ip:port"), or r.RemoteAddr itself when it has no port.
//
// Behind load balancers, this is the client's address only once the
// ClientAddress middleware has run (cmd/usher puts it around every route);
// before it, or in a handler served without it, it is the address of the
// last proxy.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// forwardedClient finds the client behind trusted proxies.
func forwardedClient(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !isTrusted(peer.Addr(), trusted) {
		return netip.Addr{}, false
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false // a garbled header: keep the proxy's address
		}
		addr = addr.Unmap()
		if !isTrusted(addr, trusted) {
			return addr, true
		}
	}
	return netip.Addr{}, false
}

// isTrusted reports whether a is in one of the trusted prefixes.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
