package password

import (
	"fmt"
	"strconv"
	"strings"
)

// maxEncodedLen bounds the length of an encoded hash. The longest legitimate
// encodings (argon2id or PBKDF2 with a 1024-byte salt) stay well below it.
const maxEncodedLen = 4096

// storedHash is a parsed encoded hash of one of the supported schemes.
type storedHash interface {
	// matches reports whether password is the one that was hashed. The error
	// is for failures of the computation, not for a wrong password.
	matches(password string) (bool, error)
}

// parseHash parses encoded, choosing the scheme from its prefix. Every
// parameter that sets the cost of a verification is bounded here, before
// any hashing starts.
func parseHash(encoded string) (storedHash, error) {
	if len(encoded) > maxEncodedLen {
		return nil, fmt.Errorf("%w: too long", ErrMalformedHash)
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return parseArgon2id(encoded)
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return parseBcrypt(encoded)
	case strings.HasPrefix(encoded, "$pbkdf2"):
		return parsePasslibPBKDF2(encoded)
	case strings.HasPrefix(encoded, "pbkdf2_"):
		return parseDjangoPBKDF2(encoded)
	}
	return nil, fmt.Errorf("%w: unknown scheme", ErrMalformedHash)
}

// malformed returns an error wrapping ErrMalformedHash. It never quotes the
// hash itself, which is secret material.
func malformed(scheme, reason string) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformedHash, scheme, reason)
}

// parseDecimal parses s as a decimal integer in [lo, hi], written without a
// sign and without leading zeros. ok is false otherwise.
func parseDecimal(s string, lo, hi uint64) (n uint64, ok bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}
