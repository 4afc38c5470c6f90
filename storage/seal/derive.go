package seal

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// Derive returns n bytes derived from the master secret for one purpose, with
// HKDF-SHA256 (RFC 5869, no salt, info "usher/" + purpose). The same master
// and purpose always give the same bytes; distinct purposes give independent
// keys, so a key derived for one use reveals nothing about another.
//
// n must be between 1 and 255*32 (HKDF-SHA256's limit): anything else is a
// programming error and panics.
func Derive(master []byte, purpose string, n int) []byte {
	if n < 1 {
		panic(fmt.Sprintf("seal: Derive of %d bytes", n))
	}
	key, err := hkdf.Key(sha256.New, master, nil, "usher/"+purpose, n)
	if err != nil {
		panic(fmt.Sprintf("seal: Derive of %d bytes: %v", n, err))
	}
	return key
}
