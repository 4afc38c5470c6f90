package templates

import "time"

// EmailClass names a kind of email document. Each class has its own typed
// model (below), a subject, a text body and an HTML body, in every locale.
type EmailClass string

// The email document classes.
const (
	ClassAccountActivation EmailClass = "account_activation"  // self-registration: activate the account
	ClassAccountActivated  EmailClass = "account_activated"   // activation was successful
	ClassAccountInvitation EmailClass = "account_invitation"  // an operator created the account: choose a password
	ClassPasswordReset     EmailClass = "password_reset"      // a link to choose a new password
	ClassPasswordResetDone EmailClass = "password_reset_done" // the password was reset with such a link
	ClassPasswordChanged   EmailClass = "password_changed"    // an operator set the password
	ClassTwoFactorEnabled  EmailClass = "two_factor_enabled"  // a TOTP second factor was enrolled
	ClassTwoFactorRemoved  EmailClass = "two_factor_removed"  // the second factor was removed
	// ClassRegistrationExisting tells the owner of an account that someone
	// registered with its address: no second account is made.
	ClassRegistrationExisting EmailClass = "registration_existing"
)

// EmailClasses lists every class, in the order they are documented.
func EmailClasses() []EmailClass {
	return []EmailClass{ClassAccountActivation, ClassAccountActivated, ClassAccountInvitation,
		ClassPasswordReset, ClassPasswordResetDone, ClassPasswordChanged, ClassTwoFactorEnabled,
		ClassTwoFactorRemoved, ClassRegistrationExisting}
}

// Valid reports whether c is a known class.
func (c EmailClass) Valid() bool {
	for _, k := range EmailClasses() {
		if c == k {
			return true
		}
	}
	return false
}

// EmailFrame is what every email knows besides its own fields. The outbox
// fills it when it renders a document: whatever the caller puts there is
// replaced.
type EmailFrame struct {
	Locale         string // the language the email is written in
	Institution    string // the institution's display name
	RecipientName  string // the recipient's full name, "" when unknown
	RecipientEmail string // the recipient's address
	Subject        string // the rendered subject (for the HTML part's title)
	Brand          EmailBrand
}

// EmailBrand is the institution's branding in its HTML emails, the same as
// on its pages (EmailBrandFor): every field may be empty.
type EmailBrand struct {
	LogoURL    string // an absolute https URL (or one of Usher's public URL)
	Accent     string // the accent colour of buttons and links, "#rrggbb"
	AccentText string // the text on the accent colour, "#ffffff" or "#000000"
	LinkColour string // links on white: the accent where it reads (4.5:1), else the default
	SupportURL string // an https link to the institution's help
	FooterText string
}

// Email is a document to send: a value of one of the typed models below.
// Templates see its fields and those of its EmailFrame, e.g. {{.Link}} and
// {{.Institution}}.
type Email interface {
	// Class is the document class of the model.
	Class() EmailClass
	// withFrame returns a copy of the document with its frame replaced.
	withFrame(EmailFrame) Email
}

// AccountActivationEmail asks a person who registered to activate the
// account by opening Link.
type AccountActivationEmail struct {
	EmailFrame
	PointOfSale string        // where the person registered, "" when unknown
	Link        string        // the activation link
	ValidFor    time.Duration // how long the link works
}

// AccountActivatedEmail confirms that the account is active.
type AccountActivatedEmail struct {
	EmailFrame
	PointOfSale    string // where to sign in, "" when unknown
	PointOfSaleURL string // its home page, "" for none
}

// AccountInvitationEmail tells a person that an operator created an account
// for them, and asks them to choose a password by opening Link.
type AccountInvitationEmail struct {
	EmailFrame
	PointOfSale string        // where the account will be used, "" when unknown
	Link        string        // the invitation link
	ValidFor    time.Duration // how long the link works
}

// PasswordResetEmail carries a link to choose a new password.
type PasswordResetEmail struct {
	EmailFrame
	PointOfSale string        // where the person returns after the reset, "" when unknown
	Link        string        // the reset link
	ValidFor    time.Duration // how long the link works
	ByOperator  bool          // an operator asked for it, not the account holder
}

// PasswordResetDoneEmail confirms a password reset.
type PasswordResetDoneEmail struct {
	EmailFrame
	PointOfSale    string    // where to sign in, "" when unknown
	PointOfSaleURL string    // its home page, "" for none
	At             time.Time // when the password was reset
}

// PasswordChangedEmail tells the account holder that an operator set their
// password. The password itself is never sent.
type PasswordChangedEmail struct {
	EmailFrame
	At        time.Time     // when the password was set
	Temporary bool          // it must be changed at the next sign-in
	ValidFor  time.Duration // for a temporary password: how long it works
}

