package templates

import (
	"strconv"
	"strings"
	"time"
)

// Brand is how an institution presents itself on its pages.
type Brand struct {
	Name string // the display name, shown in the header and in messages
	// LogoURL is an https URL, or the path of the logo Usher serves, or ""
	// for none; the logo is decorative (the name is beside it).
	LogoURL string
	// Stylesheet is the URL of a stylesheet carrying the brand colour, or ""
	// for none. The colour cannot be written into the page: the
	// Content-Security-Policy refuses inline styles, so it travels as a
	// stylesheet of its own (see flows, brand.css).
	Stylesheet string
	FaviconURL string // the path of the institution's favicon, "" for Usher's
	SupportURL string // an https link to the institution's help, "" for none
	FooterText string // a line at the foot of every page, "" for none
}

// Frame is what every page needs: its language, the institution's brand,
// and Base, the path under which the institution's pages live
// ("/institutions/opera"); forms post to Base + their path.
type Frame struct {
	Locale string
	Brand  Brand
	Base   string
	// Back is the way back to the application whose request the page
	// belongs to ("Back to Ticket Shop": its registered home page), or nil.
	Back *Link
	// LanguageLinks are links to this page in each language, the request
	// in progress kept; empty for none.
	LanguageLinks []LanguageLink
}

// LanguageLink is the page in one language: its tag, its name in that
// language, and its URL.
type LanguageLink struct {
	Tag, Name, URL string
	Current        bool // the language the page is in
}

// Text is a message of the catalogue with the values it needs.
type Text struct {
	ID   string
	Args map[string]string
}

// Problem is a message about a form field ("" for the whole form).
type Problem struct {
	Field string
	ID    string
	Args  map[string]string
}

// Form is the state every form shares: the authorization request to return
// to, and the problems found with what was sent.
//
// Problems are listed in an element with role="alert" before the form; a
// field with problems gets aria-invalid and aria-describedby pointing at
// them (ids "problem-0", "problem-1", …).
type Form struct {
	ReturnTo string
	Problems []Problem
}

// Invalid reports whether the field has a problem.
func (f Form) Invalid(field string) bool {
	for _, p := range f.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}

// DescribedBy returns the ids of the problems of the field, space-separated.
func (f Form) DescribedBy(field string) string {
	var ids []string
	for i, p := range f.Problems {
		if p.Field == field {
			ids = append(ids, problemAnchor(i))
		}
	}
	return strings.Join(ids, " ")
}

// problemAnchor is the id of the i-th problem's element.
func problemAnchor(i int) string { return "problem-" + strconv.Itoa(i) }

// SignInPage is the email and password form.
type SignInPage struct {
	Frame
	Form
	ClientName string // the application the person signs in to, "" if unknown
	Email      string // pre-filled: login_hint, or what was typed
	// ForgotPassword shows the "Forgot password?" link (to the form that
	// keeps the request of ReturnTo): the institution offers recovery.
	ForgotPassword bool
	// Register shows the link to create an account (customers, where the
	// institution lets them register).
	Register bool
}

// RegisterPage is the form that creates a customer's account.
type RegisterPage struct {
	Frame
	Form
	Email, GivenName, FamilyName string // what was typed
	Language                     string // the chosen language
	Languages                    []Language
	Rules                        []Text // the password policy
}

// Language is one choice of language: its tag and its own name.
type Language struct {
	Tag, Name string
}

// ActivatePage is the page an activation or invitation link opens: a
// button, or (an invitation) the first password twice.
type ActivatePage struct {
	Frame
	Form
	Token       string
	Email       string
	SetPassword bool   // an invitation: the account has no password yet
	Rules       []Text // the password policy, for an invitation
}

// PendingPage tells a person who gave the right password that the account
// is not activated yet, and offers to send the email again.
type PendingPage struct {
	Frame
	Email  string
	Notice *Text // what was just done, or nil
}

// ForgotPasswordPage asks for the email address to send a reset link to.
type ForgotPasswordPage struct {
	Frame
	Form
	Email string // what was typed
}

// ResetPasswordPage is the form an emailed reset link opens: the new
// password, twice.
type ResetPasswordPage struct {
	Frame
	Form
	Token string // the link's secret, sent back with the form
	Email string // whose password it is
	Rules []Text // the institution's password policy, one rule per item
}

// Link is a way on from a page: an address and its text.
type Link struct {
	URL  string
	Text Text
}

// ChangePasswordPage replaces a temporary password.
type ChangePasswordPage struct {
	Frame
	Form
	Rules []Text // the institution's password policy, one rule per item
}

// ConsentPage asks to let an application have scopes.
type ConsentPage struct {
	Frame
	Form
	ClientName string
	Email      string // who is signed in
	Scopes     []Text // what the application asks for, in words
}

// LogoutConfirmPage asks whether to sign out.
type LogoutConfirmPage struct {
	Frame
}

// SignedOutPage tells that the person has signed out, and offers the
// institution's points of sale (their home pages) as ways on.
type SignedOutPage struct {
	Frame
	PointsOfSale []Link
}

// SignedInPage is the account page: who is signed in, the password form,
// the second factor, the browsers signed in.
type SignedInPage struct {
	Frame
	Form      // the password form's problems
	Email     string
	Notice    *Text      // what was just done, or nil
	TwoFactor FactorInfo // the second factor
	Sessions  []SessionRow
}

// FactorInfo is what the account page says of the second factor.
type FactorInfo struct {
	Enrolled   bool
	CanTurnOn  bool // not enrolled, and offered
	CanTurnOff bool // enrolled, and not required
	CodesLeft  int  // unused recovery codes
}

// SessionRow is a browser signed in to the account.
type SessionRow struct {
	Started  time.Time
	LastUsed time.Time
	Current  bool // the browser showing the page
}

// ErrorPage explains that something went wrong, in words for people: a
// title and a message id of the catalogue, with their values. Status is set
// by Pages.Error.
type ErrorPage struct {
	Frame
	Title   string
	Message string
	Args    map[string]string
	Status  int
}

// MessagePage tells something: a title and a message id, and the way on
// when there is one.
type MessagePage struct {
	Frame
	Title   string
	Message string
	Args    map[string]string
	Next    *Link // nil: none
}

// TwoFactorPage asks for the code of the second factor, or a recovery code.
type TwoFactorPage struct {
	Frame
	Form
}

// TwoFactorSetupPage enrols a second factor: a QR code to scan, the same
// secret in text, and the first code.
type TwoFactorSetupPage struct {
	Frame
	Form
	QRPath  string // the dark modules of the QR code, as an SVG path in units of one module
	QRSize  int    // the side of the QR code, in modules
	Key     string // the secret, in groups of four characters
	Account string // the account's email, as the app will show it
}

// QRViewBox is the SVG viewBox of the QR code with its quiet zone of four
// modules.
func (p TwoFactorSetupPage) QRViewBox() string {
	return "-4 -4 " + strconv.Itoa(p.QRSize+8) + " " + strconv.Itoa(p.QRSize+8)
}

// RecoveryCodesPage shows the recovery codes once, and the way on.
type RecoveryCodesPage struct {
	Frame
	Codes []string
	Next  Link
}
