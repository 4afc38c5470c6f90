package main

import "github.com/usher-idp/usher/provider"

// ConfigTokens are the lifetimes of what the token endpoint issues.
type ConfigTokens struct {
	AccessTTL    configDuration `yaml:"access_ttl"`     // access tokens
	JWTAccessTTL configDuration `yaml:"jwt_access_ttl"` // JWT access tokens (clients registered for them)
	IDTokenTTL   configDuration `yaml:"id_token_ttl"`   // ID tokens
	RefreshTTL   configDuration `yaml:"refresh_ttl"`    // refresh tokens, renewed at each use
	RefreshGrace configDuration `yaml:"refresh_grace"`  // a rotated refresh token still works this long; 0 is strict
	GrantTTL     configDuration `yaml:"grant_ttl"`      // a grant's refresh tokens end this long after the sign-in
}

// ConfigKeys is the scheduled rotation of the institutions' signing keys.
type ConfigKeys struct {
	RotateEvery configDuration `yaml:"rotate_every"` // 0 disables scheduled rotation
}

// lifespans turns the token settings into the provider's, where a zero grace
// means the default and a negative one strict rotation.
func (c Config) lifespans() provider.Lifespans {
	grace := c.Tokens.RefreshGrace.Duration()
	if grace == 0 {
		grace = -1
	}
	return provider.Lifespans{Access: c.Tokens.AccessTTL.Duration(), JWTAccess: c.Tokens.JWTAccessTTL.Duration(),
		IDToken: c.Tokens.IDTokenTTL.Duration(),
		Refresh: c.Tokens.RefreshTTL.Duration(), RefreshGrace: grace, Grant: c.Tokens.GrantTTL.Duration()}
}
