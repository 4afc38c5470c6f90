package flows

import (
	"context"
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// AccountsStore is what managing accounts needs of an institution's records.
type AccountsStore interface {
	AccountGetter
	LinkStore
	clientGetter
	clientLister
	throttleResetter
	storage.AuditStore
	CreateAccount(ctx context.Context, a *storage.Account) error
	ListAccounts(ctx context.Context, f storage.AccountFilter) ([]storage.Account, error)
	UpdateAccount(ctx context.Context, a *storage.Account) error
	ResetSignInFailures(ctx context.Context, id string) error
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte) error
	DeleteAccountSessions(ctx context.Context, accountID, exceptID string) (int, error)
	RevokeOAuth2Subject(ctx context.Context, subject string) (int, error)
	InvalidateActionTokens(ctx context.Context, accountID string, purpose storage.ActionPurpose) (int, error)
}

// Accounts is how the service team (on the command line) and operators
// (through the admin API) manage accounts: create and find them, set their
// passwords or email them a reset link, disable and enable them, lift a
// lock, require or remove the second factor. The password policy holds for
// them as for everyone; every change is recorded with its actor.
type Accounts struct {
	In      func(institutionID string) AccountsStore
	Tx      storage.Transactor
	Hasher  *password.Hasher
	Policy  *password.Checker
	Now     func() time.Time
	Locales func(tag string) string // the supported locale matching a tag, or ""
	Mailer  Mailer                  // nil sends nothing (commands that never email)
	// PublicURL is where emailed links point (https://id.example.org).
	PublicURL string
	// ThrottleKey is the sign-in pages' Site.ThrottleKey: Unlock forgets
	// the throttles of the account's email.
	ThrottleKey []byte
}

// Mailer queues an email in the transaction ctx carries: the outbox of
// flows/mail, wired in cmd/usher. QueueDocument renders the institution's
// named document of the class ("" the default; mail.ErrUnknownDocument for
// a name it does not have).
type Mailer interface {
	Queue(ctx context.Context, inst *storage.Institution, to mail.Recipient, doc templates.Email) (*storage.OutboxEmail, error)
	QueueDocument(ctx context.Context, inst *storage.Institution, to mail.Recipient, doc templates.Email,
		document string) (*storage.OutboxEmail, error)
}

// NewAccount describes an account to create.
type NewAccount struct {
	Kind          storage.AccountKind
	Email         string
	GivenName     string
	FamilyName    string
	Locale        string
	ExternalRef   string // the box office's reference for the person; "" none
	Password      string // "" creates an account without password (pending)
	EmailVerified bool
}

// trim drops the spaces around what is compared: the email and the
// external reference.
func (n *NewAccount) trim() {
	n.Email, n.ExternalRef = strings.TrimSpace(n.Email), strings.TrimSpace(n.ExternalRef)
}

// Create validates n, hashes its password and stores the account with an
// audit event, atomically. An account with a password is active; one
// without stays pending until it gets one. A taken email is refused input;
// a taken external reference a ConflictError.
func (x *Accounts) Create(ctx context.Context, inst *storage.Institution, n NewAccount, actor Actor) (*storage.Account, error) {
	n.trim()
	var v invalid
	x.checkAccount(&v, n)
	if n.Password != "" {
		x.checkPassword(&v, inst, n.Password, n.Email)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	a := newAccount(inst, n)
	if n.Password != "" {
		hash, err := x.Hasher.Hash(ctx, n.Password)
		if err != nil {
			return nil, fmt.Errorf("create account: %w", err)
		}
		now := x.Now()
		a.PasswordHash, a.PasswordChangedAt, a.Status = hash, &now, storage.Active
	}
	err := x.Tx.InTx(ctx, func(ctx context.Context) error { return x.store(ctx, x.In(inst.ID), a, actor) })
	if err := takenError(err); err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

// newAccount is the pending account of n: an operator created while the
// institution's two-factor switch is on must use a second factor.
func newAccount(inst *storage.Institution, n NewAccount) *storage.Account {
	return &storage.Account{
		Kind: n.Kind, Email: n.Email, EmailVerified: n.EmailVerified, GivenName: n.GivenName,
		FamilyName: n.FamilyName, Locale: n.Locale, ExternalRef: n.ExternalRef, Status: storage.Pending,
		TwoFactorRequired: n.Kind == storage.Operator && inst.Settings.TwoFactor,
	}
}

// store stores a new account and records its creation, in the transaction
// of ctx.
func (x *Accounts) store(ctx context.Context, s AccountsStore, a *storage.Account, actor Actor) error {
	if err := s.CreateAccount(ctx, a); err != nil {
		return err
	}
	return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: a.ID, Actor: string(actor), Action: "account_created",
		Details: storage.Details{"kind": string(a.Kind), "status": string(a.Status)}})
}

