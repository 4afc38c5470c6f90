package storagetest

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

func sessionTests() []test {
	return []test{
		{"RoundTripEveryField", testSessionRoundTrip},
		{"BeforeSignIn", testSessionAnonymous},
		{"ReplaceKeepsCreatedAt", testSessionReplace},
		{"Expiry", testSessionExpiry},
		{"NotFound", testSessionNotFound},
		{"Delete", testSessionDelete},
		{"UpdateNeverCreates", testSessionUpdate},
		{"DeleteAccountSessions", testSessionDeleteAccount},
		{"ListAccountSessions", testSessionListAccount},
	}
}

// getSession reads a session that must exist.
func (e *env) getSession(s storage.Scoped, id string) storage.BrowserSession {
	e.t.Helper()
	bs, err := s.GetSession(e.ctx, id)
	must(e.t, "get session "+id, err)
	return *bs
}

func testSessionRoundTrip(e *env) {
	s, inst := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	bs := e.session(s, "sess-hash", a.ID, 8*time.Hour)
	want := storage.BrowserSession{
		ID: "sess-hash", InstitutionID: inst.ID, AccountID: a.ID, Data: []byte(`{"flow":"sign-in"}`),
		CreatedAt: e.now(), UpdatedAt: e.now(), ExpiresAt: norm(e.clock.Now().Add(8 * time.Hour)),
	}
	mustEqual(e.t, "the caller's record after save", *bs, want)
	got := e.getSession(s, "sess-hash")
	mustEqual(e.t, "get", got, want)
	mustNormalised(e.t, "get", got)
}

func testSessionAnonymous(e *env) {
	s, _ := e.scope("opera")
	bs := &storage.BrowserSession{ID: "anon", ExpiresAt: e.clock.Now().Add(time.Hour)}
	must(e.t, "save", s.SaveSession(e.ctx, bs))
	got := e.getSession(s, "anon")
	if got.AccountID != "" || len(got.Data) != 0 {
		e.t.Fatalf("a session before sign-in: want no account or data, got %+v", got)
	}
}

func testSessionReplace(e *env) {
	s, inst := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	anon := &storage.BrowserSession{ID: "sess", Data: []byte("flow"), ExpiresAt: e.clock.Now().Add(time.Hour)}
	must(e.t, "save before sign-in", s.SaveSession(e.ctx, anon))
	created := e.now()
	e.clock.Advance(10 * time.Minute)
	signedIn := &storage.BrowserSession{
		ID: "sess", AccountID: a.ID, Data: []byte("signed-in"), ExpiresAt: e.clock.Now().Add(8 * time.Hour),
	}
	must(e.t, "replace after sign-in", s.SaveSession(e.ctx, signedIn))
	want := storage.BrowserSession{
		ID: "sess", InstitutionID: inst.ID, AccountID: a.ID, Data: []byte("signed-in"),
		CreatedAt: created, UpdatedAt: e.now(), ExpiresAt: norm(signedIn.ExpiresAt),
	}
	mustEqual(e.t, "after replace", e.getSession(s, "sess"), want)
}

func testSessionExpiry(e *env) {
	s, _ := e.scope("opera")
	e.session(s, "sess", "", time.Hour)
	e.clock.Advance(time.Hour - time.Second)
	e.getSession(s, "sess")
	e.clock.Advance(2 * time.Second)
	_, err := s.GetSession(e.ctx, "sess")
	mustErr(e.t, "get a second after expiry", err, storage.ErrNotFound)
	e.session(s, "sess", "", time.Hour)
	e.getSession(s, "sess")
}

func testSessionNotFound(e *env) {
	s, _ := e.scope("opera")
	_, err := s.GetSession(e.ctx, "missing")
	checkErr(e.t, "get", err, storage.ErrNotFound)
	must(e.t, "delete a missing session", s.DeleteSession(e.ctx, "missing"))
	n, err := s.DeleteAccountSessions(e.ctx, "missing", "")
	if err != nil || n != 0 {
		e.t.Errorf("delete the sessions of an account without any: want 0, got %d, %v", n, err)
	}
}

