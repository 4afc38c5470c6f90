package flows

import (
	"testing"

	"github.com/usher-idp/usher/internal/issuer"
)

func TestParseReturnTo(t *testing.T) {
	const ok = "/institutions/opera/oauth2/authorize?client_id=shop&scope=openid+email&state=x%2Fy"
	tests := []struct {
		raw   string
		valid bool
	}{
		{ok, true},
		{"/institutions/opera/oauth2/authorize?", true},
		{"", false},
		{"https://evil.example/", false},
		{"//evil.example", false},
		{"//evil.example/institutions/opera/oauth2/authorize?client_id=shop", false},
		{"/\\evil", false},
		{"/institutions/opera/oauth2/authorize?client_id=shop\\@evil", false},
		{"/institutions/other/oauth2/authorize?client_id=shop", false},
		{"/institutions/opera-x/oauth2/authorize?client_id=shop", false},
		{"/institutions/opera/oauth2/authorize", false},      // no query: not an authorization request
		{"/institutions/opera/oauth2/authorizex?a=b", false}, // another path
		{"/institutions/opera/oauth2/authorize/../../../login?a=b", false},
		{"/institutions/opera/oauth2/token?client_id=shop", false},
		{"/institutions/opera/oauth2/authorize?client_id=shop#frag", false},
		{"/institutions/opera/oauth2/authorize?client_id=a b", false},
		{"/institutions/opera/oauth2/authorize?client_id=a\r\nLocation: x", false},
		{"/institutions/opera/oauth2/authorize?client_id=é", false},
		{"/institutions/opera/oauth2/authorize?client_id=%zz", false},
		{"/institutions/opera/oauth2/authorize?" + string(make([]byte, issuer.MaxReturnTo)), false},
		{"javascript:alert(1)", false},
		{"/Institutions/opera/oauth2/authorize?a=b", false},
	}
	for _, tt := range tests {
		rt, valid := parseReturnTo("opera", tt.raw)
		if valid != tt.valid || rt.valid() != tt.valid {
			t.Errorf("parseReturnTo(%q) = %v, want %v", tt.raw, valid, tt.valid)
		}
		if !valid && rt.after("opera") != "/institutions/opera/account" {
			t.Errorf("%q: lands on %q", tt.raw, rt.after("opera"))
		}
	}
	rt, _ := parseReturnTo("opera", ok+"&scope=ignored&login_hint=ann%40example.org")
	if rt.clientID() != "shop" || rt.loginHint() != "ann@example.org" || len(rt.scopes()) != 2 {
		t.Errorf("query: %v", rt.query)
	}
	if rt.denied() != rt.raw+"&usher_consent=denied" || rt.after("opera") != rt.raw {
		t.Errorf("denied %q, after %q", rt.denied(), rt.after("opera"))
	}
}

func FuzzParseReturnTo(f *testing.F) {
	f.Add("/institutions/opera/oauth2/authorize?client_id=shop")
	f.Add("//evil.example")
	f.Fuzz(func(t *testing.T, raw string) {
		rt, ok := parseReturnTo("opera", raw)
		if !ok {
			return
		}
		// Whatever passes is a path of this server: it starts with one "/"
		// and the institution's authorization endpoint.
		if len(rt.raw) < 2 || rt.raw[0] != '/' || rt.raw[1] == '/' || rt.raw[:len("/institutions/opera/oauth2/authorize?")] !=
			"/institutions/opera/oauth2/authorize?" {
			t.Fatalf("accepted %q", raw)
		}
	})
}