// TwoFactorEnabledEmail confirms that a second factor was enrolled.
type TwoFactorEnabledEmail struct {
	EmailFrame
	At time.Time // when it was enrolled
}

// TwoFactorRemovedEmail tells that the second factor was removed.
type TwoFactorRemovedEmail struct {
	EmailFrame
	At         time.Time // when it was removed
	ByOperator bool      // an operator removed it, not the account holder
}

// RegistrationExistingEmail answers a registration with the address of an
// existing account: sign in, or reset the password.
type RegistrationExistingEmail struct {
	EmailFrame
	PointOfSale string // where the person registered, "" when unknown
	SignInLink  string // the sign-in page
	ResetLink   string // the page that asks for a reset link
}

// Class implements Email.
func (RegistrationExistingEmail) Class() EmailClass { return ClassRegistrationExisting }

// Class implements Email.
func (AccountActivationEmail) Class() EmailClass { return ClassAccountActivation }

// Class implements Email.
func (AccountActivatedEmail) Class() EmailClass { return ClassAccountActivated }

// Class implements Email.
func (AccountInvitationEmail) Class() EmailClass { return ClassAccountInvitation }

// Class implements Email.
func (PasswordResetEmail) Class() EmailClass { return ClassPasswordReset }

// Class implements Email.
func (PasswordResetDoneEmail) Class() EmailClass { return ClassPasswordResetDone }

// Class implements Email.
func (PasswordChangedEmail) Class() EmailClass { return ClassPasswordChanged }

// Class implements Email.
func (TwoFactorEnabledEmail) Class() EmailClass { return ClassTwoFactorEnabled }

// Class implements Email.
func (TwoFactorRemovedEmail) Class() EmailClass { return ClassTwoFactorRemoved }

func (d AccountActivationEmail) withFrame(f EmailFrame) Email { d.EmailFrame = f; return d }
func (d AccountActivatedEmail) withFrame(f EmailFrame) Email  { d.EmailFrame = f; return d }
func (d AccountInvitationEmail) withFrame(f EmailFrame) Email { d.EmailFrame = f; return d }
func (d PasswordResetEmail) withFrame(f EmailFrame) Email     { d.EmailFrame = f; return d }
func (d PasswordResetDoneEmail) withFrame(f EmailFrame) Email { d.EmailFrame = f; return d }
func (d PasswordChangedEmail) withFrame(f EmailFrame) Email   { d.EmailFrame = f; return d }
func (d TwoFactorEnabledEmail) withFrame(f EmailFrame) Email  { d.EmailFrame = f; return d }
func (d TwoFactorRemovedEmail) withFrame(f EmailFrame) Email  { d.EmailFrame = f; return d }
func (d RegistrationExistingEmail) withFrame(f EmailFrame) Email {
	d.EmailFrame = f
	return d
}

// sampleTime is the fixed moment of the sample documents.
var sampleTime = time.Date(2031, time.March, 14, 15, 9, 0, 0, time.UTC)

// SampleEmail returns a document of the class filled with sample values,
// its links under baseURL (such as "https://id.example.org/institutions/opera"):
// what overrides are checked against, and what `usher mail test` sends.
// It returns nil for an unknown class.
func SampleEmail(class EmailClass, baseURL string) Email {
	const pos = "Ticket Shop"
	home := "https://shop.example.org/"
	switch class {
	case ClassAccountActivation:
		return AccountActivationEmail{PointOfSale: pos, Link: baseURL + "/activate?token=SAMPLE", ValidFor: 7 * 24 * time.Hour}
	case ClassAccountActivated:
		return AccountActivatedEmail{PointOfSale: pos, PointOfSaleURL: home}
	case ClassAccountInvitation:
		return AccountInvitationEmail{PointOfSale: pos, Link: baseURL + "/activate?token=SAMPLE", ValidFor: 7 * 24 * time.Hour}
	case ClassPasswordReset:
		return PasswordResetEmail{PointOfSale: pos, Link: baseURL + "/password/reset?token=SAMPLE", ValidFor: 48 * time.Hour}
	case ClassPasswordResetDone:
		return PasswordResetDoneEmail{PointOfSale: pos, PointOfSaleURL: home, At: sampleTime}
	case ClassPasswordChanged:
		return PasswordChangedEmail{At: sampleTime, Temporary: true, ValidFor: time.Hour}
	case ClassTwoFactorEnabled:
		return TwoFactorEnabledEmail{At: sampleTime}
	case ClassRegistrationExisting:
		return RegistrationExistingEmail{PointOfSale: pos, SignInLink: baseURL + "/login", ResetLink: baseURL + "/password/forgot"}
	case ClassTwoFactorRemoved:
		return TwoFactorRemovedEmail{At: sampleTime, ByOperator: true}
	}
	return nil
}
