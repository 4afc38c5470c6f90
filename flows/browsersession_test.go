package flows_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// A session lasts IdleTimeout without use and Lifetime in all; use moves
// the idle expiry, at most once a minute.
func TestSessionIdleTimeoutAndLifetime(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		idle, lifetime := e.opera.Settings.Session.IdleTimeout.Std(), e.opera.Settings.Session.Lifetime.Std()

		b := e.browser(t)
		b.signIn("opera", "ann@example.org", goodPassword, "")
		c := b.cookie("opera")
		e.clock.Advance(idle - time.Second)
		if e.authenticated(t, e.opera, c) == nil {
			t.Fatal("the session ended before its idle timeout")
		}
		e.clock.Advance(idle - time.Second) // used a moment ago: still alive
		if e.authenticated(t, e.opera, c) == nil {
			t.Fatal("use did not move the idle expiry")
		}
		e.clock.Advance(idle - time.Second)
		if e.authenticated(t, e.opera, c) == nil {
			t.Fatal("the session ended before its idle timeout")
		}
		e.clock.Advance(lifetime - 3*(idle-time.Second))
		if e.authenticated(t, e.opera, c) != nil {
			t.Error("the session outlived its lifetime")
		}

		b2 := e.browser(t)
		b2.signIn("opera", "ann@example.org", goodPassword, "")
		e.clock.Advance(idle)
		if e.authenticated(t, e.opera, b2.cookie("opera")) != nil {
			t.Error("an idle session still authenticates")
		}
	})
}

func TestSessionTouchedAtMostOnceAMinute(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		b.signIn("opera", "ann@example.org", goodPassword, "")
		id := recordID(b.cookie("opera").Value)
		s := e.store.In(e.opera.ID)
		signedIn, err := s.GetSession(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(30 * time.Second)
		e.authenticated(t, e.opera, b.cookie("opera"))
		if got, _ := s.GetSession(e.ctx, id); !got.UpdatedAt.Equal(signedIn.UpdatedAt) {
			t.Errorf("touched after 30 s: %v → %v", signedIn.UpdatedAt, got.UpdatedAt)
		}
		e.clock.Advance(31 * time.Second)
		e.authenticated(t, e.opera, b.cookie("opera"))
		got, _ := s.GetSession(e.ctx, id)
		if !got.UpdatedAt.After(signedIn.UpdatedAt) || !got.ExpiresAt.After(signedIn.ExpiresAt) {
			t.Errorf("not touched after a minute: %+v", got)
		}
	})
}

// A cookie of one institution means nothing under another.
func TestSessionScopedToInstitution(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		museum := e.institutionWithClients(t, "museum")
		e.customer(t, museum, "ann@example.org")
		b := e.browser(t)
		b.signIn("opera", "ann@example.org", goodPassword, "")
		c := b.cookie("opera")
		if e.authenticated(t, e.opera, c) == nil {
			t.Fatal("not signed in at the opera")
		}
		if e.authenticated(t, museum, c) != nil {
			t.Error("the opera's cookie signs in at the museum")
		}
		if b.cookie("museum") != nil {
			t.Error("the browser sends the opera's cookie to the museum")
		}
		if got := b.get("/institutions/museum/account"); got.status != http.StatusSeeOther {
			t.Errorf("museum account page: %d", got.status)
		}
	})
}