func (x *Accounts) checkAccount(v *invalid, n NewAccount) {
	if !n.Kind.Valid() {
		v.add("kind", "account.kind_invalid", nil)
	}
	if !ValidEmail(n.Email) {
		v.add("email", "account.email_invalid", nil)
	}
	if len(n.GivenName) > 200 {
		v.add("given_name", "account.name_too_long", nil)
	}
	if len(n.FamilyName) > 200 {
		v.add("family_name", "account.name_too_long", nil)
	}
	if n.Locale != "" && (x.Locales == nil || x.Locales(n.Locale) == "") {
		v.add("locale", "account.locale_invalid", nil)
	}
	checkExternalRef(v, n.ExternalRef)
}

// checkPassword adds a problem for every rule of the institution's policy
// that pw fails.
func (x *Accounts) checkPassword(v *invalid, inst *storage.Institution, pw, email string) {
	local, _, _ := strings.Cut(email, "@")
	for _, id := range x.Policy.Check(inst.Settings.Password, pw, email, local) {
		v.add("password", id, map[string]string{"min_length": strconv.Itoa(password.MinLength(inst.Settings.Password))})
	}
}

// ValidEmail reports whether s is a bare address (no display name) of at most
// 254 bytes with a domain part.
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	addr, err := netmail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	_, domain, ok := strings.Cut(s, "@")
	return ok && domain != "" && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// SetPassword gives the account a new password chosen by someone else. A
// temporary one stops working after the institution's temporary-password
// lifetime and must be changed at the next sign-in. The account's browser
// sessions and grants end, its pending links die, and a lock is lifted.
func (x *Accounts) SetPassword(ctx context.Context, inst *storage.Institution, accountID, pw string, temporary bool, actor Actor) error {
	s := x.In(inst.ID)
	a, err := s.GetAccount(ctx, accountID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	var v invalid
	x.checkPassword(&v, inst, pw, a.Email)
	if err := v.err(); err != nil {
		return err
	}
	hash, err := x.Hasher.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	now := x.Now()
	a.PasswordHash, a.PasswordChangedAt = hash, &now
	a.PasswordExpiresAt, a.MustChangePassword = nil, temporary
	if temporary {
		expires := now.Add(inst.Settings.TemporaryPasswordTTL.Std())
		a.PasswordExpiresAt = &expires
	}
	if a.Status == storage.Pending {
		a.Status = storage.Active
	}
	return x.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.UpdateAccount(ctx, a); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := endAccess(ctx, s, a.ID); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := s.RecordAudit(ctx, &storage.AuditEvent{AccountID: a.ID, Actor: string(actor), Action: "password_set",
			Details: storage.Details{"temporary": strconv.FormatBool(temporary)}}); err != nil {
			return err
		}
		return x.queuePasswordChanged(ctx, inst, a, now, temporary)
	})
}

// SetManualPassword is SetPassword by an operator: only where the
// institution allows operators to type a customer's password
// (ErrManualPasswordOff otherwise).
func (x *Accounts) SetManualPassword(ctx context.Context, inst *storage.Institution, accountID, pw string, temporary bool, actor Actor) error {
	if !inst.Settings.ManualPassword {
		return ErrManualPasswordOff
	}
	return x.SetPassword(ctx, inst, accountID, pw, temporary, actor)
}

// queuePasswordChanged tells the account holder that someone else set their
// password (the email is queued with the change, or neither happens).
func (x *Accounts) queuePasswordChanged(ctx context.Context, inst *storage.Institution, a *storage.Account, at time.Time, temporary bool) error {
	if x.Mailer == nil {
		return nil
	}
	doc := templates.PasswordChangedEmail{At: at, Temporary: temporary}
	if temporary {
		doc.ValidFor = inst.Settings.TemporaryPasswordTTL.Std()
	}
	if _, err := x.Mailer.Queue(ctx, inst, mail.To(a), doc); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// endAccess ends everything that let the account in: browser sessions,
// tokens, pending links, a lock.
func endAccess(ctx context.Context, s AccountsStore, accountID string) error {
	if _, err := s.DeleteAccountSessions(ctx, accountID, ""); err != nil {
		return err
	}
	if _, err := s.RevokeOAuth2Subject(ctx, accountID); err != nil {
		return err
	}
	if _, err := s.InvalidateActionTokens(ctx, accountID, ""); err != nil {
		return err
	}
	return s.ResetSignInFailures(ctx, accountID)
}

// Unlock lifts a lockout and clears the failure count: the account's
// mirror and the sign-in throttles of its kind and email (the failures, the
// lock and the attempt keys of bruteforce.go; the source addresses' counts
// stay, they are not the account's).
func (x *Accounts) Unlock(ctx context.Context, inst *storage.Institution, accountID string, actor Actor) error {
	return x.Tx.InTx(ctx, func(ctx context.Context) error {
		s := x.In(inst.ID)
		a, err := s.GetAccount(ctx, accountID)
		if err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		if err := s.ResetSignInFailures(ctx, accountID); err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		if err := resetSignInKeys(ctx, s, x.ThrottleKey, inst, a.Kind, a.Email); err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: accountID, Actor: string(actor), Action: "account_unlocked"})
	})
}
