// Package admin is the admin API: JSON at {issuer}/admin/v1/, called by the
// back ends of an institution's applications (the box office) with an
// access token of that institution, a thin layer over the services of
// package flows (flows.Accounts, flows.Institutions), which the command
// line calls too.
//
// A token is checked by the provider (Tokens, wired in cmd/usher): it acts
// for an operator's account or for a client itself (client credentials),
// and its scopes (issuer.ScopeAccountsRead, …) open the routes of
// routes.go. The token's subject is the actor of every change in the audit
// trail. Every error is an RFC 9457 problem (problem.go); the OpenAPI
// document (openapi.json, served at admin/v1/openapi.json) describes every
// route, and a test keeps the two in step.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Tokens checks the bearer tokens of the admin API: the provider implements
// it. Verify returns who presents token to inst, or issuer.ErrInvalidToken.
type Tokens interface {
	Verify(ctx context.Context, inst *storage.Institution, token string) (*issuer.Caller, error)
}

// Documents lists an institution's documents of an email class (the
// outbox of flows/mail): the names a box-office reset may choose, "" the
// default one.
type Documents interface {
	Documents(ctx context.Context, inst *storage.Institution, class templates.EmailClass) ([]string, error)
}

// Config configures the API.
type Config struct {
	Institutions flows.InstitutionFinder
	Tokens       Tokens
	Accounts     *flows.Accounts
	Invitations  *flows.Invitations
	Settings     *flows.Institutions
	Documents    Documents
	Catalog      *templates.Catalog // the messages of the problems, in the caller's language
	PublicURL    string             // https://id.example.org, no trailing slash
	Now          func() time.Time   // nil: time.Now
	Log          *slog.Logger       // never given tokens or passwords; nil: discard
}

// API serves the admin API; Routes registers it.
type API struct {
	institutions flows.InstitutionFinder
	tokens       Tokens
	accounts     *flows.Accounts
	invitations  *flows.Invitations
	settings     *flows.Institutions
	documents    Documents
	catalog      *templates.Catalog
	publicURL    string
	now          func() time.Time
	log          *slog.Logger
}

// New checks cfg and returns the API.
func New(cfg Config) (*API, error) {
	if cfg.Institutions == nil || cfg.Tokens == nil || cfg.Accounts == nil || cfg.Invitations == nil || cfg.Settings == nil ||
		cfg.Documents == nil || cfg.Catalog == nil {
		return nil, errors.New("admin: Institutions, Tokens, Accounts, Invitations, Settings, Documents and Catalog are required")
	}
	if !strings.HasPrefix(cfg.PublicURL, "http") || strings.HasSuffix(cfg.PublicURL, "/") {
		return nil, errors.New("admin: PublicURL must be an absolute URL without trailing slash")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &API{institutions: cfg.Institutions, tokens: cfg.Tokens, accounts: cfg.Accounts, invitations: cfg.Invitations,
		settings:  cfg.Settings,
		documents: cfg.Documents, catalog: cfg.Catalog, publicURL: cfg.PublicURL, now: cfg.Now, log: cfg.Log}, nil
}

// base is the URL of the API of the institution with this slug.
func (a *API) base(slug string) string { return issuer.URL(a.publicURL, slug) + pathPrefix }
