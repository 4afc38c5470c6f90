package password

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// legacyVectors are fixed hashes made by other implementations.
var legacyVectors = []struct {
	name     string
	password string
	encoded  string
}{
	// From the test suite of golang.org/x/crypto/bcrypt (TestBcryptingIsCorrect).
	{"bcrypt 2a x/crypto", "allmine", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	// 2b and 2y differ from 2a only in the handling of passwords of 256
	// bytes and more, or of 8-bit characters in old PHP: same hash here.
	{"bcrypt 2b", "allmine", "$2b$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	{"bcrypt 2y", "allmine", "$2y$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	// From passlib's test suite (test_handlers.py), checked with hashlib.pbkdf2_hmac.
	{"passlib sha256", "password", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
	{"passlib sha1", "password", "$pbkdf2$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI"},
	// From Authelia's documentation (the digest of "insecure_secret"),
	// checked with hashlib.pbkdf2_hmac.
	{"passlib sha512", "insecure_secret", "$pbkdf2-sha512$310000$c8p78n7pUMln0jzvd4aK4Q$JNRBzwAo0ek5qKn50cFzzvE9RXV88h1wJn5KGiHrD0YKtZaR/nCb2CJPOsKaPK0hjf.9yHxzQGZziziccp6Yng"},
	// Computed with Python's hashlib.pbkdf2_hmac and ab64 encoding by hand:
	// salt bytes 0xf0..0xff, whose encoding has '.' for '+'.
	{"python sha1", "Usher-Pässwörd 1", "$pbkdf2$4096$8PHy8/T19vf4.fr7/P3./w$44OdRVr/JaVjNkkms42FuiDO1OU"},
	{"python sha256", "Usher-Pässwörd 1", "$pbkdf2-sha256$4096$8PHy8/T19vf4.fr7/P3./w$RHz8FnVzIyelocd/p481PHsr3ifqIn1U/scVgsC1lK0"},
	{"python sha512", "Usher-Pässwörd 1", "$pbkdf2-sha512$4096$8PHy8/T19vf4.fr7/P3./w$bT7mLW2PTyisJol64Zi.IMDgzoN21WC3IYhg0Wx2e.vEUbB3eb62cLw3BfstVmeFz/o.bB2T1OJXAA3dQ8VRSQ"},
	// Django 3.2's make_password("lètmein", "seasalt", "pbkdf2_sha256"),
	// checked with hashlib.pbkdf2_hmac.
	{"django 3.2", "lètmein", "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="},
	// Computed with Python's hashlib.pbkdf2_hmac, salt b"seasalt2024".
	{"django sha256", "Usher-Pässwörd 1", "pbkdf2_sha256$10000$seasalt2024$U5RLzb/j36u7VieRb6RdMM9PDImcm40L6sHhPalqsPQ="},
	{"django sha1", "Usher-Pässwörd 1", "pbkdf2_sha1$10000$seasalt2024$V4m26v2YPiLy6k/w1R0N2uwZZ2A="},
}

func TestVerifyLegacyVectors(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	for _, v := range legacyVectors {
		t.Run(v.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, v.password, v.encoded)
			if err != nil || !ok || !rehash {
				t.Errorf("Verify(right password) = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			ok, rehash, err = h.Verify(ctx, v.password+"!", v.encoded)
			if err != nil || ok || rehash {
				t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestVerifyBcryptGenerated(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	b, err := bcrypt.GenerateFromPassword([]byte("pässwörd"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := h.Verify(ctx, "pässwörd", string(b))
	if err != nil || !ok || !rehash {
		t.Errorf("Verify(right password) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	ok, _, err = h.Verify(ctx, "passwörd", string(b))
	if err != nil || ok {
		t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
	}
}

// TestVerifyPBKDF2Generated verifies hashes made with random salts by the
// reference PBKDF2 below, which shares no code with crypto/pbkdf2.
func TestVerifyPBKDF2Generated(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	ab64 := func(b []byte) string {
		return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".")
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	const password, iterations = "Zürich ☃ 2024", 1000
	encodings := map[string]string{
		"passlib sha1":   fmt.Sprintf("$pbkdf2$%d$%s$%s", iterations, ab64(salt), ab64(referencePBKDF2(sha1.New, password, salt, iterations, sha1.Size))),
		"passlib sha256": fmt.Sprintf("$pbkdf2-sha256$%d$%s$%s", iterations, ab64(salt), ab64(referencePBKDF2(sha256.New, password, salt, iterations, sha256.Size))),
		"passlib sha512": fmt.Sprintf("$pbkdf2-sha512$%d$%s$%s", iterations, ab64(salt), ab64(referencePBKDF2(sha512.New, password, salt, iterations, sha512.Size))),
		"django sha256": fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iterations, "aRandomSalt42",
			base64.StdEncoding.EncodeToString(referencePBKDF2(sha256.New, password, []byte("aRandomSalt42"), iterations, sha256.Size))),
		"django sha1": fmt.Sprintf("pbkdf2_sha1$%d$%s$%s", iterations, "aRandomSalt42",
			base64.StdEncoding.EncodeToString(referencePBKDF2(sha1.New, password, []byte("aRandomSalt42"), iterations, sha1.Size))),
	}
	for name, encoded := range encodings {
		ok, rehash, err := h.Verify(ctx, password, encoded)
		if err != nil || !ok || !rehash {
			t.Errorf("%s: Verify(right password) = %v, %v, %v; want true, true, nil", name, ok, rehash, err)
		}
		ok, _, err = h.Verify(ctx, "zürich ☃ 2024", encoded)
		if err != nil || ok {
			t.Errorf("%s: Verify(wrong password) = %v, %v; want false, nil", name, ok, err)
		}
	}
}

// referencePBKDF2 is PBKDF2 as written in RFC 8018, section 5.2.
func referencePBKDF2(h func() hash.Hash, password string, salt []byte, iterations, keyLen int) []byte {
	prf := hmac.New(h, []byte(password))
	var dk []byte
	for block := uint32(1); len(dk) < keyLen; block++ {
		prf.Reset()
		prf.Write(salt)
		prf.Write(binary.BigEndian.AppendUint32(nil, block))
		u := prf.Sum(nil)
		t := append([]byte(nil), u...)
		for range iterations - 1 {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for i := range t {
				t[i] ^= u[i]
			}
		}
		dk = append(dk, t...)
	}
	return dk[:keyLen]
}

// malformedHashes are encoded hashes that Verify must refuse before hashing.
var malformedHashes = []struct {
	name    string
	encoded string
}{
	{"empty", ""},
	{"plain text", "hunter2"},
	{"unknown scheme", "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA"},
	{"overlong", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 4096) + "$AAAAAAAAAAAAAAAAAAAAAA"},

	{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id no version", "$argon2id$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id version 16", "$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id missing key", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ"},
	{"argon2id extra field", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA$"},
	{"argon2id 4 TiB", "$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id memory overflow", "$argon2id$v=19$m=18446744073709551617,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id above 1 GiB", "$argon2id$v=19$m=1048577,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id time 101", "$argon2id$v=19$m=19456,t=101,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id time 0", "$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id threads 0", "$argon2id$v=19$m=19456,t=2,p=0$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id threads 65", "$argon2id$v=19$m=19456,t=2,p=65$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id memory below 8p", "$argon2id$v=19$m=15,t=2,p=2$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id leading zero", "$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id signed", "$argon2id$v=19$m=+19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id parameter order", "$argon2id$v=19$t=2,m=19456,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id extra parameter", "$argon2id$v=19$m=19456,t=2,p=1,data=eA$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id salt not base64", "$argon2id$v=19$m=19456,t=2,p=1$c29t!XNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id salt padded", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id salt too short", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA"},
	{"argon2id key too short", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAA"},
	{"argon2id key not base64", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAA*AAAAAAAAAAAAAAAAA"},

	{"bcrypt 2x", "$2x$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	{"bcrypt short", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcg"},
	{"bcrypt long", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcgaa"},
	{"bcrypt prefix only", "$2a$"},
	{"bcrypt cost 03", "$2a$03$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	{"bcrypt cost 17", "$2a$17$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	{"bcrypt cost 31", "$2b$31$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	{"bcrypt cost letters", "$2a$1a$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	{"bcrypt no separator", "$2a$10XXajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	{"bcrypt bad character", "$2a$10$Xajj+vNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},

	{"passlib unknown digest", "$pbkdf2-md5$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
	{"passlib leading zero", "$pbkdf2$01212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc"},
	{"passlib no rounds", "$pbkdf2$$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc"},
	{"passlib trailing separator", "$pbkdf2$1212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc$"},
	{"passlib missing checksum", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw"},
	{"passlib zero rounds", "$pbkdf2-sha256$0$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
	{"passlib rounds above 10M", "$pbkdf2-sha256$10000001$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
	{"passlib rounds overflow", "$pbkdf2-sha256$99999999999999999999999$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
	{"passlib plus in salt", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0V+$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
	{"passlib padded checksum", "$pbkdf2$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI="},
	{"passlib checksum wrong size", "$pbkdf2-sha512$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
	{"passlib checksum not base64", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tm!"},

	{"django sha512", "pbkdf2_sha512$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="},
	{"django missing hash", "pbkdf2_sha256$260000$seasalt"},
	{"django empty salt", "pbkdf2_sha256$260000$$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="},
	{"django zero iterations", "pbkdf2_sha256$0$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="},
	{"django iterations above 10M", "pbkdf2_sha256$10000001$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="},
	{"django negative iterations", "pbkdf2_sha256$-1$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="},
	{"django unpadded hash", "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo"},
	{"django hash wrong size", "pbkdf2_sha1$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="},
	{"django extra field", "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=$x"},
}

func TestVerifyMalformed(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	for _, m := range malformedHashes {
		t.Run(m.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, "password", m.encoded)
			if ok || rehash || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%.60q) = %v, %v, %v; want false, false, ErrMalformedHash", m.encoded, ok, rehash, err)
			}
		})
	}
}
