package flows

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/usher-idp/usher/storage"
)

// TOTP (RFC 6238) as authenticator apps speak it: SHA-1, 6 digits, 30 s
// steps; a code of the step before or after is accepted too (clocks
// drift), and a step accepted once is never accepted again.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
)

// totpKey is a new secret for the account, with the otpauth:// URL an
// authenticator app scans (issuer: the institution's name, account: the
// email).
func totpKey(inst *storage.Institution, email string) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: inst.ShownName(), AccountName: email, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("new TOTP secret: %w", err)
	}
	return k, nil
}

// totpStep returns the time step of code for secret at now (the step
// before, of now, or after), and false when it matches none. Every step is
// computed and compared in constant time, so the time does not tell which
// matched.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != int(totpDigits) {
		return 0, false
	}
	now0 := now.Unix() / totpPeriod
	var step int64
	found := 0
	for _, s := range []int64{now0 - 1, now0, now0 + 1} {
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{Digits: totpDigits,
			Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, found = s, 1
		}
	}
	return step, found == 1
}

// qrPath draws content as a QR code: an SVG path of its dark modules, one
// unit each, and the side of the square in units. The page draws it
// itself: no image service, no script.
func qrPath(content string) (string, int, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return "", 0, fmt.Errorf("QR code: %w", err)
	}
	size := code.Bounds().Dx()
	var b strings.Builder
	for y := range size {
		for x := range size {
			if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
				b.WriteString("M" + strconv.Itoa(x) + " " + strconv.Itoa(y) + "h1v1h-1z")
			}
		}
	}
	return b.String(), size, nil
}

// groupKey writes a base32 secret in groups of four, for typing.
func groupKey(secret string) string {
	var groups []string
	for len(secret) > 4 {
		groups, secret = append(groups, secret[:4]), secret[4:]
	}
	return strings.Join(append(groups, secret), " ")
}

// Recovery codes: ten per enrolment, each ten characters of base32 (50
// bits) shown as two groups of five; stored as HMAC-SHA-256 under a key of
// the master secret, so a copy of the database cannot try them offline.
const (
	recoveryCodes     = 10
	recoveryCodeBytes = 7 // 56 bits, of which the first 50 are written
)

var recoveryAlphabet = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCodes returns fresh codes and their stored forms.
func newRecoveryCodes(key []byte) (codes []string, hashes [][]byte, err error) {
	for range recoveryCodes {
		b := make([]byte, recoveryCodeBytes)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, fmt.Errorf("recovery codes: %w", err)
		}
		c := strings.ToLower(recoveryAlphabet.EncodeToString(b)[:10])
		codes = append(codes, c[:5]+"-"+c[5:])
		hashes = append(hashes, recoveryHash(key, c))
	}
	return codes, hashes, nil
}

// recoveryHash is the stored form of a code as typed: case, spaces and
// dashes do not matter.
func recoveryHash(key []byte, typed string) []byte {
	c := strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(typed)))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(c))
	return m.Sum(nil)
}
