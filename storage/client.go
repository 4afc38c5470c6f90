package storage

import (
	"context"
	"time"
)

// Client is a relying application registered with an institution.
type Client struct {
	ID                     string      `db:"id"` // the client_id
	InstitutionID          string      `db:"institution_id"`
	Name                   string      `db:"name"`
	SecretHash             string      `db:"secret_hash"` // "" for a public client
	Public                 bool        `db:"public"`
	AccountKind            AccountKind `db:"account_kind"` // who may sign in through it
	RedirectURIs           List        `db:"redirect_uris"`
	PostLogoutRedirectURIs List        `db:"post_logout_redirect_uris"`
	GrantTypes             List        `db:"grant_types"`
	Scopes                 List        `db:"scopes"`
	FirstParty             bool        `db:"first_party"` // no consent screen
	RequireTwoFactor       bool        `db:"require_two_factor"`
	RequirePKCE            bool        `db:"require_pkce"`  // always true for public clients
	Introspection          bool        `db:"introspection"` // a resource server: may introspect any token of the institution
	PointOfSale            bool        `db:"point_of_sale"`
	HomeURL                string      `db:"home_url"`            // where a customer lands after activation or reset
	InitiateLoginURI       string      `db:"initiate_login_uri"`  // OIDC third-party-initiated login
	IDTokenAlg             string      `db:"id_token_alg"`        // "RS256" or "ES256"; also signs its JWT access tokens
	AccessTokenFormat      string      `db:"access_token_format"` // AccessTokenOpaque ("" reads as it) or AccessTokenJWT
	Audiences              List        `db:"audiences"`           // what a JWT access token names in "aud"; none: the client's ID
	CreatedAt              time.Time   `db:"created_at"`
	UpdatedAt              time.Time   `db:"updated_at"`
}

// Formats of a client's access tokens.
const (
	AccessTokenOpaque = "opaque" // random; its grant is a row; the default
	AccessTokenJWT    = "jwt"    // an RFC 9068 JWT, signed with the institution's keys
)

// ClientStore keeps an institution's clients. Every write raises the
// institution's version, so caches of its clients (in every replica) renew.
type ClientStore interface {
	// CreateClient stores c, assigning the timestamps; c.ID must be set.
	// ErrDuplicate when the ID is taken.
	CreateClient(ctx context.Context, c *Client) error
	// GetClient returns the client, or ErrNotFound.
	GetClient(ctx context.Context, id string) (*Client, error)
	// ListClients returns the institution's clients ordered by name, then ID.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient writes every field of c; ErrNotFound.
	UpdateClient(ctx context.Context, c *Client) error
	// DeleteClient removes the client; ErrNotFound.
	DeleteClient(ctx context.Context, id string) error
}
