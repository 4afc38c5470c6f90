package password

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Bounds on the cost of legacy hashes. bcrypt's own limit, cost 31, would
// keep a verification busy for days; cost 16 takes a few seconds.
const (
	maxBcryptCost       = 16
	maxPBKDF2Iterations = 10_000_000
	maxPBKDF2SaltLen    = 1024
)

// bcryptHash is an encoded bcrypt hash: "$2b$" (or "$2a$", "$2y$"), a
// two-digit cost, "$", then 22 characters of salt and 31 of hash.
type bcryptHash string

// parseBcrypt checks the layout and the cost of a bcrypt hash.
func parseBcrypt(encoded string) (bcryptHash, error) {
	const layoutLen, prefixLen = 60, 7
	if len(encoded) != layoutLen || encoded[6] != '$' || !isDigit(encoded[4]) || !isDigit(encoded[5]) {
		return "", malformed("bcrypt", "not $2b$cost$salthash")
	}
	cost := int(encoded[4]-'0')*10 + int(encoded[5]-'0')
	if cost < bcrypt.MinCost || cost > maxBcryptCost {
		return "", malformed("bcrypt", "cost out of bounds")
	}
	const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for i := prefixLen; i < layoutLen; i++ {
		if strings.IndexByte(alphabet, encoded[i]) < 0 {
			return "", malformed("bcrypt", "bad salt or hash")
		}
	}
	return bcryptHash(encoded), nil
}

// matches reports whether password is the one hashed in b.
func (b bcryptHash) matches(password string) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(b), []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: bcrypt: %w", ErrMalformedHash, err)
}

// pbkdf2Hash is a parsed PBKDF2-HMAC hash, from passlib or from Django.
type pbkdf2Hash struct {
	digest     func() hash.Hash
	iterations int
	salt       []byte
	key        []byte
}

// matches reports whether password derives p's key.
func (p *pbkdf2Hash) matches(password string) (bool, error) {
	key, err := pbkdf2.Key(p.digest, password, p.salt, p.iterations, len(p.key))
	if err != nil {
		return false, fmt.Errorf("password: pbkdf2: %w", err)
	}
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// parsePasslibPBKDF2 parses passlib's "$pbkdf2-sha256$rounds$salt$checksum",
// "$pbkdf2-sha512$…" and "$pbkdf2$…" (SHA-1), with the salt and the checksum
// in passlib's adapted base64.
func parsePasslibPBKDF2(encoded string) (*pbkdf2Hash, error) {
	fields := strings.SplitN(encoded, "$", 6)
	if len(fields) != 5 || fields[0] != "" {
		return nil, malformed("pbkdf2", "not $pbkdf2-digest$rounds$salt$checksum")
	}
	var digest func() hash.Hash
	var size int
	switch fields[1] {
	case "pbkdf2":
		digest, size = sha1.New, sha1.Size
	case "pbkdf2-sha256":
		digest, size = sha256.New, sha256.Size
	case "pbkdf2-sha512":
		digest, size = sha512.New, sha512.Size
	default:
		return nil, malformed("pbkdf2", "unsupported digest")
	}
	iterations, ok := parseDecimal(fields[2], 1, maxPBKDF2Iterations)
	if !ok {
		return nil, malformed("pbkdf2", "bad rounds")
	}
	salt, err := decodeAB64(fields[3])
	if err != nil || len(salt) > maxPBKDF2SaltLen {
		return nil, malformed("pbkdf2", "bad salt")
	}
	key, err := decodeAB64(fields[4])
	if err != nil || len(key) != size {
		return nil, malformed("pbkdf2", "bad checksum")
	}
	return &pbkdf2Hash{digest: digest, iterations: int(iterations), salt: salt, key: key}, nil
}

// decodeAB64 decodes passlib's adapted base64: the standard alphabet with
// '.' in place of '+', without padding.
func decodeAB64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "+=") {
		return nil, errors.New("not adapted base64")
	}
	return base64.RawStdEncoding.DecodeString(strings.ReplaceAll(s, ".", "+"))
}

// parseDjangoPBKDF2 parses Django's "pbkdf2_sha256$iterations$salt$hash"
// (and "pbkdf2_sha1$…"). The salt is used as its UTF-8 bytes; the hash is in
// padded standard base64.
func parseDjangoPBKDF2(encoded string) (*pbkdf2Hash, error) {
	fields := strings.SplitN(encoded, "$", 5)
	if len(fields) != 4 {
		return nil, malformed("django", "not algorithm$iterations$salt$hash")
	}
	var digest func() hash.Hash
	var size int
	switch fields[0] {
	case "pbkdf2_sha1":
		digest, size = sha1.New, sha1.Size
	case "pbkdf2_sha256":
		digest, size = sha256.New, sha256.Size
	default:
		return nil, malformed("django", "unsupported algorithm")
	}
	iterations, ok := parseDecimal(fields[1], 1, maxPBKDF2Iterations)
	if !ok {
		return nil, malformed("django", "bad iterations")
	}
	if fields[2] == "" || len(fields[2]) > maxPBKDF2SaltLen {
		return nil, malformed("django", "bad salt")
	}
	key, err := base64.StdEncoding.DecodeString(fields[3])
	if err != nil || len(key) != size {
		return nil, malformed("django", "bad hash")
	}
	return &pbkdf2Hash{digest: digest, iterations: int(iterations), salt: []byte(fields[2]), key: key}, nil
}

// isDigit reports whether c is an ASCII decimal digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
