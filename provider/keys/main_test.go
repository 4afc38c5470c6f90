package keys_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"

	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/storage/storagetest"
)

// t0 is where every test's clock starts (whole microseconds, as stored).
var t0 = time.Date(2031, time.March, 14, 15, 9, 26, 535897000, time.UTC)

var master = bytes.Repeat([]byte("k"), 32)

// env is one test's database, clock and institution.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlstore.Store
	clock  *storagetest.Clock
	sealer *seal.Sealer
	inst   string
}

// each runs fn on every available dialect, each with a fresh database and
// an institution.
func each(t *testing.T, fn func(e *env)) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		clock := storagetest.NewClock(t0)
		e := &env{t: t, ctx: context.Background(), clock: clock, sealer: newSealer(t, master)}
		e.store = sqltest.Open(t, db, sqlstore.Options{Now: clock.Now})
		e.inst = e.institution("opera")
		fn(e)
	})
}

func newSealer(t testing.TB, m []byte) *seal.Sealer {
	t.Helper()
	s, err := seal.New(m, keys.SealPurpose)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// institution creates an institution and returns its ID.
func (e *env) institution(slug string) string {
	e.t.Helper()
	inst := &storage.Institution{Slug: slug, Name: slug, Settings: storage.DefaultSettings()}
	must(e.t, "create institution", e.store.CreateInstitution(e.ctx, inst))
	return inst.ID
}

// ensure runs Ensure and wants it to create keys.
func (e *env) ensure() {
	e.t.Helper()
	created, err := keys.Ensure(e.ctx, e.store, e.sealer, e.inst)
	must(e.t, "ensure", err)
	if !created {
		e.t.Fatal("Ensure on a fresh institution created nothing")
	}
}

// load loads the institution's keys.
func (e *env) load() *keys.Set {
	e.t.Helper()
	set, err := keys.Load(e.ctx, e.store.In(e.inst), e.sealer, e.inst)
	must(e.t, "load", err)
	return set
}

// records lists the stored keys.
func (e *env) records() []storage.SigningKey {
	e.t.Helper()
	list, err := e.store.In(e.inst).ListSigningKeys(e.ctx)
	must(e.t, "list keys", err)
	return list
}

// version returns the institution's version.
func (e *env) version() int64 {
	e.t.Helper()
	v, err := e.store.InstitutionVersion(e.ctx, e.inst)
	must(e.t, "version", err)
	return v
}

// count counts records by algorithm and state: "RS256/current" → 1.
func count(list []storage.SigningKey) map[string]int {
	n := map[string]int{}
	for _, k := range list {
		n[k.Algorithm+"/"+string(k.State)]++
	}
	return n
}

// idClaims are ID-token-sized claims expiring in ttl (real time: fosite's
// parser checks expiry against time.Now).
func idClaims(ttl time.Duration) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "https://id.example.org/institutions/opera", "sub": "01J9ZQ5V8M3X7K2N4P6R8T0W1Y",
		"aud": []string{"shop-3f9c2a"}, "exp": now.Add(ttl).Unix(), "iat": now.Unix(),
		"auth_time": now.Add(-time.Minute).Unix(), "rat": now.Add(-2 * time.Minute).Unix(),
		"nonce": "n-0S6_WzA2Mj", "jti": "5b1f7a9e-8c3d-4e2f-9a6b-0c1d2e3f4a5b",
		"at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "acr": "1", "amr": []string{"pwd", "otp"},
		"sid": "c4a8e2f0-1b3d-4c5e-8f7a-9b0c1d2e3f4a", "email": "ann.lee@example.org",
		"email_verified": true, "name": "Ann Lee", "locale": "fr-CH",
	}
}

// sign signs claims through the set's Signer with a header naming kid ("":
// no kid).
func sign(t testing.TB, set *keys.Set, kid string, claims jwt.MapClaims) string {
	t.Helper()
	h := jwt.NewHeaders()
	if kid != "" {
		h.Add("kid", kid)
	}
	token, _, err := set.Signer().Generate(context.Background(), claims, h)
	must(t, "generate", err)
	return token
}

// current returns the kid of the set's current key of alg.
func current(t testing.TB, set *keys.Set, alg string) string {
	t.Helper()
	k, err := set.Current(alg)
	must(t, "current "+alg, err)
	return k.KeyID
}

// header returns a compact JWS's (unverified) alg and kid.
func header(t testing.TB, token string) (alg, kid string) {
	t.Helper()
	jws, err := jose.ParseSigned(token)
	must(t, "parse", err)
	h := jws.Signatures[0].Protected
	return h.Algorithm, h.KeyID
}

// verifyWithJWKS verifies token as a relying party would: with go-jose and
// the key of the published JWKS its kid names.
func verifyWithJWKS(jwks jose.JSONWebKeySet, token string) error {
	jws, err := jose.ParseSigned(token)
	if err != nil {
		return err
	}
	h := jws.Signatures[0].Protected
	found := jwks.Key(h.KeyID)
	if len(found) != 1 {
		return errors.New("kid not in the JWKS")
	}
	if found[0].Algorithm != h.Algorithm {
		return errors.New("alg differs from the published key's")
	}
	_, err = jws.Verify(&found[0])
	return err
}
