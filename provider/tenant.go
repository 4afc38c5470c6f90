package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"

	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// errNoInstitution: the path names no institution.
var errNoInstitution = errors.New("no such institution")

// tenant is one institution's provider, as built for one version of it.
type tenant struct {
	inst      *storage.Institution
	issuer    string
	oauth2    *fosite.Fosite
	store     *fositeStore
	keys      *keys.Set
	resumeKey []byte
	discovery []byte // the discovery document, encoded once
	jwks      []byte // the public keys, encoded once
	checkedAt atomic.Int64
}

// tenantFor returns the provider of the institution named in the request's
// path, building or rebuilding it when needed.
func (p *Provider) tenantFor(r *http.Request) (*tenant, error) {
	return p.tenant(r.Context(), r.PathValue("slug"))
}

func (p *Provider) tenant(ctx context.Context, slug string) (*tenant, error) {
	p.mu.RLock()
	t := p.tenants[slug]
	p.mu.RUnlock()
	if t != nil && p.current(ctx, t) {
		return t, nil
	}
	p.buildMu.Lock()
	defer p.buildMu.Unlock()
	p.mu.RLock()
	again := p.tenants[slug]
	p.mu.RUnlock()
	if again != nil && again != t && p.current(ctx, again) {
		return again, nil // built by another request meanwhile
	}
	inst, err := p.cfg.Store.GetInstitutionBySlug(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNoInstitution
	}
	if err != nil {
		return nil, err
	}
	built, err := p.build(ctx, inst)
	if err != nil {
		return nil, fmt.Errorf("build provider of %s: %w", slug, err)
	}
	p.mu.Lock()
	p.tenants[slug] = built
	p.mu.Unlock()
	return built, nil
}

// current reports whether t is the institution's current version, reading
// the version stamp at most once per VersionCheck.
func (p *Provider) current(ctx context.Context, t *tenant) bool {
	now := p.cfg.Now()
	if reload := t.keys.ReloadAt(); !reload.IsZero() && !now.Before(reload) {
		return false // a retired key stops being published: rebuild without it
	}
	if now.Sub(time.Unix(0, t.checkedAt.Load())) < p.cfg.VersionCheck {
		return true
	}
	v, err := p.cfg.Store.InstitutionVersion(ctx, t.inst.ID)
	if err != nil || v != t.inst.Version {
		return false
	}
	t.checkedAt.Store(now.UnixNano())
	return true
}

// build makes an institution's provider: its keys (created on first use),
// its fosite configuration and handlers.
func (p *Provider) build(ctx context.Context, inst *storage.Institution) (*tenant, error) {
	if _, err := keys.Ensure(ctx, p.cfg.Store, p.sealer, inst.ID); err != nil {
		return nil, err
	}
	// Ensure may have raised the version (here or in a replica racing it):
	// read the institution after it, so this build is of the current version.
	inst, err := p.cfg.Store.GetInstitution(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	set, err := keys.Load(ctx, p.cfg.Store.In(inst.ID), p.sealer, inst.ID)
	if err != nil {
		return nil, err
	}
	t := &tenant{
		inst:      inst,
		issuer:    p.Issuer(inst.Slug),
		keys:      set,
		resumeKey: seal.Derive(p.cfg.MasterSecret, "resume/"+inst.ID, 32),
		store:     newFositeStore(p.cfg.Store.In(inst.ID), p.cfg.Store, p.life, p.cfg.Now),
	}
	t.oauth2 = p.compose(t, seal.Derive(p.cfg.MasterSecret, "token-hmac/"+inst.ID, 32))
	if t.discovery, err = p.discoveryDocument(t); err != nil {
		return nil, err
	}
	if t.jwks, err = jsonBytes(set.JWKS()); err != nil {
		return nil, err
	}
	t.checkedAt.Store(p.cfg.Now().UnixNano())
	return t, nil
}

// compose builds the fosite provider: one Config per institution (compose
// appends its handlers into the Config), every lazily defaulted strategy set
// up front (fosite writes defaults into the Config on first use: a data
// race), handlers in the order replay detection needs.
func (p *Provider) compose(t *tenant, hmacKey []byte) *fosite.Fosite {
	cfg := &fosite.Config{
		GlobalSecret:                   hmacKey,
		AuthorizeCodeLifespan:          p.life.Code,
		AccessTokenLifespan:            p.life.Access,
		IDTokenLifespan:                p.life.IDToken,
		RefreshTokenLifespan:           p.life.Refresh,
		IDTokenIssuer:                  t.issuer,
		AccessTokenIssuer:              t.issuer,
		TokenURL:                       t.issuer + "/oauth2/token",
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
		CoreStrategy:               compose.NewOAuth2HMACStrategy(cfg),
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
