// Package provider is the protocol side of Usher: one fosite OAuth 2.0 and
// OpenID Connect provider per institution, its endpoints, discovery, keys,
// and the registration rules of clients.
//
// Every institution has its own issuer ({public_url}/institutions/{slug}),
// its own token HMAC key (derived from the master secret) and its own signing
// keys. Its fosite provider is built on first use, cached, and rebuilt when
// the institution's version stamp changes (settings, keys, clients), which
// every replica checks.
package provider

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// Store is what the provider needs of the storage.
type Store interface {
	storage.InstitutionStore
	storage.Transactor
	In(institutionID string) storage.Scoped
}

// Pages renders the pages the provider shows browsers itself (an authorization
// request that cannot be redirected back, a refused logout).
type Pages interface {
	Error(w http.ResponseWriter, r *http.Request, inst *storage.Institution, status int, titleID, messageID string)
}

// Metrics counts what the protocol does.
type Metrics interface {
	TokenIssued(grant string)
}

// Config configures a Provider.
type Config struct {
	PublicURL    string // https://id.example.org, no trailing slash
	MasterSecret []byte
	Store        Store
	Sessions     Sessions
	Pages        Pages
	Metrics      Metrics
	Log          *slog.Logger
	Now          func() time.Time // nil: time.Now
	Lifespans    Lifespans        // zero fields: defaults
	// VersionCheck is how long a replica trusts its cached provider of an
	// institution before it compares the version stamp again (default 1s).
	VersionCheck time.Duration
}

// Lifespans of codes and tokens.
type Lifespans struct {
	Code         time.Duration // authorization code, default 5m
	Access       time.Duration // access token, default 1h
	IDToken      time.Duration // ID token, default 1h
	Refresh      time.Duration // refresh token, sliding, default 30 days
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
	def(&l.IDToken, time.Hour)
	def(&l.Refresh, 30*24*time.Hour)
	def(&l.RefreshGrace, 15*time.Second)
	return l
}

// Provider serves every institution's protocol endpoints.
type Provider struct {
	cfg     Config
	life    Lifespans
	sealer  *seal.Sealer
	mu      sync.RWMutex
	tenants map[string]*tenant // by slug
	buildMu sync.Mutex         // one build at a time: builds are rare
}

// New checks cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Store == nil || cfg.Sessions == nil || cfg.Pages == nil {
		return nil, errors.New("provider: Store, Sessions and Pages are required")
	}
	if !strings.HasPrefix(cfg.PublicURL, "http") || strings.HasSuffix(cfg.PublicURL, "/") {
		return nil, errors.New("provider: PublicURL must be an absolute URL without trailing slash")
	}
	sealer, err := seal.New(cfg.MasterSecret, "signing-key")
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
	return &Provider{cfg: cfg, life: cfg.Lifespans.withDefaults(), sealer: sealer, tenants: map[string]*tenant{}}, nil
}

type noMetrics struct{}

func (noMetrics) TokenIssued(string) {}

// Issuer returns the issuer of the institution with this slug.
func (p *Provider) Issuer(slug string) string {
	return p.cfg.PublicURL + "/institutions/" + slug
}

// Routes registers every protocol endpoint on mux.
func (p *Provider) Routes(mux *http.ServeMux) {
	const base = "/institutions/{slug}"
	mux.HandleFunc("GET "+base+"/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET "+base+"/jwks", p.jwks)
	mux.HandleFunc("GET "+base+"/oauth2/authorize", p.authorize)
	mux.HandleFunc("POST "+base+"/oauth2/authorize", p.authorize)
	mux.HandleFunc("POST "+base+"/oauth2/token", p.token)
	mux.HandleFunc("POST "+base+"/oauth2/introspect", p.introspect)
	mux.HandleFunc("POST "+base+"/oauth2/revoke", p.revoke)
	mux.HandleFunc("GET "+base+"/oauth2/userinfo", p.userinfo)
	mux.HandleFunc("POST "+base+"/oauth2/userinfo", p.userinfo)
	mux.HandleFunc("GET "+base+"/oauth2/logout", p.logout)
	mux.HandleFunc("POST "+base+"/oauth2/logout", p.logout)
}
