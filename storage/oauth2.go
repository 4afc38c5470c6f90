package storage

import (
	"context"
	"time"
)

// OAuth2Kind is the kind of an OAuth2 record.
type OAuth2Kind string

// OAuth2 record kinds, as the protocol layer needs them.
const (
	KindCode    OAuth2Kind = "code"    // authorization code
	KindAccess  OAuth2Kind = "access"  // access token
	KindRefresh OAuth2Kind = "refresh" // refresh token
	KindPKCE    OAuth2Kind = "pkce"    // code challenge of an authorization code
	KindOIDC    OAuth2Kind = "oidc"    // OpenID Connect request of an authorization code
	// KindSuccessor is what the rotation of a refresh token answered, kept
	// under the rotated token's signature for the grace period: Session
	// holds the answer sealed by the protocol layer, AccessSignature the
	// signature of the refresh token it issued.
	KindSuccessor OAuth2Kind = "successor"
)

// OAuth2Record is one issued code or token, or a request record attached to
// a code. It is keyed by kind and a hash of the token signature (computed by
// the protocol layer; the token itself is never stored). Records of one grant
// share RequestID: that is the token family that reuse detection revokes.
type OAuth2Record struct {
	Kind              OAuth2Kind `db:"kind"`
	Signature         string     `db:"signature"` // hash of the token signature
	InstitutionID     string     `db:"institution_id"`
	RequestID         string     `db:"request_id"`
	RequestedAt       time.Time  `db:"requested_at"`
	ClientID          string     `db:"client_id"`
	Subject           string     `db:"subject"` // account ID, or client ID for client credentials
	RequestedScopes   List       `db:"requested_scopes"`
	GrantedScopes     List       `db:"granted_scopes"`
	RequestedAudience List       `db:"requested_audience"`
	GrantedAudience   List       `db:"granted_audience"`
	Form              string     `db:"form"`             // the sanitised request form, URL-encoded
	Session           []byte     `db:"session"`          // the protocol session, encoded by its owner
	AccessSignature   string     `db:"access_signature"` // refresh tokens: the access token issued with it
	Active            bool       `db:"active"`
	ExpiresAt         time.Time  `db:"expires_at"`
	UsedAt            *time.Time `db:"used_at"` // when it was redeemed or rotated
}

// OAuth2Store keeps an institution's codes and tokens.
type OAuth2Store interface {
	// CreateOAuth2 stores r (Active as given). ErrDuplicate when a record of
	// that kind and signature exists.
	CreateOAuth2(ctx context.Context, r *OAuth2Record) error
	// CreateOAuth2s stores the records with one statement, all or none, as
	// CreateOAuth2 would one by one: ErrDuplicate when one of them exists
	// (a transaction on PostgreSQL is then aborted: roll it back).
	CreateOAuth2s(ctx context.Context, rs []*OAuth2Record) error
	// GetOAuth2 returns the record, active or not, or ErrNotFound.
	GetOAuth2(ctx context.Context, kind OAuth2Kind, signature string) (*OAuth2Record, error)
	// GetOAuth2Code returns the code with this signature, active or not,
	// together with the records stored for the same authorization: its PKCE
	// record (the code's signature) and its OpenID Connect record (the
	// code's request ID), those that exist, in no particular order; one
	// statement for what the token endpoint reads of a code. ErrNotFound
	// when there is no such code.
	GetOAuth2Code(ctx context.Context, signature string) ([]*OAuth2Record, error)
	// DeactivateOAuth2 marks an active record used: inactive, with UsedAt set
	// (a code redeemed, a refresh token rotated). Of concurrent calls exactly
	// one succeeds; the others, and any call on an inactive record, get
	// ErrAlreadyUsed. ErrNotFound when missing.
	DeactivateOAuth2(ctx context.Context, kind OAuth2Kind, signature string) error
	// RedeemOAuth2 is the token endpoint's write, all or nothing: it
	// deactivates the record as DeactivateOAuth2 does, with its errors;
	// deletes the access token whose signature is access (a rotated refresh
	// token ends the access token issued with it; a missing one is no
	// error, "" names none); and stores rs as CreateOAuth2s does. One
	// statement on PostgreSQL; on SQLite one transaction, the caller's when
	// it has one.
	RedeemOAuth2(ctx context.Context, kind OAuth2Kind, signature, access string, rs []*OAuth2Record) error
	// DeleteOAuth2 removes the record; ErrNotFound when missing.
	DeleteOAuth2(ctx context.Context, kind OAuth2Kind, signature string) error
	// RevokeOAuth2Family deletes every record of this kind and request ID (a
	// revoked token family) and returns how many it deleted. Revocation
	// deletes rather than deactivates, so that an inactive record always
	// means "used", never "revoked".
	RevokeOAuth2Family(ctx context.Context, kind OAuth2Kind, requestID string) (int, error)
	// RevokeOAuth2Subject deletes every code, access token, refresh token and
	// successor of the subject (a password reset ends the account's grants) and
	// returns how many it deleted.
	RevokeOAuth2Subject(ctx context.Context, subject string) (int, error)

	// CheckJTI returns ErrAlreadyUsed when the JWT ID was recorded and has not
	// expired yet.
	CheckJTI(ctx context.Context, jti string) error
	// UseJTI records a JWT ID until it expires; ErrAlreadyUsed when it is
	// already recorded and unexpired. Of concurrent calls one succeeds.
	UseJTI(ctx context.Context, jti string, expiresAt time.Time) error
}
