package storagetest

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

func keyTests() []test {
	return []test{
		{"RoundTripEveryField", testKeyRoundTrip},
		{"Duplicate", testKeyDuplicate},
		{"ListNewestFirst", testKeyListOrder},
		{"Rotation", testKeyRotation},
		{"TransitionFromWrongState", testKeyWrongState},
		{"RetiredKeyExpires", testKeyExpiry},
	}
}

// keyIDs lists the IDs of keys.
func keyIDs(keys []storage.SigningKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

// listKeys lists the institution's keys.
func (e *env) listKeys(s storage.Scoped) []storage.SigningKey {
	e.t.Helper()
	keys, err := s.ListSigningKeys(e.ctx)
	must(e.t, "list signing keys", err)
	return keys
}

func testKeyRoundTrip(e *env) {
	s, inst := e.scope("opera")
	keys := e.listKeys(s)
	mustEqual(e.t, "keys of a new institution", keyIDs(keys), []string(nil))
	now := e.clock.Now()
	k := signingKey("kid-1")
	k.State = storage.KeyRetired
	k.ActivatedAt, k.RetiredAt, k.ExpiresAt = ptr(odd(now.Add(-48*time.Hour))), ptr(odd(now.Add(-time.Hour))), ptr(odd(now.Add(time.Hour)))
	must(e.t, "create", s.CreateSigningKey(e.ctx, k))
	want := *signingKey("kid-1")
	want.InstitutionID, want.State, want.CreatedAt = inst.ID, storage.KeyRetired, e.now()
	want.ActivatedAt, want.RetiredAt, want.ExpiresAt = normPtr(k.ActivatedAt), normPtr(k.RetiredAt), normPtr(k.ExpiresAt)
	mustEqual(e.t, "the caller's record after create", *k, want)
	keys = e.listKeys(s)
	mustEqual(e.t, "list", keys, []storage.SigningKey{want})
	mustNormalised(e.t, "list", keys)
}

func testKeyDuplicate(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "create", s.CreateSigningKey(e.ctx, signingKey("kid")))
	mustErr(e.t, "create with a taken ID", s.CreateSigningKey(e.ctx, signingKey("kid")), storage.ErrDuplicate)
}

func testKeyListOrder(e *env) {
	s, _ := e.scope("opera")
	for _, id := range []string{"k-b", "k-c", "k-a"} {
		must(e.t, "create "+id, s.CreateSigningKey(e.ctx, signingKey(id)))
		e.clock.Advance(time.Second)
	}
	mustEqual(e.t, "keys listed", keyIDs(e.listKeys(s)), []string{"k-a", "k-c", "k-b"})
}

func testKeyRotation(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "create", s.CreateSigningKey(e.ctx, signingKey("kid")))
	created := e.now()
	e.clock.Advance(time.Hour)
	must(e.t, "next → current", s.TransitionSigningKey(e.ctx, "kid", storage.KeyNext, storage.KeyCurrent, nil))
	activated := e.now()
	k := e.listKeys(s)[0]
	if k.State != storage.KeyCurrent || k.ActivatedAt == nil || !k.ActivatedAt.Equal(activated) || k.RetiredAt != nil || k.ExpiresAt != nil {
		e.t.Fatalf("after activation: want current, activated at %s, not retired, got %+v", fmtTime(activated), k)
	}
	e.clock.Advance(24 * time.Hour)
	expires := odd(e.clock.Now().Add(2 * time.Hour))
	must(e.t, "current → retired", s.TransitionSigningKey(e.ctx, "kid", storage.KeyCurrent, storage.KeyRetired, &expires))
	want := *signingKey("kid")
	want.InstitutionID, want.State, want.CreatedAt = k.InstitutionID, storage.KeyRetired, created
	want.ActivatedAt, want.RetiredAt, want.ExpiresAt = &activated, ptr(e.now()), ptr(norm(expires))
	mustEqual(e.t, "after retirement", e.listKeys(s), []storage.SigningKey{want})
}

func testKeyWrongState(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "create", s.CreateSigningKey(e.ctx, signingKey("kid")))
	before := e.listKeys(s)
	err := s.TransitionSigningKey(e.ctx, "kid", storage.KeyCurrent, storage.KeyRetired, ptr(e.clock.Now().Add(time.Hour)))
	mustErr(e.t, "retire a key that is next, as if current", err, storage.ErrConflict)
	mustEqual(e.t, "after the refused transition", e.listKeys(s), before)
	err = s.TransitionSigningKey(e.ctx, "missing", storage.KeyNext, storage.KeyCurrent, nil)
	mustErr(e.t, "transition a missing key", err, storage.ErrNotFound)
}

func testKeyExpiry(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "create old", s.CreateSigningKey(e.ctx, signingKey("old")))
	must(e.t, "old → current", s.TransitionSigningKey(e.ctx, "old", storage.KeyNext, storage.KeyCurrent, nil))
	e.clock.Advance(time.Second)
	must(e.t, "create new", s.CreateSigningKey(e.ctx, signingKey("new")))
	must(e.t, "new → current", s.TransitionSigningKey(e.ctx, "new", storage.KeyNext, storage.KeyCurrent, nil))
	must(e.t, "old → retired", s.TransitionSigningKey(e.ctx, "old", storage.KeyCurrent, storage.KeyRetired, ptr(e.clock.Now().Add(time.Hour))))
	e.clock.Advance(time.Hour - time.Second)
	mustEqual(e.t, "keys a second before old expires", keyIDs(e.listKeys(s)), []string{"new", "old"})
	e.clock.Advance(2 * time.Second)
	mustEqual(e.t, "keys a second after old expires", keyIDs(e.listKeys(s)), []string{"new"})
}
