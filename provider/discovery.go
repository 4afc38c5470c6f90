package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// discoveryDocument is the OpenID Provider metadata: it advertises exactly
// what the provider supports.
func discoveryDocument(t *tenant) ([]byte, error) {
	doc := map[string]any{
		"issuer":                                t.issuer,
		"authorization_endpoint":                t.issuer + authorizePath,
		"token_endpoint":                        t.issuer + tokenPath,
		"userinfo_endpoint":                     t.issuer + userinfoPath,
		"jwks_uri":                              t.issuer + jwksPath,
		"end_session_endpoint":                  t.issuer + logoutPath,
		"introspection_endpoint":                t.issuer + introspectPath,
		"revocation_endpoint":                   t.issuer + revokePath,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"scopes_supported":                      []string{"openid", "email", "profile", "offline_access"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
			"email", "email_verified", "name", "given_name", "family_name", "locale", "updated_at"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":               []string{"S256"},
		"prompt_values_supported":                        []string{"none", "login", "consent", "select_account"},
		"acr_values_supported":                           acrSupported(),
		"ui_locales_supported":                           t.inst.Settings.Locales,
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"authorization_response_iss_parameter_supported": true,
		"frontchannel_logout_supported":                  false,
		"backchannel_logout_supported":                   false,
	}
	return jsonBytes(doc)
}

func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return b, nil
}

// serveDiscovery serves /.well-known/openid-configuration.
func serveDiscovery(w http.ResponseWriter, r *http.Request, t *tenant) {
	writeCacheable(w, t.discovery)
}

// serveJWKS serves the institution's public keys.
func serveJWKS(w http.ResponseWriter, r *http.Request, t *tenant) {
	writeCacheable(w, t.jwks)
}

// writeCacheable writes public JSON that relying parties may cache briefly:
// after a key rotation they refetch on an unknown kid anyway.
func writeCacheable(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*") // browser-based relying parties read these
	w.Write(body)
}
