package password

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/usher-idp/usher/storage"
)

// commonPasswords is the list of the 10,000 most common passwords, one per
// line (see NOTICE for its origin and licence).
//
//go:embed common-passwords-10k.txt
var commonPasswords string

// The message ids that Check reports, one per unmet rule, in this order.
const (
	TooShort       = "password.too_short"        // fewer characters than the policy's minimum
	TooLong        = "password.too_long"         // more than MaxBytes bytes
	NeedsUpper     = "password.needs_upper"      // no upper-case letter
	NeedsDigit     = "password.needs_digit"      // no digit
	NeedsSpecial   = "password.needs_special"    // no punctuation or symbol
	TooCommon      = "password.too_common"       // among the 10,000 most common passwords
	SameAsIdentity = "password.same_as_identity" // equal to the email or another identifier
)

// minLengthFloor is the shortest minimum length a policy may set.
const minLengthFloor = 8

// MinLength returns the number of characters a password needs under p: the
// policy's minimum, but never less than 8.
func MinLength(p storage.PasswordPolicy) int {
	return max(p.MinLength, minLengthFloor)
}

// A Checker checks new passwords against a password policy. Build one with
// NewChecker and share it: it is safe for concurrent use.
type Checker struct {
	common map[string]struct{} // lower-cased common passwords
}

// NewChecker returns a Checker, parsing the embedded list of common passwords.
func NewChecker() *Checker {
	common := make(map[string]struct{}, 10000)
	for line := range strings.Lines(commonPasswords) {
		if p := normalize(line); p != "" {
			common[p] = struct{}{}
		}
	}
	return &Checker{common: common}
}

// IsCommon reports whether password, ignoring case and surrounding white
// space, is among the 10,000 most common passwords.
func (c *Checker) IsCommon(password string) bool {
	_, ok := c.common[normalize(password)]
	return ok
}

// Check returns the message id of every rule of p that password fails, in
// the order of the constants TooShort to SameAsIdentity, or an empty slice
// when it meets them all. related are values the password must not equal,
// ignoring case and surrounding white space, such as the account's email and
// the local part of that email; empty values are ignored.
//
// Length is counted in Unicode code points. A special character is a
// punctuation mark or a symbol.
func (c *Checker) Check(p storage.PasswordPolicy, password string, related ...string) []string {
	failed := []string{}
	if utf8.RuneCountInString(password) < MinLength(p) {
		failed = append(failed, TooShort)
	}
	if len(password) > MaxBytes {
		failed = append(failed, TooLong)
	}
	if p.RequireUpper && !strings.ContainsFunc(password, unicode.IsUpper) {
		failed = append(failed, NeedsUpper)
	}
	if p.RequireDigit && !strings.ContainsFunc(password, unicode.IsDigit) {
		failed = append(failed, NeedsDigit)
	}
	if p.RequireSpecial && !strings.ContainsFunc(password, isSpecial) {
		failed = append(failed, NeedsSpecial)
	}
	if p.RefuseCommon && c.IsCommon(password) {
		failed = append(failed, TooCommon)
	}
	if sameAsAny(password, related) {
		failed = append(failed, SameAsIdentity)
	}
	return failed
}

// isSpecial reports whether r is a punctuation mark or a symbol.
func isSpecial(r rune) bool {
	return unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// sameAsAny reports whether password equals one of the non-empty values,
// ignoring case and surrounding white space.
func sameAsAny(password string, values []string) bool {
	password = strings.TrimSpace(password)
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v != "" && strings.EqualFold(password, v) {
			return true
		}
	}
	return false
}

// normalize lower-cases s and trims its surrounding white space.
func normalize(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
