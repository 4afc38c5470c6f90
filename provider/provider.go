// Package provider is the protocol side of Usher: one fosite OAuth 2.0 and
// OpenID Connect provider per institution, its endpoints, discovery, keys,
// and the registration of clients.
//
// Every institution has its own issuer (see internal/issuer), its own token
// HMAC key (derived from the master secret) and its own signing keys. Its
// fosite provider is built on first use, cached, and rebuilt when the
// institution's version stamp changes (settings, keys, clients), which every
// replica checks.
package provider

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// Pages renders the pages the provider shows browsers itself (an authorization
// request that cannot be redirected back, a refused logout).
type Pages interface {
	Error(w http.ResponseWriter, r *http.Request, inst *storage.Institution, status int, titleID, messageID string)
}

// Metrics counts what the protocol does.
type Metrics interface {
	TokenIssued(grant string)
	// TheftSignal counts a replayed code or a reused refresh token
	// (metrics.SignalCodeReplay, metrics.SignalRefreshReuse).
	TheftSignal(signal string)
}

// Config configures a Provider.
type Config struct {
	PublicURL    string // https://id.example.org, no trailing slash
	MasterSecret []byte
	Institutions Institutions
	Transactor   storage.Transactor
	// In returns the view of one institution's records.
	In        func(institutionID string) InstitutionStore
	Sessions  Sessions
	Pages     Pages
	Metrics   Metrics
	Log       *slog.Logger
	Now       func() time.Time // nil: time.Now
	Lifespans Lifespans        // zero fields: defaults
	// VersionCheck is how long a replica trusts its cached provider of an
	// institution before it compares the version stamp again (default 1s).
	VersionCheck time.Duration
}

// Lifespans of codes and tokens.
type Lifespans struct {
	Code         time.Duration // authorization code, default 5m
	Access       time.Duration // access token, default 1h
	JWTAccess    time.Duration // JWT access token (clients registered for them), default 5m
	IDToken      time.Duration // ID token, default 1h
	Refresh      time.Duration // refresh token, sliding, default 30 days
	Grant        time.Duration // a grant's refresh tokens end this long after the sign-in, default 90 days
	RefreshGrace time.Duration // a rotated refresh token still works this long (tabs refreshing at once), default 15s; negative: strict
}

func (l Lifespans) withDefaults() Lifespans {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&l.Code, 5*time.Minute)
	def(&l.Access, time.Hour)
	def(&l.JWTAccess, 5*time.Minute)
	def(&l.IDToken, time.Hour)
	def(&l.Refresh, 30*24*time.Hour)
	def(&l.Grant, 90*24*time.Hour)
	def(&l.RefreshGrace, 15*time.Second)
	return l
}

// Provider serves every institution's protocol endpoints: the endpoints'
// handlers, assembled by New and registered by Routes, each called with the
// institution's fosite provider from the cache (tenants). It also rotates
// signing keys.
type Provider struct {
	publicURL string
	stores    stores
	sealer    *seal.Sealer
	now       func() time.Time
	retireFor time.Duration // how long a retired key stays published

	tenants   *tenants
	authorize *authorizeHandler
	token     *tokenHandler
	userinfo  *userinfoHandler
	logout    *logoutHandler
}

// New checks cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Institutions == nil || cfg.Transactor == nil || cfg.In == nil || cfg.Sessions == nil || cfg.Pages == nil {
		return nil, errors.New("provider: Institutions, Transactor, In, Sessions and Pages are required")
	}
	if !strings.HasPrefix(cfg.PublicURL, "http") || strings.HasSuffix(cfg.PublicURL, "/") {
		return nil, errors.New("provider: PublicURL must be an absolute URL without trailing slash")
	}
	sealer, err := seal.New(cfg.MasterSecret, keys.SealPurpose)
	if err != nil {
		return nil, err
	}
	successors, err := seal.New(cfg.MasterSecret, successorSealPurpose)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.VersionCheck == 0 {
		cfg.VersionCheck = time.Second
	}
	life := cfg.Lifespans.withDefaults()
	st := stores{Transactor: cfg.Transactor, Institutions: cfg.Institutions, in: cfg.In}
	t := &tenants{publicURL: cfg.PublicURL, master: cfg.MasterSecret, stores: st,
		sealer: sealer, successors: successors, life: life, now: cfg.Now, versionCheck: cfg.VersionCheck, pages: cfg.Pages, log: cfg.Log,
		byslug: map[string]*tenant{}}
	return &Provider{
		publicURL: cfg.PublicURL, stores: st, sealer: sealer, now: cfg.Now,
		// Far beyond the longest token a key signed (ID tokens, an hour by
		// default), so that id_token_hints of long browser sessions still
		// verify at logout.
		retireFor: max(life.IDToken+time.Hour, 7*24*time.Hour),
		tenants:   t,
		authorize: &authorizeHandler{sessions: cfg.Sessions, pages: cfg.Pages, log: cfg.Log, now: cfg.Now},
		token:     &tokenHandler{metrics: cfg.Metrics, log: cfg.Log},
		userinfo:  &userinfoHandler{log: cfg.Log},
		logout:    &logoutHandler{sessions: cfg.Sessions, pages: cfg.Pages, log: cfg.Log},
	}, nil
}

type noMetrics struct{}

func (noMetrics) TokenIssued(string) {}
func (noMetrics) TheftSignal(string) {}

// Issuer returns the issuer of the institution with this slug.
func (p *Provider) Issuer(slug string) string {
	return issuer.URL(p.publicURL, slug)
}
