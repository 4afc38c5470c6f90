package provider

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
)

func TestNewClientDefaults(t *testing.T) {
	c, secret, err := newClient(ClientSpec{Name: "Shop", RedirectURIs: []string{"https://shop.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 43 {
		t.Errorf("secret has %d characters, want 43 (256 bits, base64url)", len(secret))
	}
	if c.SecretHash != HashClientSecret(secret) || strings.Contains(c.SecretHash, secret) {
		t.Errorf("stored secret hash %q is not the hash of the secret", c.SecretHash)
	}
	if got := strings.Join(c.GrantTypes, " "); got != "authorization_code refresh_token" {
		t.Errorf("grants = %q", got)
	}
	if got := strings.Join(c.Scopes, " "); got != "openid email profile offline_access" {
		t.Errorf("scopes = %q", got)
	}
	if c.AccountKind != storage.Customer || c.Public || c.FirstParty || !c.RequirePKCE || c.IDTokenAlg != "RS256" ||
		c.AccessTokenFormat != storage.AccessTokenOpaque || len(c.Audiences) != 0 {
		t.Errorf("defaults wrong: %+v", c)
	}
	// 128 bits in hex: never mistaken for an option on a command line
	// (a base64url ID starting with "-" broke "usher client delete").
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(c.ID) {
		t.Errorf("generated client ID %q: want 32 hex digits", c.ID)
	}
	other, _, _ := newClient(ClientSpec{Name: "Shop", RedirectURIs: []string{"https://shop.example/cb"}})
	if other.ID == c.ID {
		t.Error("two clients got the same ID")
	}
}

func TestNewClientPublicHasNoSecret(t *testing.T) {
	c, secret, err := newClient(ClientSpec{Name: "App", Public: true, RedirectURIs: []string{"com.example.app:/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || c.SecretHash != "" || !c.RequirePKCE {
		t.Errorf("public client: secret %q, hash %q, PKCE %v", secret, c.SecretHash, c.RequirePKCE)
	}
}

func TestNewClientRefuses(t *testing.T) {
	tests := []struct {
		name string
		spec ClientSpec
		want []string // each must appear in the error
	}{
		{"no name", ClientSpec{RedirectURIs: []string{"https://a.example/cb"}}, []string{"name: required"}},
		{"no grant", ClientSpec{Name: "x"}, []string{"give a redirect URI"}},
		{"fragment", ClientSpec{Name: "x", RedirectURIs: []string{"https://a.example/cb#x"}}, []string{"fragment"}},
		{"relative", ClientSpec{Name: "x", RedirectURIs: []string{"/cb"}}, []string{"absolute"}},
		{"http remote", ClientSpec{Name: "x", RedirectURIs: []string{"http://shop.example/cb"}}, []string{"use https"}},
		{"javascript", ClientSpec{Name: "x", RedirectURIs: []string{"javascript:alert(1)"}}, []string{"reverse-domain"}},
		{"data", ClientSpec{Name: "x", RedirectURIs: []string{"data:text/html,x"}}, []string{"reverse-domain"}},
		{"userinfo", ClientSpec{Name: "x", RedirectURIs: []string{"https://u:p@a.example/cb"}}, []string{"user information"}},
		{"bad post-logout", ClientSpec{Name: "x", RedirectURIs: []string{"https://a.example/cb"}, PostLogoutRedirectURIs: []string{"https://a.example/#x"}}, []string{"post-logout"}},
		{"unknown grant", ClientSpec{Name: "x", GrantTypes: []string{"password"}}, []string{`grant "password"`}},
		{"code without redirect", ClientSpec{Name: "x", GrantTypes: []string{GrantAuthorizationCode}}, []string{"needs at least one redirect URI"}},
		{"refresh alone", ClientSpec{Name: "x", GrantTypes: []string{GrantRefreshToken, GrantClientCredentials}}, []string{"refresh_token grant"}},
		{"public client credentials", ClientSpec{Name: "x", Public: true, GrantTypes: []string{GrantClientCredentials}}, []string{"no credentials"}},
		{"public without PKCE", ClientSpec{Name: "x", Public: true, DisablePKCE: true, RedirectURIs: []string{"https://a.example/cb"}}, []string{"PKCE is always required"}},
		{"point of sale without home", ClientSpec{Name: "x", PointOfSale: true, RedirectURIs: []string{"https://a.example/cb"}}, []string{"home URL"}},
		{"point of sale for operators", ClientSpec{Name: "x", PointOfSale: true, HomeURL: "https://a.example/", AccountKind: storage.Operator, RedirectURIs: []string{"https://a.example/cb"}}, []string{"must accept customers"}},
		{"home without point of sale", ClientSpec{Name: "x", HomeURL: "https://a.example/", RedirectURIs: []string{"https://a.example/cb"}}, []string{"only a point of sale"}},
		{"bad kind", ClientSpec{Name: "x", AccountKind: "admin", RedirectURIs: []string{"https://a.example/cb"}}, []string{"neither customer nor operator"}},
		{"bad alg", ClientSpec{Name: "x", IDTokenAlg: "HS256", RedirectURIs: []string{"https://a.example/cb"}}, []string{"HS256"}},
		{"bad scope", ClientSpec{Name: "x", Scopes: []string{"a b"}, RedirectURIs: []string{"https://a.example/cb"}}, []string{`scope "a b"`}},
		{"bad access token format", ClientSpec{Name: "x", AccessTokenFormat: "JWT", RedirectURIs: []string{"https://a.example/cb"}}, []string{`access token format "JWT"`}},
		{"audience of opaque tokens", ClientSpec{Name: "x", Audiences: []string{"https://api.example"}, RedirectURIs: []string{"https://a.example/cb"}}, []string{"only a client with JWT access tokens"}},
		{"relative audience", ClientSpec{Name: "x", AccessTokenFormat: storage.AccessTokenJWT, Audiences: []string{"api"}, RedirectURIs: []string{"https://a.example/cb"}}, []string{`audience "api"`}},
		{"audience with fragment", ClientSpec{Name: "x", AccessTokenFormat: storage.AccessTokenJWT, Audiences: []string{"https://api.example/#a"}, RedirectURIs: []string{"https://a.example/cb"}}, []string{"without fragment"}},
		{"all at once", ClientSpec{RedirectURIs: []string{"ftp://x", "/y"}}, []string{"name: required", `"ftp://x"`, `"/y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, secret, err := newClient(tt.spec)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if c != nil || secret != "" {
				t.Errorf("returned a client or secret along with the error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNewClientAccepts(t *testing.T) {
	for _, uri := range []string{
		"https://shop.example/cb?x=1",
		"http://127.0.0.1/cb",
		"http://[::1]:8080/cb",
		"http://localhost:3000/cb",
		"com.example.app:/oauth2redirect",
	} {
		if _, _, err := newClient(ClientSpec{Name: "x", RedirectURIs: []string{uri}}); err != nil {
			t.Errorf("%s refused: %v", uri, err)
		}
	}
	if _, _, err := newClient(ClientSpec{Name: "api", GrantTypes: []string{GrantClientCredentials}, Introspection: true}); err != nil {
		t.Errorf("resource server refused: %v", err)
	}
}

func TestSecretHasher(t *testing.T) {
	ctx := context.Background()
	var h secretHasher
	secret := newSecret()
	hash, err := h.Hash(ctx, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Compare(ctx, hash, []byte(secret)); err != nil {
		t.Errorf("right secret refused: %v", err)
	}
	for _, wrong := range []string{"", secret[:42], secret + "x", newSecret()} {
		if err := h.Compare(ctx, hash, []byte(wrong)); err == nil {
			t.Errorf("wrong secret %q accepted", wrong)
		}
	}
	if err := h.Compare(ctx, []byte("$2a$12$bcrypt"), []byte(secret)); err == nil {
		t.Error("a hash of another scheme matched")
	}
}
