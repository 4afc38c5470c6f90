package keys_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
)

// benchSet returns the keys of a fresh institution in a SQLite database
// (sqltest wants a *testing.T).
func benchSet(b *testing.B) *keys.Set {
	b.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "usher.db"), sqlstore.Options{})
	must(b, "open", err)
	b.Cleanup(func() { st.Close() })
	_, err = st.Migrate(ctx)
	must(b, "migrate", err)
	inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
	must(b, "institution", st.CreateInstitution(ctx, inst))
	sealer := newSealer(b, master)
	_, err = keys.Ensure(ctx, st, sealer, inst.ID)
	must(b, "ensure", err)
	set, err := keys.Load(ctx, st.In(inst.ID), sealer, inst.ID)
	must(b, "load", err)
	return set
}

func benchmarkGenerate(b *testing.B, alg string) {
	set := benchSet(b)
	signer, claims, ctx := set.Signer(), idClaims(time.Hour), context.Background()
	h := jwt.NewHeaders()
	h.Add("kid", current(b, set, alg))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := signer.Generate(ctx, claims, h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerateRS256 signs ID-token-sized claims with the RS256 key.
func BenchmarkGenerateRS256(b *testing.B) { benchmarkGenerate(b, keys.RS256) }

// BenchmarkGenerateES256 signs ID-token-sized claims with the ES256 key.
func BenchmarkGenerateES256(b *testing.B) { benchmarkGenerate(b, keys.ES256) }

// BenchmarkDecodeRS256 verifies an RS256 ID token.
func BenchmarkDecodeRS256(b *testing.B) { benchmarkDecode(b, keys.RS256) }

// BenchmarkDecodeES256 verifies an ES256 ID token.
func BenchmarkDecodeES256(b *testing.B) { benchmarkDecode(b, keys.ES256) }

func benchmarkDecode(b *testing.B, alg string) {
	set := benchSet(b)
	token := sign(b, set, current(b, set, alg), idClaims(time.Hour))
	signer, ctx := set.Signer(), context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := signer.Decode(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}
