package issuer

import "time"

// SignedIn is who is signed in at an institution in a browser: what the
// pages' browser sessions tell the authorization endpoint.
type SignedIn struct {
	// SessionID identifies the browser session (the ID token's sid is
	// derived from it); it is the stored hash, never the cookie.
	SessionID string
	AccountID string
	AuthTime  time.Time // when the account last authenticated
	Methods   []string  // the methods it used, RFC 8176: "pwd", "otp"
}
