package storagetest

import (
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

func oauth2Tests() []test {
	return []test{
		{"RoundTripEveryKind", testOAuth2RoundTrip},
		{"SameSignatureOtherKind", testOAuth2Kinds},
		{"Duplicate", testOAuth2Duplicate},
		{"CreateSeveral", testOAuth2CreateSeveral},
		{"NotFound", testOAuth2NotFound},
		{"CodeWithItsRecords", testOAuth2Code},
		{"Deactivate", testOAuth2Deactivate},
		{"Redeem", testOAuth2Redeem},
		{"Delete", testOAuth2Delete},
		{"DeactivateFamily", testOAuth2Family},
		{"DeactivateSubject", testOAuth2Subject},
		{"JTI", testJTI},
	}
}

// allKinds lists every OAuth2 record kind.
var allKinds = []storage.OAuth2Kind{storage.KindCode, storage.KindAccess, storage.KindRefresh, storage.KindPKCE, storage.KindOIDC,
	storage.KindSuccessor}

// normOAuth2 returns a copy of r with its times as a backend stores them.
func normOAuth2(r storage.OAuth2Record) storage.OAuth2Record {
	r.RequestedAt, r.ExpiresAt, r.UsedAt = norm(r.RequestedAt), norm(r.ExpiresAt), normPtr(r.UsedAt)
	return r
}

// getOAuth2 reads a record that must exist.
func (e *env) getOAuth2(s storage.Scoped, kind storage.OAuth2Kind, sig string) storage.OAuth2Record {
	e.t.Helper()
	r, err := s.GetOAuth2(e.ctx, kind, sig)
	must(e.t, "get "+string(kind)+" "+sig, err)
	return *r
}

func testOAuth2RoundTrip(e *env) {
	s, inst := e.scope("opera")
	for i, kind := range allKinds {
		r := e.oauth2Record(kind, "sig-"+string(kind), "req-1", "subject-1", time.Hour)
		r.Active = i%2 == 0
		r.UsedAt = ptr(odd(e.clock.Now().Add(-time.Minute)))
		want := normOAuth2(*r)
		want.InstitutionID = inst.ID
		e.createOAuth2(s, r)
		got := e.getOAuth2(s, kind, r.Signature)
		mustEqual(e.t, "get "+string(kind), got, want)
		mustNormalised(e.t, "get "+string(kind), got)
	}
}

func testOAuth2Kinds(e *env) {
	s, _ := e.scope("opera")
	for _, kind := range allKinds {
		r := e.oauth2Record(kind, "same-signature", "req-"+string(kind), "subject", time.Hour)
		e.createOAuth2(s, r)
	}
	for _, kind := range allKinds {
		if got := e.getOAuth2(s, kind, "same-signature"); got.Kind != kind || got.RequestID != "req-"+string(kind) {
			e.t.Errorf("get %s: want its own record, got kind %s of request %s", kind, got.Kind, got.RequestID)
		}
	}
}

func testOAuth2Duplicate(e *env) {
	s, _ := e.scope("opera")
	e.createOAuth2(s, e.oauth2Record(storage.KindCode, "sig", "req-1", "subject", time.Hour))
	dup := e.oauth2Record(storage.KindCode, "sig", "req-2", "other", time.Hour)
	mustErr(e.t, "create the same kind and signature", s.CreateOAuth2(e.ctx, dup), storage.ErrDuplicate)
	if got := e.getOAuth2(s, storage.KindCode, "sig"); got.RequestID != "req-1" {
		e.t.Fatalf("after the refused create: want request req-1, got %s", got.RequestID)
	}
}

// testOAuth2CreateSeveral stores records with one call as one by one, all
// or none.
func testOAuth2CreateSeveral(e *env) {
	s, inst := e.scope("opera")
	must(e.t, "create none", s.CreateOAuth2s(e.ctx, nil))
	batch := []*storage.OAuth2Record{
		e.oauth2Record(storage.KindCode, "code-1", "req-1", "subject", 10*time.Minute),
		e.oauth2Record(storage.KindPKCE, "code-1", "req-1", "subject", 10*time.Minute),
		e.oauth2Record(storage.KindOIDC, "whole-code-1", "req-1", "subject", 10*time.Minute),
	}
	batch[1].Active = false
	want := make([]storage.OAuth2Record, len(batch))
	for i, r := range batch {
		want[i] = normOAuth2(*r)
		want[i].InstitutionID = inst.ID
	}
	must(e.t, "create three", s.CreateOAuth2s(e.ctx, batch))
	for _, w := range want {
		got := e.getOAuth2(s, w.Kind, w.Signature)
		mustEqual(e.t, "created "+string(w.Kind), got, w)
		mustNormalised(e.t, "created "+string(w.Kind), got)
	}

	again := []*storage.OAuth2Record{
		e.oauth2Record(storage.KindCode, "code-2", "req-2", "subject", 10*time.Minute),
		e.oauth2Record(storage.KindOIDC, "whole-code-1", "req-2", "subject", 10*time.Minute), // taken
	}
	mustErr(e.t, "create with one taken", s.CreateOAuth2s(e.ctx, again), storage.ErrDuplicate)
	_, err := s.GetOAuth2(e.ctx, storage.KindCode, "code-2")
	checkErr(e.t, "the others of a refused batch", err, storage.ErrNotFound)
	if got := e.getOAuth2(s, storage.KindOIDC, "whole-code-1"); got.RequestID != "req-1" {
		e.t.Fatalf("the taken record: want request req-1, got %s", got.RequestID)
	}
}

func testOAuth2NotFound(e *env) {
	s, _ := e.scope("opera")
	e.createOAuth2(s, e.oauth2Record(storage.KindAccess, "sig", "req", "subject", time.Hour))
	_, err := s.GetOAuth2(e.ctx, storage.KindAccess, "missing")
	checkErr(e.t, "get a missing signature", err, storage.ErrNotFound)
	_, err = s.GetOAuth2(e.ctx, storage.KindRefresh, "sig")
	checkErr(e.t, "get with the wrong kind", err, storage.ErrNotFound)
	checkErr(e.t, "deactivate", s.DeactivateOAuth2(e.ctx, storage.KindAccess, "missing"), storage.ErrNotFound)
	checkErr(e.t, "delete", s.DeleteOAuth2(e.ctx, storage.KindAccess, "missing"), storage.ErrNotFound)
	n, err := s.RevokeOAuth2Family(e.ctx, storage.KindAccess, "missing")
	mustCount(e.t, "revoke a missing family", n, err, 0)
	n, err = s.RevokeOAuth2Subject(e.ctx, "missing")
	mustCount(e.t, "revoke a subject without grants", n, err, 0)
}

// testOAuth2Code reads a code with its PKCE and OpenID Connect records, and
// nothing else: not another authorization's, not a token of the same
// request, not a code of another institution.
func testOAuth2Code(e *env) {
	s, _ := e.scope("opera")
	other, _ := e.scope("ballet")
	code := e.oauth2Record(storage.KindCode, "code-1", "req-1", "subject", 10*time.Minute)
	code.Active = false // a used code comes back too: the token endpoint detects the replay
	pkce := e.oauth2Record(storage.KindPKCE, "code-1", "req-1", "subject", 10*time.Minute)
	oidc := e.oauth2Record(storage.KindOIDC, "whole-code-1", "req-1", "subject", 10*time.Minute)
	for _, r := range []*storage.OAuth2Record{code, pkce, oidc,
		e.oauth2Record(storage.KindAccess, "token-1", "req-1", "subject", time.Hour),
		e.oauth2Record(storage.KindCode, "code-2", "req-2", "subject", 10*time.Minute),
		e.oauth2Record(storage.KindPKCE, "code-2", "req-2", "subject", 10*time.Minute),
		e.oauth2Record(storage.KindOIDC, "whole-code-2", "req-2", "subject", 10*time.Minute),
		e.oauth2Record(storage.KindCode, "code-3", "req-3", "subject", 10*time.Minute),
	} {
		e.createOAuth2(s, r)
	}
	e.createOAuth2(other, e.oauth2Record(storage.KindOIDC, "whole-code-x", "req-1", "subject", 10*time.Minute))

	byKind := func(what string, recs []*storage.OAuth2Record, err error) map[storage.OAuth2Kind]storage.OAuth2Record {
		e.t.Helper()
		must(e.t, what, err)
		got := map[storage.OAuth2Kind]storage.OAuth2Record{}
		for _, r := range recs {
			if _, twice := got[r.Kind]; twice {
				e.t.Fatalf("%s: two records of kind %s", what, r.Kind)
			}
			got[r.Kind] = *r
		}
		return got
	}
	recs, err := s.GetOAuth2Code(e.ctx, "code-1")
	got := byKind("code with PKCE and OpenID Connect", recs, err)
	if len(got) != 3 {
		e.t.Fatalf("code-1: want the code, its PKCE and its OpenID Connect records, got %d: %v", len(got), recs)
	}
	for _, want := range []*storage.OAuth2Record{code, pkce, oidc} {
		mustEqual(e.t, "code-1's "+string(want.Kind), got[want.Kind], e.getOAuth2(s, want.Kind, want.Signature))
	}
	recs, err = s.GetOAuth2Code(e.ctx, "code-3")
	if got := byKind("code alone", recs, err); len(got) != 1 || got[storage.KindCode].Signature != "code-3" {
		e.t.Fatalf("code-3: want the code alone, got %v", recs)
	}
	_, err = s.GetOAuth2Code(e.ctx, "token-1")
	checkErr(e.t, "an access token's signature", err, storage.ErrNotFound)
	_, err = s.GetOAuth2Code(e.ctx, "missing")
	checkErr(e.t, "a missing code", err, storage.ErrNotFound)
	_, err = other.GetOAuth2Code(e.ctx, "code-1")
	checkErr(e.t, "another institution's code", err, storage.ErrNotFound)
}

func testOAuth2Deactivate(e *env) {
	s, _ := e.scope("opera")
	r := e.oauth2Record(storage.KindCode, "code", "req", "subject", 10*time.Minute)
	e.createOAuth2(s, r)
	inactive := e.oauth2Record(storage.KindCode, "born-inactive", "req2", "subject", 10*time.Minute)
	inactive.Active = false
	e.createOAuth2(s, inactive)
	e.clock.Advance(time.Minute)
	must(e.t, "deactivate", s.DeactivateOAuth2(e.ctx, storage.KindCode, "code"))
	want := normOAuth2(*r)
	want.Active, want.UsedAt = false, ptr(e.now())
	mustEqual(e.t, "after deactivate", e.getOAuth2(s, storage.KindCode, "code"), want)
	e.clock.Advance(time.Minute)
	mustErr(e.t, "deactivate again", s.DeactivateOAuth2(e.ctx, storage.KindCode, "code"), storage.ErrAlreadyUsed)
	if got := e.getOAuth2(s, storage.KindCode, "code"); !got.UsedAt.Equal(*want.UsedAt) {
		e.t.Fatalf("refused deactivate: want UsedAt kept at %s, got %s", fmtTime(*want.UsedAt), fmtTime(*got.UsedAt))
	}
	mustErr(e.t, "deactivate a record created inactive",
		s.DeactivateOAuth2(e.ctx, storage.KindCode, "born-inactive"), storage.ErrAlreadyUsed)
}

// A redemption deactivates the record, deletes the access token named with
// it (only that one) and stores the new records, all or nothing: a refused
// redemption, or one whose records cannot be stored, changes nothing.
func testOAuth2Redeem(e *env) {
	s, _ := e.scope("opera")
	for _, sig := range []string{"access-1", "access-2", "access-3"} {
		e.createOAuth2(s, e.oauth2Record(storage.KindAccess, sig, "req", "subject", time.Hour))
	}
	r := e.oauth2Record(storage.KindRefresh, "refresh", "req", "subject", time.Hour)
	r.AccessSignature = "access-1"
	e.createOAuth2(s, r)
	next := func(sig string) []*storage.OAuth2Record {
		return []*storage.OAuth2Record{e.oauth2Record(storage.KindAccess, sig, "req", "subject", time.Hour),
			e.oauth2Record(storage.KindRefresh, sig, "req", "subject", time.Hour)}
	}
	gone := func(what string, kind storage.OAuth2Kind, sig string) {
		e.t.Helper()
		_, err := s.GetOAuth2(e.ctx, kind, sig)
		checkErr(e.t, what, err, storage.ErrNotFound)
	}

	// The new records take a taken signature: nothing happens.
	taken := next("new")
	taken[1].Signature = "refresh"
	mustErr(e.t, "redeem with a taken signature", s.RedeemOAuth2(e.ctx, storage.KindRefresh, "refresh", "access-1", taken),
		storage.ErrDuplicate)
	if !e.getOAuth2(s, storage.KindRefresh, "refresh").Active {
		e.t.Fatal("a failed redemption deactivated the token")
	}
	e.getOAuth2(s, storage.KindAccess, "access-1")
	gone("a failed redemption's new access token", storage.KindAccess, "new")

	e.clock.Advance(time.Minute)
	created := next("new")
	must(e.t, "redeem", s.RedeemOAuth2(e.ctx, storage.KindRefresh, "refresh", "access-1", created))
	want := normOAuth2(*r)
	want.Active, want.UsedAt = false, ptr(e.now())
	mustEqual(e.t, "after redeem", e.getOAuth2(s, storage.KindRefresh, "refresh"), want)
	gone("the redeemed token's access token", storage.KindAccess, "access-1")
	for _, c := range created {
		mustEqual(e.t, "a new record", e.getOAuth2(s, c.Kind, c.Signature), normOAuth2(*c))
	}
	e.getOAuth2(s, storage.KindAccess, "access-2")

	mustErr(e.t, "redeem again", s.RedeemOAuth2(e.ctx, storage.KindRefresh, "refresh", "access-2", next("again")),
		storage.ErrAlreadyUsed)
	checkErr(e.t, "redeem a missing token", s.RedeemOAuth2(e.ctx, storage.KindRefresh, "missing", "access-2", next("missing")),
		storage.ErrNotFound)
	e.getOAuth2(s, storage.KindAccess, "access-2") // a refused redemption ends nothing
	gone("a refused redemption's new record", storage.KindRefresh, "again")
	gone("a refused redemption's new record", storage.KindRefresh, "missing")

	// A code: no access token, no new records or one.
	for i, rs := range [][]*storage.OAuth2Record{nil, next(fmt.Sprint("from-code-", 1))[:1]} {
		sig := fmt.Sprint("code-", i)
		e.createOAuth2(s, e.oauth2Record(storage.KindCode, sig, "req", "subject", time.Hour))
		must(e.t, "redeem a code", s.RedeemOAuth2(e.ctx, storage.KindCode, sig, "", rs))
		if e.getOAuth2(s, storage.KindCode, sig).Active {
			e.t.Errorf("redeem code %d: the code is still active", i)
		}
	}
	e.getOAuth2(s, storage.KindAccess, "from-code-1")
	e.createOAuth2(s, e.oauth2Record(storage.KindRefresh, "refresh-2", "req", "subject", time.Hour))
	must(e.t, "redeem naming a missing access token", s.RedeemOAuth2(e.ctx, storage.KindRefresh, "refresh-2", "no-such", nil))
	e.getOAuth2(s, storage.KindAccess, "access-2")
	e.getOAuth2(s, storage.KindAccess, "access-3")
}

func testOAuth2Delete(e *env) {
	s, _ := e.scope("opera")
	e.createOAuth2(s, e.oauth2Record(storage.KindCode, "sig", "req", "subject", time.Hour))
	e.createOAuth2(s, e.oauth2Record(storage.KindPKCE, "sig", "req", "subject", time.Hour))
	must(e.t, "delete the code", s.DeleteOAuth2(e.ctx, storage.KindCode, "sig"))
	_, err := s.GetOAuth2(e.ctx, storage.KindCode, "sig")
	checkErr(e.t, "get the deleted code", err, storage.ErrNotFound)
	checkErr(e.t, "delete it again", s.DeleteOAuth2(e.ctx, storage.KindCode, "sig"), storage.ErrNotFound)
	e.getOAuth2(s, storage.KindPKCE, "sig")
}

func testOAuth2Family(e *env) {
	s, _ := e.scope("opera")
	for _, sig := range []string{"r1", "r2"} {
		e.createOAuth2(s, e.oauth2Record(storage.KindRefresh, sig, "req-A", "subject", time.Hour))
	}
	used := e.oauth2Record(storage.KindRefresh, "r3", "req-A", "subject", time.Hour)
	used.Active, used.UsedAt = false, ptr(e.clock.Now())
	e.createOAuth2(s, used)
	e.createOAuth2(s, e.oauth2Record(storage.KindAccess, "a1", "req-A", "subject", time.Hour))
	e.createOAuth2(s, e.oauth2Record(storage.KindRefresh, "other", "req-B", "subject", time.Hour))
	n, err := s.RevokeOAuth2Family(e.ctx, storage.KindRefresh, "req-A")
	mustCount(e.t, "revoke the refresh tokens of req-A, used or not", n, err, 3)
	for _, sig := range []string{"r1", "r2", "r3"} {
		_, err := s.GetOAuth2(e.ctx, storage.KindRefresh, sig)
		checkErr(e.t, "get revoked "+sig, err, storage.ErrNotFound)
	}
	if !e.getOAuth2(s, storage.KindAccess, "a1").Active || !e.getOAuth2(s, storage.KindRefresh, "other").Active {
		e.t.Error("want the access token of req-A and the refresh token of req-B still active")
	}
	n, err = s.RevokeOAuth2Family(e.ctx, storage.KindRefresh, "req-A")
	mustCount(e.t, "revoke the family again", n, err, 0)
}

func testOAuth2Subject(e *env) {
	s, _ := e.scope("opera")
	grants := []storage.OAuth2Kind{storage.KindCode, storage.KindAccess, storage.KindRefresh, storage.KindSuccessor}
	for _, kind := range grants {
		e.createOAuth2(s, e.oauth2Record(kind, "ann-"+string(kind), "req-ann", "ann", time.Hour))
	}
	inactive := e.oauth2Record(storage.KindAccess, "ann-old", "req-old", "ann", time.Hour)
	inactive.Active = false
	e.createOAuth2(s, inactive)
	e.createOAuth2(s, e.oauth2Record(storage.KindPKCE, "ann-code", "req-ann", "ann", time.Hour))
	e.createOAuth2(s, e.oauth2Record(storage.KindRefresh, "bob-refresh", "req-bob", "bob", time.Hour))
	n, err := s.RevokeOAuth2Subject(e.ctx, "ann")
	mustCount(e.t, "revoke ann's codes and tokens", n, err, 5)
	for _, sig := range []string{"ann-code", "ann-access", "ann-refresh", "ann-successor", "ann-old"} {
		for _, kind := range grants {
			if _, err := s.GetOAuth2(e.ctx, kind, sig); err == nil {
				e.t.Errorf("ann's %s %s survived", kind, sig)
			}
		}
	}
	e.getOAuth2(s, storage.KindPKCE, "ann-code") // request records of codes stay: the code is gone
	if !e.getOAuth2(s, storage.KindRefresh, "bob-refresh").Active {
		e.t.Error("bob's refresh token: want it still active")
	}
	n, err = s.RevokeOAuth2Subject(e.ctx, "ann")
	mustCount(e.t, "revoke ann's grants again", n, err, 0)
}

func testJTI(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "check an unknown JWT ID", s.CheckJTI(e.ctx, "jti-1"))
	must(e.t, "use", s.UseJTI(e.ctx, "jti-1", e.clock.Now().Add(time.Hour)))
	checkErr(e.t, "check after use", s.CheckJTI(e.ctx, "jti-1"), storage.ErrAlreadyUsed)
	checkErr(e.t, "use again", s.UseJTI(e.ctx, "jti-1", e.clock.Now().Add(2*time.Hour)), storage.ErrAlreadyUsed)
	must(e.t, "use another JWT ID", s.UseJTI(e.ctx, "jti-2", e.clock.Now().Add(time.Hour)))
	e.clock.Advance(time.Hour - time.Second)
	checkErr(e.t, "check a second before expiry", s.CheckJTI(e.ctx, "jti-1"), storage.ErrAlreadyUsed)
	e.clock.Advance(2 * time.Second)
	must(e.t, "check a second after expiry", s.CheckJTI(e.ctx, "jti-1"))
	must(e.t, "use again after expiry", s.UseJTI(e.ctx, "jti-1", e.clock.Now().Add(time.Hour)))
	checkErr(e.t, "check after the second use", s.CheckJTI(e.ctx, "jti-1"), storage.ErrAlreadyUsed)
}
