package issuer

import "errors"

// The admin API ({issuer}/admin/v1/..., package flows/admin) is called with
// access tokens of the institution, which the provider issued and checks:
// the API asks the provider who a token's Caller is. Its scopes are the
// provider's to withhold: a customer's token never carries them.

// Scopes of the admin API.
const (
	ScopeAccountsRead  = "accounts:read"
	ScopeAccountsWrite = "accounts:write"
	ScopeClientsWrite  = "clients:write"
	ScopeSettingsWrite = "settings:write"
)

// AdminScope reports whether scope is one of the admin API's, which only an
// operator's token or a client's own (client credentials) may carry.
func AdminScope(scope string) bool {
	switch scope {
	case ScopeAccountsRead, ScopeAccountsWrite, ScopeClientsWrite, ScopeSettingsWrite:
		return true
	}
	return false
}

// CallerKind says on whose behalf an access token acts.
type CallerKind string

// Kinds of callers.
const (
	CallerOperator CallerKind = "operator" // an operator's account, signed in at a client (the box office)
	CallerClient   CallerKind = "client"   // a client itself, with a client-credentials token
)

// Caller is who presents a valid access token of an institution: the
// provider's answer to the admin API.
type Caller struct {
	Kind     CallerKind
	Subject  string   // the operator's account ID, or the client ID
	ClientID string   // the client the token was issued to
	Scopes   []string // the granted scopes the caller may use now
}

// ErrInvalidToken: the token is not an active access token of the
// institution, or it acts for someone who may not call the admin API (a
// customer, an account no longer active).
var ErrInvalidToken = errors.New("invalid access token")
