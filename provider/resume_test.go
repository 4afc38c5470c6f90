package provider

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

func TestResumeToken(t *testing.T) {
	tn := &tenant{resumeKey: []byte("0123456789abcdef0123456789abcdef")}
	form := url.Values{"client_id": {"shop"}, "state": {"s1"}, "prompt": {"login"}}
	start := time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC)
	form.Set(paramResume, tn.resumeToken(start, form))
	now := start.Add(5 * time.Minute)

	if got := tn.requestedAt(form, now); !got.Equal(start) {
		t.Fatalf("requestedAt = %v, want %v", got, start)
	}
	withConsent := cloneValues(form)
	withConsent.Set(issuer.ConsentDeniedParam, issuer.ConsentDeniedValue)
	if got := tn.requestedAt(withConsent, now); !got.Equal(start) {
		t.Errorf("the consent marker broke the resume token: %v", got)
	}
	cases := map[string]func(url.Values){
		"other state":    func(v url.Values) { v.Set("state", "s2") },
		"prompt dropped": func(v url.Values) { v.Del("prompt") },
		"other time": func(v url.Values) {
			ts, mac, _ := strings.Cut(v.Get(paramResume), ".")
			v.Set(paramResume, ts[:len(ts)-1]+"0."+mac)
		},
		"garbage": func(v url.Values) { v.Set(paramResume, "x.y") },
		"empty":   func(v url.Values) { v.Del(paramResume) },
	}
	for name, change := range cases {
		v := cloneValues(form)
		change(v)
		if got := tn.requestedAt(v, now); !got.Equal(now) {
			t.Errorf("%s: requestedAt = %v, want now", name, got)
		}
	}
	other := &tenant{resumeKey: []byte("another institution's resume key")}
	if got := other.requestedAt(form, now); !got.Equal(now) {
		t.Errorf("another institution accepted the token")
	}
	if later := start.Add(resumeMaxAge + time.Second); !tn.requestedAt(form, later).Equal(later) {
		t.Errorf("a token older than %v was accepted", resumeMaxAge)
	}
	if before := start.Add(-time.Second); !tn.requestedAt(form, before).Equal(before) {
		t.Errorf("a token from the future was accepted")
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestSafeDescription(t *testing.T) {
	got := safeDescription("The \"redirect_uri\" \\ is bad\n\té")
	if got != "The 'redirect_uri' ' is bad" {
		t.Errorf("safeDescription = %q", got)
	}
}

func TestAMRAndACR(t *testing.T) {
	if got := amr([]string{"pwd"}); strings.Join(got, " ") != "pwd" || acr([]string{"pwd"}) != "1" {
		t.Errorf("password only: amr %v acr %s", got, acr([]string{"pwd"}))
	}
	if got := amr([]string{"pwd", "otp"}); strings.Join(got, " ") != "pwd otp mfa" || acr([]string{"pwd", "otp"}) != "2" {
		t.Errorf("two factors: amr %v", got)
	}
}

func TestClaimsByScope(t *testing.T) {
	a := &storage.Account{ID: "acc", Email: "ann@example.org", EmailVerified: true, GivenName: "Ann",
		FamilyName: "Smith", UpdatedAt: time.Unix(1700000000, 0)}
	only := claims(a, fosite.Arguments{"openid"}, "fr")
	if len(only) != 1 || only["sub"] != "acc" {
		t.Errorf("openid alone: %v", only)
	}
	all := claims(a, fosite.Arguments{"openid", "email", "profile"}, "fr")
	want := map[string]any{"sub": "acc", "email": "ann@example.org", "email_verified": true, "name": "Ann Smith",
		"given_name": "Ann", "family_name": "Smith", "locale": "fr", "updated_at": int64(1700000000)}
	for k, v := range want {
		if all[k] != v {
			t.Errorf("%s = %#v, want %#v", k, all[k], v)
		}
	}
	if len(all) != len(want) {
		t.Errorf("claims %v, want exactly %v", all, want)
	}
}

func TestAudience(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{"shop", "shop"},
		{[]any{"shop", "api", 3}, "shop api"},
		{[]string{"a"}, "a"},
		{nil, ""},
		{42, ""},
	} {
		if got := strings.Join(audience(tt.in), " "); got != tt.want {
			t.Errorf("audience(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
