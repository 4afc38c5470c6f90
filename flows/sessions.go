package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// Sessions keeps the sign-in flow's state (signIn) in the browsers'
// sessions at each institution. It implements the provider's Sessions
// interface: who is signed in (Authenticated) and SignOut.
type Sessions struct {
	Browsers *BrowserSessions
	Now      func() time.Time // nil: time.Now
}

// browserState is a browser's session with the sign-in state it holds.
type browserState struct {
	sess  *sessions.Session
	state signIn
}

// load returns the browser's session at the institution and its state.
func (s *Sessions) load(r *http.Request, inst *storage.Institution) (browserState, error) {
	sess, err := s.Browsers.For(inst).Get(r, CookieName)
	if err != nil {
		return browserState{}, err
	}
	data, _ := sess.Values[ValueData].([]byte)
	state, err := decodeSignIn(data)
	if err != nil {
		return browserState{}, fmt.Errorf("load session: %w", err)
	}
	return browserState{sess: sess, state: state}, nil
}

// enter moves the browser to the state event e leads to for the account
// (which needs need after its first factor), in a new session (a token
// known before is worthless after), and returns that state.
func (s *Sessions) enter(w http.ResponseWriter, r *http.Request, inst *storage.Institution, b browserState,
	e signInEvent, need secondFactor, account string, rt returnTo) (signIn, error) {
	state, err := b.state.next(e, need, account, s.now(), rt)
	if err != nil {
		return signIn{}, err
	}
	data, err := state.encode()
	if err != nil {
		return signIn{}, err
	}
	b.sess.Values[ValueData] = data
	b.sess.Values[ValueOwner] = state.owner()
	if err := s.Browsers.For(inst).Rotate(r, w, b.sess); err != nil {
		return signIn{}, err
	}
	return state, nil
}

// leave keeps the request rt in the browser's state, so that the page of
// an emailed link opened later in this browser can resume it.
func (s *Sessions) leave(w http.ResponseWriter, r *http.Request, inst *storage.Institution, b browserState, rt returnTo) error {
	data, err := b.state.leave(rt, s.now()).encode()
	if err != nil {
		return err
	}
	b.sess.Values[ValueData] = data
	b.sess.Values[ValueOwner] = b.state.owner()
	return s.Browsers.For(inst).Save(r, w, b.sess)
}

// Authenticated returns who is signed in at the institution in the
// browser of r, or nil: an account that signed in within the institution's
// session lifetime, in a live session.
func (s *Sessions) Authenticated(r *http.Request, inst *storage.Institution) (*issuer.SignedIn, error) {
	b, err := s.load(r, inst)
	if err != nil || b.sess.IsNew {
		return nil, err
	}
	now, st := s.now(), b.state
	if st.current(now) != SignedIn || !now.Before(st.AuthTime.Add(inst.Settings.Session.Lifetime.Std())) {
		return nil, nil
	}
	return &issuer.SignedIn{SessionID: b.sess.ID, AccountID: st.Account, AuthTime: st.AuthTime,
		Methods: st.Methods}, nil
}

// SignOut ends the browser's session at the institution: the record is
// deleted (so the cookie is worthless everywhere, even replayed) and the
// cookie is cleared.
func (s *Sessions) SignOut(w http.ResponseWriter, r *http.Request, inst *storage.Institution) error {
	store := s.Browsers.For(inst)
	sess, err := store.New(r, CookieName)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	return store.Save(r, w, sess)
}

// AccountGetter reads an account.
type AccountGetter interface {
	GetAccount(ctx context.Context, id string) (*storage.Account, error)
}

// account is the active account signed in at the institution, or nil. A
// session whose account is gone, or no longer active, counts as nobody.
func (s *Sessions) account(r *http.Request, inst *storage.Institution, accounts AccountGetter) (*storage.Account, error) {
	who, err := s.Authenticated(r, inst)
	if err != nil || who == nil {
		return nil, err
	}
	acct, err := accounts.GetAccount(r.Context(), who.AccountID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("signed-in account: %w", err)
	}
	if acct.Status != storage.Active {
		return nil, nil
	}
	return acct, nil
}

// SignedInCookie starts a session in which the account is signed in with a
// password, without a password: for tools that seed signed-in browsers
// (usher-bench). It returns the session's cookie.
func (s *Sessions) SignedInCookie(ctx context.Context, inst *storage.Institution, accountID string) (*http.Cookie, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer.Path(inst.Slug)+"/", nil)
	if err != nil {
		return nil, err
	}
	b, err := s.load(r, inst)
	if err != nil {
		return nil, err
	}
	w := &cookieRecorder{header: http.Header{}}
	if _, err := s.enter(w, r, inst, b, passwordVerified, noSecondFactor, accountID, returnTo{}); err != nil {
		return nil, err
	}
	for _, c := range (&http.Response{Header: w.header}).Cookies() {
		if c.Name == CookieName {
			return c, nil
		}
	}
	return nil, errors.New("signed-in cookie: no cookie was set")
}

func (s *Sessions) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// cookieRecorder is the ResponseWriter of SignedInCookie: it keeps the
// headers set.
type cookieRecorder struct{ header http.Header }

func (c *cookieRecorder) Header() http.Header         { return c.header }
func (c *cookieRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (c *cookieRecorder) WriteHeader(int)             {}
