package provider

import (
	"context"
	"errors"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// Grants follow the account: a code, a refresh and an introspection check
// that the account a grant was made to is still active, and a customer's
// grant never carries the admin API's scopes, whatever it asked for.

// errAccountGone: the account of a grant no longer exists or is not active,
// so its tokens are worth nothing.
var errAccountGone = errors.New("the account of this grant no longer exists or is not active")

// holder returns the active account a grant was made to, nil for a
// client's own grant (client credentials: the client is the subject), or
// errAccountGone.
func holder(ctx context.Context, t *tenant, sess *session) (*storage.Account, error) {
	if sess.Subject == sess.ClientID {
		return nil, nil
	}
	acct, err := t.records.GetAccount(ctx, sess.Subject)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && acct.Status != storage.Active) {
		return nil, errAccountGone
	}
	return acct, err
}

// mayHold reports whether a grant to acct (nil: a client's own) may carry
// scope: the admin API's scopes go to operators and clients only.
func mayHold(acct *storage.Account, scope string) bool {
	return acct == nil || acct.Kind == storage.Operator || !issuer.AdminScope(scope)
}

// heldScopes are the scopes of granted that acct may hold.
func heldScopes(acct *storage.Account, granted []string) []string {
	held := make([]string, 0, len(granted))
	for _, s := range granted {
		if mayHold(acct, s) {
			held = append(held, s)
		}
	}
	return held
}

// grantScopes grants an authorization request the scopes it asked for
// (fosite checked that the client may ask for them) that the signed-in
// account may hold (acct is never nil here: a code is issued to an account).
func grantScopes(ar fosite.AuthorizeRequester, acct *storage.Account) {
	for _, s := range heldScopes(acct, ar.GetRequestedScopes()) {
		ar.GrantScope(s)
	}
}

// followAccount checks a refresh: the account must still be active
// (invalid_grant otherwise), and the refreshed grant keeps only the scopes
// the account may hold.
func followAccount(ctx context.Context, t *tenant, ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	acct, err := holder(ctx, t, sess)
	if errors.Is(err, errAccountGone) {
		return fosite.ErrInvalidGrant.WithHint("The account of this grant no longer exists or is disabled.")
	}
	if err != nil {
		return err
	}
	if req, ok := ar.(*fosite.AccessRequest); ok {
		req.GrantedScope = heldScopes(acct, req.GrantedScope)
	}
	return nil
}
