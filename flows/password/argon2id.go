package password

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the parameters of an argon2id hash.
type Params struct {
	Memory  uint32 // memory in KiB
	Time    uint32 // passes over the memory
	Threads uint8  // degree of parallelism
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key
}

// DefaultParams returns the minimum argon2id configuration of the OWASP
// Password Storage Cheat Sheet: 19 MiB of memory, two passes, one thread,
// with a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on argon2id parameters. The upper bounds apply to stored hashes too,
// so that a tampered hash cannot make a verification allocate or compute
// without limit; the lower bounds of stored hashes are those of the reference
// implementation, those of a Hasher's own parameters are stricter.
const (
	maxArgon2Memory  = 1 << 20 // KiB, that is 1 GiB
	maxArgon2Time    = 100
	maxArgon2Threads = 64

	minStoredSaltLen = 8
	minStoredKeyLen  = 4
	minSaltLen       = 16
	minKeyLen        = 16
	maxSaltLen       = 1024
	maxKeyLen        = 1024
)

// validate reports whether p may be used to produce new hashes: at least the
// OWASP minimum and within the bounds that Verify accepts.
func (p Params) validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxArgon2Threads:
		return fmt.Errorf("password: argon2id threads %d outside [1, %d]", p.Threads, maxArgon2Threads)
	case p.Time > maxArgon2Time:
		return fmt.Errorf("password: argon2id time %d above %d", p.Time, maxArgon2Time)
	case p.Memory > maxArgon2Memory:
		return fmt.Errorf("password: argon2id memory %d KiB above %d KiB", p.Memory, maxArgon2Memory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("password: argon2id salt length %d outside [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("password: argon2id key length %d outside [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	case !p.meetsOWASP():
		return fmt.Errorf("password: argon2id memory %d KiB with time %d is below the OWASP minimum", p.Memory, p.Time)
	}
	return nil
}

// meetsOWASP reports whether p's memory and time reach one of the equivalent
// minimum configurations of the OWASP Password Storage Cheat Sheet.
func (p Params) meetsOWASP() bool {
	minimums := [...]struct{ memory, time uint32 }{
		{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5},
	}
	for _, m := range minimums {
		if p.Memory >= m.memory && p.Time >= m.time {
			return true
		}
	}
	return false
}

// argon2idHash is a parsed argon2id PHC string.
type argon2idHash struct {
	params Params
	salt   []byte
	key    []byte
}

// newArgon2idHash derives the hash of password with params and salt.
func newArgon2idHash(params Params, salt []byte, password string) *argon2idHash {
	return &argon2idHash{params: params, salt: salt, key: params.key(password, salt)}
}

// key derives the argon2id key of password and salt.
func (p Params) key(password string, salt []byte) []byte {
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// String returns the PHC string of a.
func (a *argon2idHash) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, a.params.Memory, a.params.Time, a.params.Threads,
		b64.EncodeToString(a.salt), b64.EncodeToString(a.key))
}

// matches reports whether password derives a's key.
func (a *argon2idHash) matches(password string) (bool, error) {
	key := a.params.key(password, a.salt)
	return subtle.ConstantTimeCompare(key, a.key) == 1, nil
}

// parseArgon2id parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" with the salt
// and the key in unpadded standard base64.
func parseArgon2id(encoded string) (*argon2idHash, error) {
	fields := strings.SplitN(encoded, "$", 7)
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" {
		return nil, malformed("argon2id", "not $argon2id$v$params$salt$key")
	}
	if fields[2] != "v=19" { // argon2.Version, the only version x/crypto implements
		return nil, malformed("argon2id", "unsupported version")
	}
	params, err := parseArgon2Params(fields[3])
	if err != nil {
		return nil, err
	}
	salt, err := base64.RawStdEncoding.DecodeString(fields[4])
	if err != nil || len(salt) < minStoredSaltLen || len(salt) > maxSaltLen {
		return nil, malformed("argon2id", "bad salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(fields[5])
	if err != nil || len(key) < minStoredKeyLen || len(key) > maxKeyLen {
		return nil, malformed("argon2id", "bad key")
	}
	params.SaltLen, params.KeyLen = uint32(len(salt)), uint32(len(key))
	return &argon2idHash{params: params, salt: salt, key: key}, nil
}

// parseArgon2Params parses "m=M,t=T,p=P", bounding each value.
func parseArgon2Params(s string) (Params, error) {
	m, rest, _ := strings.Cut(s, ",")
	t, p, _ := strings.Cut(rest, ",")
	memory, okM := parseDecimal(strings.TrimPrefix(m, "m="), 1, maxArgon2Memory)
	time, okT := parseDecimal(strings.TrimPrefix(t, "t="), 1, maxArgon2Time)
	threads, okP := parseDecimal(strings.TrimPrefix(p, "p="), 1, maxArgon2Threads)
	if !strings.HasPrefix(m, "m=") || !strings.HasPrefix(t, "t=") || !strings.HasPrefix(p, "p=") ||
		!okM || !okT || !okP {
		return Params{}, malformed("argon2id", "bad parameters")
	}
	if memory < 8*threads {
		return Params{}, malformed("argon2id", "memory below 8 KiB per thread")
	}
	return Params{Memory: uint32(memory), Time: uint32(time), Threads: uint8(threads)}, nil
}
