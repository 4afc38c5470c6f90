package provider

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// session is what fosite keeps with every code and token of a grant: the ID
// token claims and headers, the expiries, and who the grant is for.
type session struct {
	*openid.DefaultSession `json:"oidc"`
	// ClientID is the client the grant belongs to; for the client
	// credentials grant it is also the subject.
	ClientID string `json:"client_id"`
}

var (
	_ fosite.Session            = (*session)(nil)
	_ fosite.ExtraClaimsSession = (*session)(nil)
	_ openid.Session            = (*session)(nil)
)

// newSession returns an empty session, as fosite needs one to decode into.
func newSession() *session {
	return &session{DefaultSession: &openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{Extra: map[string]any{}},
		Headers: &jwt.Headers{Extra: map[string]any{}},
	}}
}

// Clone returns a deep copy. It must be defined on the outer type: the
// embedded DefaultSession.Clone would return an *openid.DefaultSession, and
// fosite clones the session on every refresh.
func (s *session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("provider: clone session: %v", err)) // only plain data: unreachable
	}
	c := newSession()
	if err := json.Unmarshal(b, c); err != nil {
		panic(fmt.Sprintf("provider: clone session: %v", err))
	}
	return c
}

// GetExtraClaims shows the client in token introspection.
func (s *session) GetExtraClaims() map[string]any {
	return map[string]any{}
}

// expiry returns the session's expiry of a token type, or fallback when the
// session has none.
func (s *session) expiry(t fosite.TokenType, fallback time.Time) time.Time {
	if e := s.GetExpiresAt(t); !e.IsZero() {
		return e
	}
	return fallback
}