func testSessionDelete(e *env) {
	s, _ := e.scope("opera")
	e.session(s, "one", "", time.Hour)
	e.session(s, "two", "", time.Hour)
	must(e.t, "delete", s.DeleteSession(e.ctx, "one"))
	_, err := s.GetSession(e.ctx, "one")
	checkErr(e.t, "get the deleted session", err, storage.ErrNotFound)
	must(e.t, "delete it again", s.DeleteSession(e.ctx, "one"))
	e.getSession(s, "two")
}

// testSessionUpdate: an update writes over a live session and keeps its
// creation time, but a session deleted meanwhile (signed out) stays deleted,
// and another institution's session cannot be reached.
func testSessionUpdate(e *env) {
	s, _ := e.scope("opera")
	other, _ := e.scope("ballet")
	a := e.account(s, storage.Customer, "ann@x.org")
	created := e.session(s, "one", "", time.Hour)
	e.clock.Advance(time.Minute)
	upd := *created
	upd.AccountID, upd.Data = a.ID, []byte(`{"amr":["pwd"]}`)
	upd.ExpiresAt = e.clock.Now().Add(2 * time.Hour)
	must(e.t, "update", s.UpdateSession(e.ctx, &upd))
	got := e.getSession(s, "one")
	if got.AccountID != a.ID || !got.CreatedAt.Equal(created.CreatedAt) || !got.UpdatedAt.Equal(e.now()) ||
		!got.ExpiresAt.Equal(norm(upd.ExpiresAt)) || string(got.Data) != `{"amr":["pwd"]}` {
		e.t.Errorf("after update: %+v", got)
	}
	must(e.t, "delete", s.DeleteSession(e.ctx, "one"))
	checkErr(e.t, "update a deleted session", s.UpdateSession(e.ctx, &upd), storage.ErrNotFound)
	_, err := s.GetSession(e.ctx, "one")
	checkErr(e.t, "the deleted session after an update", err, storage.ErrNotFound)
	theirs := e.session(other, "theirs", "", time.Hour)
	hijack := *theirs
	hijack.AccountID = a.ID
	checkErr(e.t, "update another institution's session", s.UpdateSession(e.ctx, &hijack), storage.ErrNotFound)
	if got := e.getSession(other, "theirs"); got.AccountID != "" {
		e.t.Errorf("another institution's session changed: %+v", got)
	}
}

func testSessionDeleteAccount(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	b := e.account(s, storage.Customer, "bob@x.org")
	for _, id := range []string{"a1", "a2", "a3"} {
		e.session(s, id, a.ID, time.Hour)
	}
	e.session(s, "b1", b.ID, time.Hour)
	e.session(s, "anon", "", time.Hour)
	n, err := s.DeleteAccountSessions(e.ctx, a.ID, "a2")
	mustCount(e.t, "end a's sessions but a2", n, err, 2)
	for _, id := range []string{"a1", "a3"} {
		_, err := s.GetSession(e.ctx, id)
		checkErr(e.t, "get ended session "+id, err, storage.ErrNotFound)
	}
	for _, id := range []string{"a2", "b1", "anon"} {
		e.getSession(s, id)
	}
	n, err = s.DeleteAccountSessions(e.ctx, a.ID, "")
	mustCount(e.t, "end all of a's sessions", n, err, 1)
	e.getSession(s, "b1")
	e.getSession(s, "anon")
}

// testSessionListAccount: an account's live sessions, the most recently
// used first; not another account's, not an expired one, not another
// institution's.
func testSessionListAccount(e *env) {
	s, _ := e.scope("opera")
	other, _ := e.scope("ballet")
	a := e.account(s, storage.Customer, "ann@x.org")
	b := e.account(s, storage.Customer, "bob@x.org")
	e.session(s, "old", a.ID, time.Hour)
	e.clock.Advance(time.Minute)
	e.session(s, "new", a.ID, 2*time.Hour)
	e.session(s, "short", a.ID, 30*time.Second)
	e.session(s, "bob", b.ID, time.Hour)
	e.session(other, "theirs", a.ID, time.Hour)
	e.clock.Advance(time.Minute)
	list, err := s.ListAccountSessions(e.ctx, a.ID)
	must(e.t, "list", err)
	var ids []string
	for _, bs := range list {
		ids = append(ids, bs.ID)
	}
	mustEqual(e.t, "the account's live sessions", ids, []string{"new", "old"})
}
