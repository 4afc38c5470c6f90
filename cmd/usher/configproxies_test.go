package main

import (
	"net/netip"
	"slices"
	"testing"
)

// trusted_proxies lists CIDRs and single addresses; a host name is refused.
// (The client-address rule itself is tested in internal/httpserver.)
func TestConfigTrustedProxies(t *testing.T) {
	trusted, err := configTrustedProxies("10.0.0.0/8, 192.0.2.7, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("fd00::/8")}
	if !slices.Equal(trusted, want) {
		t.Errorf("trusted = %v, want %v", trusted, want)
	}
	if _, err := configTrustedProxies("10.0.0.0/8, example.org"); err == nil {
		t.Error("a host name was accepted as a trusted proxy")
	}
}
