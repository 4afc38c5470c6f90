package seal_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/usher-idp/usher/storage/seal"
)

// sealedSeeds were made once by Seal with master, purpose "signing-key" and
// associated data ad. They are fixed because fuzz workers are separate
// processes: values sealed at run time (random nonces) would differ between
// the coordinator and the workers.
var sealedSeeds = []struct{ plain, sealed string }{
	{"", "01f892428192d1c7d70c3186be7ca8cddac9b4f9312c292ced2cd2df0c"},
	{"secret", "01926ed571c112a22d718b5838d9db8b79f487ae03cebf728480472165cc8fd42e0a70"},
	{"a longer secret signing key, PKCS#8", "0110fb355aa918c2df74a8aa2c978951e488b55010405a02e10725754472fe61714aae17289d5dae7cfc7d0aab69e8ecd5fb3838711eff1b9fcd9b41766a4787"},
}

// FuzzOpen feeds Open arbitrary values and associated data: it must never
// panic, must fail with ErrOpen, and must open nothing but the values Seal
// made (with their own associated data).
func FuzzOpen(f *testing.F) {
	s := sealer(f, master, "signing-key")
	valid := map[string][]byte{} // sealed || 0 || ad → plaintext
	for _, seed := range sealedSeeds {
		sealed, err := hex.DecodeString(seed.sealed)
		if err != nil {
			f.Fatal(err)
		}
		valid[string(sealed)+"\x00"+string(ad)] = []byte(seed.plain)
		f.Add(sealed, ad)
		f.Add(sealed[:len(sealed)-1], ad)
		f.Add(sealed, []byte("other"))
	}
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, []byte(nil))
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		plain, err := s.Open(sealed, ad)
		want, ok := valid[string(sealed)+"\x00"+string(ad)]
		switch {
		case ok && (err != nil || !bytes.Equal(plain, want)):
			t.Fatalf("a sealed value did not open: %q, %v", plain, err)
		case !ok && err == nil:
			t.Fatalf("opened a value Seal did not make: %x → %q", sealed, plain)
		case !ok && (!errors.Is(err, seal.ErrOpen) || plain != nil):
			t.Fatalf("failure is %v with %q, want ErrOpen and nil", err, plain)
		}
	})
}
