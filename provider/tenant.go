package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// errNoInstitution: the path names no institution.
var errNoInstitution = errors.New("no such institution")

// tenant is one institution's provider, as built for one version of it.
type tenant struct {
	inst   *storage.Institution
	issuer string
	oauth2 *fosite.Fosite
	// clientCredentials is oauth2's handler of the client credentials grant.
	clientCredentials fosite.TokenEndpointHandler
	store             *fositeStore     // fosite's storage
	records           InstitutionStore // the institution's records, for what fosite does not read
	keys              *keys.Set
	resumeKey         []byte
	discovery         []byte // the discovery document, encoded once
	jwks              []byte // the public keys, encoded once
	checkedAt         atomic.Int64
}

// tenants is the cache of the institutions' providers: each is built on
// first use and rebuilt when its institution's version changes.
type tenants struct {
	publicURL    string
	master       []byte
	stores       stores
	sealer       *seal.Sealer // seals the signing keys
	successors   *seal.Sealer // seals the answers kept for the refresh grace period
	life         Lifespans
	now          func() time.Time
	versionCheck time.Duration
	pages        Pages // for the endpoints browsers visit
	log          *slog.Logger

	mu      sync.RWMutex
	byslug  map[string]*tenant
	buildMu sync.Mutex // one build at a time: builds are rare
}

// forRequest returns the provider of the institution named in the request's
// path, building or rebuilding it when needed.
func (ts *tenants) forRequest(r *http.Request) (*tenant, error) {
	return ts.get(r.Context(), r.PathValue("slug"))
}

func (ts *tenants) get(ctx context.Context, slug string) (*tenant, error) {
	ts.mu.RLock()
	t := ts.byslug[slug]
	ts.mu.RUnlock()
	if t != nil && ts.current(ctx, t) {
		return t, nil
	}
	ts.buildMu.Lock()
	defer ts.buildMu.Unlock()
	ts.mu.RLock()
	again := ts.byslug[slug]
	ts.mu.RUnlock()
	if again != nil && again != t && ts.current(ctx, again) {
		return again, nil // built by another request meanwhile
	}
	inst, err := ts.stores.GetInstitutionBySlug(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNoInstitution
	}
	if errors.Is(err, storage.ErrUnavailable) && t != nil {
		return t, nil // the last loaded copy, while the database does not answer
	}
	if err != nil {
		return nil, err
	}
	built, err := ts.build(ctx, inst)
	if errors.Is(err, storage.ErrUnavailable) && t != nil {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("build provider of %s: %w", slug, err)
	}
	ts.mu.Lock()
	ts.byslug[slug] = built
	ts.mu.Unlock()
	return built, nil
}

// versionCheckTimeout bounds the reading of a version stamp: when the
// database does not answer, the request goes on with the cached provider
// (discovery and keys as last loaded) after at most this wait.
const versionCheckTimeout = 500 * time.Millisecond

// current reports whether t is the institution's current version, reading
// the version stamp at most once per versionCheck, by one request at a
// time (the others meanwhile use t). While the database does not answer, t
// is kept, and the stamp is read again a versionCheck later.
func (ts *tenants) current(ctx context.Context, t *tenant) bool {
	now := ts.now()
	if reload := t.keys.ReloadAt(); !reload.IsZero() && !now.Before(reload) {
		return false // a retired key stops being published: rebuild without it
	}
	checked := t.checkedAt.Load()
	if now.Sub(time.Unix(0, checked)) < ts.versionCheck {
		return true
	}
	if !t.checkedAt.CompareAndSwap(checked, now.UnixNano()) {
		return true // another request is reading the stamp
	}
	ctx, cancel := context.WithTimeout(ctx, versionCheckTimeout)
	defer cancel()
	ctx, _ = storage.WithOutageNote(ctx) // a stamp unread is not the request's failure
	v, err := ts.stores.InstitutionVersion(ctx, t.inst.ID)
	if errors.Is(err, storage.ErrUnavailable) {
		return true
	}
	return err == nil && v == t.inst.Version
}

// build makes an institution's provider: its keys (created on first use),
// its fosite configuration and handlers.
func (ts *tenants) build(ctx context.Context, inst *storage.Institution) (*tenant, error) {
	if _, err := keys.Ensure(ctx, ts.stores, ts.sealer, inst.ID); err != nil {
		return nil, err
	}
	// Ensure may have raised the version (here or in a replica racing it):
	// read the institution after it, so this build is of the current version.
	inst, err := ts.stores.GetInstitution(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	records := ts.stores.In(inst.ID)
	set, err := keys.Load(ctx, records, ts.sealer, inst.ID)
	if err != nil {
		return nil, err
	}
	t := &tenant{
		inst:      inst,
		issuer:    issuer.URL(ts.publicURL, inst.Slug),
		keys:      set,
		resumeKey: seal.Derive(ts.master, "resume/"+inst.ID, 32),
		records:   records,
		store:     newFositeStore(records, ts.stores.Transactor, ts.life, ts.now, ts.successors),
	}
	t.oauth2 = ts.compose(t, seal.Derive(ts.master, "token-hmac/"+inst.ID, 32))
	for _, h := range t.oauth2.Config.GetTokenEndpointHandlers(ctx) {
		if cc, ok := h.(*oauth2.ClientCredentialsGrantHandler); ok {
			t.clientCredentials = cc
		}
	}
	if t.discovery, err = discoveryDocument(t); err != nil {
		return nil, err
	}
	if t.jwks, err = jsonBytes(set.JWKS()); err != nil {
		return nil, err
	}
	t.checkedAt.Store(ts.now().UnixNano())
	return t, nil
}

// compose builds the fosite provider: one Config per institution (compose
// appends its handlers into the Config), every lazily defaulted strategy set
// up front (fosite writes defaults into the Config on first use: a data
// race), handlers in the order replay detection needs.
func (ts *tenants) compose(t *tenant, hmacKey []byte) *fosite.Fosite {
	cfg := &fosite.Config{
		GlobalSecret:                   hmacKey,
		AuthorizeCodeLifespan:          ts.life.Code,
		AccessTokenLifespan:            ts.life.Access,
		IDTokenLifespan:                ts.life.IDToken,
		RefreshTokenLifespan:           ts.life.Refresh,
		IDTokenIssuer:                  t.issuer,
		AccessTokenIssuer:              t.issuer,
		TokenURL:                       t.issuer + tokenPath,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.ExactAudienceMatchingStrategy,
		ClientSecretsHasher:            secretHasher{},
		JWKSFetcherStrategy:            fosite.NewDefaultJWKSFetcherStrategy(),
		EnforcePKCE:                    false, // per client, checked at the authorization endpoint
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		MinParameterEntropy:            fosite.MinParameterEntropy,
		SendDebugMessagesToClients:     false,
		OmitRedirectScopeParam:         true,
	}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               &tokenStrategy{HMACSHAStrategy: compose.NewOAuth2HMACStrategy(cfg), t: t},
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: t.keys.Signer(), Config: cfg},
		Signer:                     t.keys.Signer(),
	}
	return compose.Compose(cfg, t.store, strategy,
		compose.OAuth2AuthorizeExplicitFactory, // first: code replay is detected before PKCE deletes its record
		compose.OAuth2PKCEFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	).(*fosite.Fosite)
}
