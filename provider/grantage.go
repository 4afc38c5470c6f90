package provider

import "github.com/ory/fosite"

// capGrant bounds a grant's life by the sign-in it came from: its refresh
// tokens, renewed at each use, end at most that long after the sign-in
// (Lifespans.Grant), and a grant older than that is refused, both by the
// provider's clock. Without it a refresh token used once a month would never
// expire.
func (f *fositeStore) capGrant(ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*session) // on refresh, a clone of the grant's session
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	signedIn := sess.Claims.AuthTime
	if signedIn.IsZero() {
		return nil // a grant without a sign-in: client credentials
	}
	end := signedIn.Add(f.life.Grant)
	if !f.now().Before(end) {
		return fosite.ErrInvalidGrant.WithHint("The grant is older than the institution allows: sign in again.")
	}
	if exp := sess.GetExpiresAt(fosite.RefreshToken); exp.IsZero() || exp.After(end) {
		sess.SetExpiresAt(fosite.RefreshToken, end)
	}
	return nil
}