// The gorilla store keeps only the values it knows, with their types, and
// gives them back; what the data means is its owner's business.
func TestSessionValues(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		store := e.sessions.Browsers.For(e.opera)
		r := httptest.NewRequest(http.MethodGet, "/institutions/opera/login", nil)
		sess, err := store.Get(r, flows.CookieName)
		if err != nil || !sess.IsNew {
			t.Fatalf("new session: %v, %v", sess, err)
		}
		sess.Values["colour"] = "blue"
		if err := sess.Save(r, httptest.NewRecorder()); !errors.Is(err, flows.ErrSessionValue) {
			t.Errorf("an unknown key was saved: %v", err)
		}
		delete(sess.Values, "colour")
		sess.Values[flows.ValueData] = 42
		if err := sess.Save(r, httptest.NewRecorder()); !errors.Is(err, flows.ErrSessionValue) {
			t.Errorf("a value of the wrong type was saved: %v", err)
		}
		// A pending password change, as the sign-in flow writes it.
		deadline := e.clock.Now().Add(15 * time.Minute).Format(time.RFC3339Nano)
		pending := []byte(`{"v":1,"state":"password_change","account":"acct-1","deadline":"` + deadline +
			`","return_to":"/institutions/opera/oauth2/authorize?client_id=shop"}`)
		sess.Values[flows.ValueData] = pending
		sess.Values[flows.ValueOwner] = "acct-1"
		w := httptest.NewRecorder()
		if err := sess.Save(r, w); err != nil {
			t.Fatal(err)
		}
		next := httptest.NewRequest(http.MethodGet, "/institutions/opera/password/change", nil)
		for _, c := range w.Result().Cookies() {
			next.AddCookie(c)
		}
		again, err := store.Get(next, flows.CookieName)
		if err != nil || again.IsNew || again.ID != sess.ID {
			t.Fatalf("reloaded: %+v, %v", again, err)
		}
		if data, _ := again.Values[flows.ValueData].([]byte); string(data) != string(pending) || again.Values[flows.ValueOwner] != "acct-1" {
			t.Errorf("values %v", again.Values)
		}
		if rec, err := e.store.In(e.opera.ID).GetSession(e.ctx, again.ID); err != nil || rec.AccountID != "acct-1" {
			t.Errorf("the record is not indexed under its owner: %+v, %v", rec, err)
		}
		if bs, _ := e.sessions.Authenticated(next, e.opera); bs != nil {
			t.Errorf("a pending step authenticates: %+v", bs)
		}
		if _, err := store.Get(next, "other"); err == nil {
			t.Error("another cookie name was accepted")
		}
	})
}

// A session ended elsewhere (signed out in another tab, on another replica)
// does not come back when this request touches or saves it.
func TestSessionEndedElsewhereStaysEnded(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnv(t, f)
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		b.signIn("opera", "ann@example.org", goodPassword, "")
		c := b.cookie("opera")
		s := e.store.In(e.opera.ID)

		// Save: a request loaded the session, then it was signed out.
		r := httptest.NewRequest(http.MethodGet, "/institutions/opera/login", nil)
		r.AddCookie(c)
		sessions := e.sessions.Browsers.For(e.opera)
		sess, err := sessions.Get(r, flows.CookieName)
		if err != nil || sess.Values[flows.ValueOwner] == nil {
			t.Fatalf("load the signed-in session: %v %v", err, sess.Values)
		}
		if err := s.DeleteSession(e.ctx, recordID(c.Value)); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		sess.Values[flows.ValueData] = []byte(`{"v":1,"state":"anonymous"}`)
		if err := sessions.Save(r, w, sess); err != nil {
			t.Fatal(err)
		}
		if e.authenticated(t, e.opera, c) != nil {
			t.Error("the old cookie authenticates again after a save")
		}
		for _, nc := range w.Result().Cookies() {
			if bs := e.authenticated(t, e.opera, nc); bs != nil {
				t.Errorf("the save started a session that is signed in: %+v", bs)
			}
		}

		// Touch: a session signed out before its touch is due stays ended.
		// (The race between a request's read and its touch is closed by the
		// touch only ever updating: storage conformance UpdateNeverCreates.)
		b2 := e.browser(t)
		b2.signIn("opera", "ann@example.org", goodPassword, "")
		c2 := b2.cookie("opera")
		e.clock.Advance(2 * time.Minute)
		if err := s.DeleteSession(e.ctx, recordID(c2.Value)); err != nil {
			t.Fatal(err)
		}
		if e.authenticated(t, e.opera, c2) != nil {
			t.Error("a signed-out session authenticates")
		}
		if _, err := s.GetSession(e.ctx, recordID(c2.Value)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the signed-out session's record is back: %v", err)
		}
	})
}
