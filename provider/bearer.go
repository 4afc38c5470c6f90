package provider

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// Verify tells the admin API who presents an access token to institution
// inst: an active, unexpired access token of that institution, issued to a
// client that still exists, either for an active operator's account or for
// the client itself (client credentials). The scopes are those granted
// that the client is still registered for. Anything else, a customer's
// token included, is issuer.ErrInvalidToken.
func (p *Provider) Verify(ctx context.Context, inst *storage.Institution, token string) (*issuer.Caller, error) {
	t, err := p.tenants.get(ctx, inst.Slug)
	if errors.Is(err, errNoInstitution) {
		return nil, issuer.ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	sess := newSession()
	ctx, note := storage.WithOutageNote(ctx)
	use, ar, err := t.introspectToken(ctx, token, fosite.AccessToken, sess)
	if down := note.Err(); down != nil && err != nil {
		return nil, down // the token is not invalid: nobody knows for now
	}
	if err != nil && rfcError(err).CodeField >= http.StatusInternalServerError {
		return nil, err
	}
	if err != nil || use != fosite.AccessToken {
		return nil, issuer.ErrInvalidToken
	}
	acct, err := holder(ctx, t, sess)
	if errors.Is(err, errAccountGone) || (err == nil && acct != nil && acct.Kind != storage.Operator) {
		return nil, issuer.ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	client := ar.GetClient().(fositeClient).c
	c := &issuer.Caller{Kind: issuer.CallerClient, Subject: sess.Subject, ClientID: client.ID}
	if acct != nil {
		c.Kind = issuer.CallerOperator
	}
	for _, s := range heldScopes(acct, ar.GetGrantedScopes()) {
		if slices.Contains(client.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	return c, nil
}
