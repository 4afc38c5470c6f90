package storagetest

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

// zone is a location other than UTC: records written with it must read back
// as the same instants, in UTC.
var zone = time.FixedZone("UTC+2", 2*60*60)

// odd returns t shifted into zone with nanoseconds a backend must truncate.
func odd(t time.Time) time.Time { return t.In(zone).Add(789 * time.Nanosecond) }

// hash is the SHA-256 of s, as links and codes are stored.
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// institution creates an institution with default settings.
func (e *env) institution(slug string) *storage.Institution {
	e.t.Helper()
	inst := &storage.Institution{Slug: slug, Name: "Institution " + slug, Settings: storage.DefaultSettings()}
	must(e.t, "create institution "+slug, e.store.CreateInstitution(e.ctx, inst))
	return inst
}

// scope creates an institution and returns its view.
func (e *env) scope(slug string) (storage.Scoped, *storage.Institution) {
	e.t.Helper()
	inst := e.institution(slug)
	return e.store.In(inst.ID), inst
}

// account creates an active account with only the required fields set.
func (e *env) account(s storage.Scoped, kind storage.AccountKind, email string) *storage.Account {
	e.t.Helper()
	a := &storage.Account{Kind: kind, Email: email, Status: storage.Active}
	must(e.t, "create account "+email, s.CreateAccount(e.ctx, a))
	return a
}

// fullAccount is an account with every field the caller may set non-zero.
func (e *env) fullAccount(email string) *storage.Account {
	now := e.clock.Now()
	return &storage.Account{
		Kind:               storage.Operator,
		Email:              email,
		EmailVerified:      true,
		GivenName:          "Ann",
		FamilyName:         "Lee",
		Locale:             "fr-CH",
		ExternalRef:        "C-1042",
		Status:             storage.Disabled,
		PasswordHash:       "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		PasswordChangedAt:  ptr(odd(now.Add(-time.Hour))),
		PasswordExpiresAt:  ptr(odd(now.Add(30 * time.Minute))),
		MustChangePassword: true,
		TwoFactorRequired:  true,
		TOTPSecret:         []byte("sealed-totp-secret"),
		TOTPConfirmedAt:    ptr(odd(now.Add(-2 * time.Hour))),
		TOTPLastStep:       12345,
		FailedSignIns:      3,
		LastFailedSignIn:   ptr(odd(now.Add(-time.Minute))),
		LockedUntil:        ptr(odd(now.Add(15 * time.Minute))),
	}
}

// fullClient is a client with every field the caller may set non-zero.
func fullClient(id string) *storage.Client {
	return &storage.Client{
		ID:                     id,
		Name:                   "Shop " + id,
		SecretHash:             "$argon2id$secret",
		Public:                 true,
		AccountKind:            storage.Operator,
		RedirectURIs:           storage.List{"https://shop.example/cb", "https://shop.example/cb2"},
		PostLogoutRedirectURIs: storage.List{"https://shop.example/bye"},
		GrantTypes:             storage.List{"authorization_code", "refresh_token"},
		Scopes:                 storage.List{"openid", "email", "profile", "offline_access"},
		FirstParty:             true,
		RequireTwoFactor:       true,
		RequirePKCE:            true,
		Introspection:          true,
		PointOfSale:            true,
		HomeURL:                "https://shop.example/",
		InitiateLoginURI:       "https://shop.example/login",
		IDTokenAlg:             "ES256",
		AccessTokenFormat:      storage.AccessTokenJWT,
		Audiences:              storage.List{"https://api.shop.example", "https://tickets.example"},
	}
}

// actionToken creates a link for the account, valid for ttl.
func (e *env) actionToken(s storage.Scoped, accountID string, p storage.ActionPurpose, secret string, ttl time.Duration) *storage.ActionToken {
	e.t.Helper()
	tok := &storage.ActionToken{
		AccountID:   accountID,
		Purpose:     p,
		SecretHash:  hash(secret),
		PointOfSale: "shop",
		ExpiresAt:   e.clock.Now().Add(ttl),
	}
	must(e.t, "create action token", s.CreateActionToken(e.ctx, tok))
	return tok
}

// session saves a signed-in session of the account, valid for ttl.
func (e *env) session(s storage.Scoped, id, accountID string, ttl time.Duration) *storage.BrowserSession {
	e.t.Helper()
	bs := &storage.BrowserSession{
		ID:        id,
		AccountID: accountID,
		Data:      []byte(`{"flow":"sign-in"}`),
		ExpiresAt: odd(e.clock.Now().Add(ttl)),
	}
	must(e.t, "save session "+id, s.SaveSession(e.ctx, bs))
	return bs
}

// oauth2Record is a record with every field the caller may set non-zero.
func (e *env) oauth2Record(kind storage.OAuth2Kind, sig, requestID, subject string, ttl time.Duration) *storage.OAuth2Record {
	now := e.clock.Now()
	return &storage.OAuth2Record{
		Kind:              kind,
		Signature:         sig,
		RequestID:         requestID,
		RequestedAt:       odd(now.Add(-time.Second)),
		ClientID:          "shop",
		Subject:           subject,
		RequestedScopes:   storage.List{"openid", "email", "offline_access"},
		GrantedScopes:     storage.List{"openid", "email"},
		RequestedAudience: storage.List{"https://api.example"},
		GrantedAudience:   storage.List{"https://api.example"},
		Form:              "redirect_uri=https%3A%2F%2Fshop.example%2Fcb&state=xyz",
		Session:           []byte(`{"subject":"` + subject + `"}`),
		AccessSignature:   "access-of-" + sig,
		Active:            true,
		ExpiresAt:         odd(now.Add(ttl)),
	}
}

// createOAuth2 creates r in s.
func (e *env) createOAuth2(s storage.Scoped, r *storage.OAuth2Record) {
	e.t.Helper()
	must(e.t, fmt.Sprintf("create %s %s", r.Kind, r.Signature), s.CreateOAuth2(e.ctx, r))
}

// signingKey is a key in state next.
func signingKey(id string) *storage.SigningKey {
	return &storage.SigningKey{
		ID:         id,
		Algorithm:  "ES256",
		State:      storage.KeyNext,
		PrivateKey: []byte("sealed-private-" + id),
		PublicKey:  []byte(`{"kid":"` + id + `","kty":"EC"}`),
	}
}

// email is an email with every field the caller may set non-zero.
func email(accountID, subject string) *storage.OutboxEmail {
	return &storage.OutboxEmail{
		AccountID: accountID,
		Class:     "password_reset",
		Locale:    "de",
		Recipient: "ann@example.org",
		Sender:    "Theatre <noreply@theatre.example>",
		Subject:   subject,
		TextBody:  "Reset your password: https://usher.example/r/…",
		HTMLBody:  "<p>Reset your password</p>",
		Content:   []byte("\x01sealed by the outbox\x00\xff"),
	}
}

// enqueue queues an email due now in s.
func (e *env) enqueue(s storage.Scoped, subject string) *storage.OutboxEmail {
	e.t.Helper()
	m := email("", subject)
	must(e.t, "enqueue "+subject, s.EnqueueEmail(e.ctx, m))
	return m
}
