package provider

import (
	"context"
	"time"

	"github.com/usher-idp/usher/storage"
)

// Institutions is what the provider uses of the institutions themselves:
// finding one by its issuer's slug, the version stamp its cache checks, the
// list scheduled key rotation walks, and the version raise (taking the
// institution's row lock) that a key change makes.
type Institutions interface {
	GetInstitution(ctx context.Context, id string) (*storage.Institution, error)
	GetInstitutionBySlug(ctx context.Context, slug string) (*storage.Institution, error)
	InstitutionVersion(ctx context.Context, id string) (int64, error)
	ListInstitutions(ctx context.Context) ([]storage.Institution, error)
	TouchInstitution(ctx context.Context, id string) error
}

// InstitutionStore is what the provider uses of one institution's records:
// the grants fosite keeps, the signing keys, the accounts and consents that
// the authorization and userinfo endpoints read, and the audit trail where
// the token endpoint records signs of theft.
type InstitutionStore interface {
	GrantStore
	storage.KeyStore
	RecordAudit(ctx context.Context, e *storage.AuditEvent) error
	GetAccount(ctx context.Context, id string) (*storage.Account, error)
	GetConsent(ctx context.Context, accountID, clientID string) (*storage.Consent, error)
}

// GrantStore is what fosite's storage adapter uses of one institution's
// records: its clients, the records of codes and tokens, and the JWT IDs
// already seen.
type GrantStore interface {
	GetClient(ctx context.Context, id string) (*storage.Client, error)
	CreateOAuth2(ctx context.Context, r *storage.OAuth2Record) error
	CreateOAuth2s(ctx context.Context, rs []*storage.OAuth2Record) error
	GetOAuth2(ctx context.Context, kind storage.OAuth2Kind, signature string) (*storage.OAuth2Record, error)
	GetOAuth2Code(ctx context.Context, signature string) ([]*storage.OAuth2Record, error)
	RedeemOAuth2(ctx context.Context, kind storage.OAuth2Kind, signature, access string, rs []*storage.OAuth2Record) error
	DeleteOAuth2(ctx context.Context, kind storage.OAuth2Kind, signature string) error
	RevokeOAuth2Family(ctx context.Context, kind storage.OAuth2Kind, requestID string) (int, error)
	CheckJTI(ctx context.Context, jti string) error
	UseJTI(ctx context.Context, jti string, expiresAt time.Time) error
}

// stores are the provider's stores together, as package keys takes them.
type stores struct {
	storage.Transactor
	Institutions
	in func(institutionID string) InstitutionStore
}

func (s stores) In(institutionID string) InstitutionStore { return s.in(institutionID) }
