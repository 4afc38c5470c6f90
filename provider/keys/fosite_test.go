package keys_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/usher-idp/usher/provider/keys"
)

// idTokenRequest is a code exchange for subject, whose session header names
// kid, with the given form values.
func idTokenRequest(subject, kid string, form url.Values) fosite.Requester {
	now := time.Now().UTC()
	sess := &openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{Subject: subject, AuthTime: now.Add(-time.Minute), RequestedAt: now.Add(-time.Minute)},
		Headers: jwt.NewHeaders(),
	}
	if kid != "" {
		sess.Headers.Add("kid", kid)
	}
	req := fosite.NewAccessRequest(sess)
	req.Client = &fosite.DefaultClient{ID: "shop"}
	form.Set("grant_type", "authorization_code")
	req.Form = form
	return req
}

// TestFositeOpenIDStrategy runs the Signer inside fosite's own ID token
// strategy: the session header's kid picks the algorithm, and an expired
// id_token_hint of the subject is accepted while a forged one is not.
func TestFositeOpenIDStrategy(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		set := e.load()
		strategy := openid.DefaultStrategy{Signer: set.Signer(), Config: &fosite.Config{
			IDTokenIssuer: "https://id.example.org/institutions/opera", IDTokenLifespan: time.Hour, MinParameterEntropy: 8,
		}}
		ctx := context.Background()
		es := current(t, set, keys.ES256)
		token, err := strategy.GenerateIDToken(ctx, time.Hour, idTokenRequest("ann", es, url.Values{}))
		must(t, "ES256 ID token", err)
		if alg, kid := header(t, token); alg != "ES256" || kid != es {
			t.Errorf("ID token signed %s with %s, want ES256 with %s", alg, kid, es)
		}
		if err := verifyWithJWKS(set.JWKS(), token); err != nil {
			t.Errorf("ID token does not verify with the JWKS: %v", err)
		}
		token, err = strategy.GenerateIDToken(ctx, time.Hour, idTokenRequest("ann", "", url.Values{}))
		must(t, "default ID token", err)
		if alg, _ := header(t, token); alg != "RS256" {
			t.Errorf("ID token without a kid signed %s, want RS256", alg)
		}
		claims := idClaims(-time.Hour)
		claims["sub"] = "ann"
		expiredHint := sign(t, set, es, claims)
		hinted := url.Values{"id_token_hint": {expiredHint}, "prompt": {"none"}}
		if _, err := strategy.GenerateIDToken(ctx, time.Hour, idTokenRequest("ann", "", hinted)); err != nil {
			t.Errorf("an expired id_token_hint of the subject is refused: %v", err)
		}
		forged := url.Values{"id_token_hint": {tamper(expiredHint)}, "prompt": {"none"}}
		if _, err := strategy.GenerateIDToken(ctx, time.Hour, idTokenRequest("ann", "", forged)); err == nil {
			t.Error("a tampered id_token_hint is accepted")
		}
	})
}
