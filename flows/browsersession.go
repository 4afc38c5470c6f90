package flows

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// CookieName is the name of the browser session cookie.
const CookieName = "usher_session"

// touchInterval is how often a session in use has its idle expiry moved:
// at most once a minute, not on every request.
const touchInterval = time.Minute

// tokenBytes is the size of the random secret a session cookie carries.
const tokenBytes = 32

// ErrSessionValue: a session's Values hold a key the store does not keep,
// or a value of the wrong type (see ValueData and ValueOwner).
var ErrSessionValue = errors.New("flows: unsupported session value")

// The Values of a session the store keeps. It knows nothing of what they
// mean: the data is its owner's (the sign-in flow's state), opaque; the
// owner is the account the session belongs to, an index by which all of an
// account's sessions are ended at once.
const (
	ValueData  = "data"  // []byte
	ValueOwner = "owner" // string: an account ID, or ""
)

// recordKey is the private key under which a loaded session keeps its
// record (its ID and creation time); no caller can set it by accident.
type recordKey struct{}

// SessionStore is what the browser sessions need of the storage.
type SessionStore interface {
	SaveSession(ctx context.Context, s *storage.BrowserSession) error
	UpdateSession(ctx context.Context, s *storage.BrowserSession) error
	GetSession(ctx context.Context, id string) (*storage.BrowserSession, error)
	DeleteSession(ctx context.Context, id string) error
}

// BrowserSessions are the sessions of browsers at Usher, a gorilla/sessions
// store kept in the database, so that every replica sees them and a
// sign-out is final.
//
// The cookie (CookieName) carries a 256-bit random token, base64url; the
// record's ID is the hex SHA-256 of the token, so a copy of the database
// cannot be replayed as a cookie. The cookie's Path is the institution's
// ("/institutions/{slug}/"), it is HttpOnly, SameSite=Lax, Secure when
// PublicURL is https, without Domain and without expiry (it ends with the
// browser; the server decides how long a session lasts).
//
// A session expires at the earlier of its creation plus the institution's
// Session.Lifetime and its last use plus Session.IdleTimeout; a session in
// use is touched at most once a minute. The store of one institution is
// For(inst).
type BrowserSessions struct {
	In        func(institutionID string) SessionStore
	Tx        storage.Transactor
	PublicURL string
	Now       func() time.Time // nil: time.Now
}

// For returns the gorilla/sessions store of one institution's sessions. It
// is a small value made per request: gorilla's Store methods take no
// institution, so the institution travels in the store.
func (b *BrowserSessions) For(inst *storage.Institution) *InstitutionSessions {
	return &InstitutionSessions{b: b, inst: inst}
}

func (b *BrowserSessions) now() time.Time {
	if b.Now == nil {
		return time.Now().UTC()
	}
	return b.Now().UTC()
}

// InstitutionSessions is the gorilla/sessions Store of one institution's
// browser sessions (see BrowserSessions for the cookie and the record).
//
// Its Values accept only ValueData and ValueOwner. Get does not cache in
// gorilla's per-request registry: that registry keys sessions by cookie name
// alone, so one institution's session could be handed out under another's
// store within a request; Get loads afresh instead (one indexed read).
type InstitutionSessions struct {
	b    *BrowserSessions
	inst *storage.Institution
}

// Get implements sessions.Store; it is New (see the type's comment).
func (s *InstitutionSessions) Get(r *http.Request, name string) (*sessions.Session, error) {
	return s.New(r, name)
}

// New implements sessions.Store: it returns the browser's live session, or
// a new empty one (IsNew) when there is none. A cookie that matches no live
// session of this institution is ignored. Only database errors are returned.
func (s *InstitutionSessions) New(r *http.Request, name string) (*sessions.Session, error) {
	if name != CookieName {
		return nil, fmt.Errorf("flows: session name %q, want %q", name, CookieName)
	}
	c, err := r.Cookie(name)
	if err != nil {
		return s.fresh(), nil
	}
	rec, err := s.load(r.Context(), c.Value)
	if err != nil || rec == nil {
		return s.fresh(), err
	}
	sess := s.fresh()
	sess.Values[recordKey{}] = rec
	if len(rec.Data) > 0 {
		sess.Values[ValueData] = rec.Data
	}
	if rec.AccountID != "" {
		sess.Values[ValueOwner] = rec.AccountID
	}
	sess.ID, sess.IsNew = rec.ID, false
	return sess, nil
}

// fresh is a new, empty session with the institution's cookie options.
func (s *InstitutionSessions) fresh() *sessions.Session {
	sess := sessions.NewSession(s, CookieName)
	sess.Options = s.options()
	sess.IsNew = true
	return sess
}

// Save implements sessions.Store. A session with Options.MaxAge < 0 is
// deleted and its cookie cleared. A new session gets a fresh token, set in
// the cookie; an existing one keeps its token and only its record changes.
// A session ended meanwhile (signed out in another tab, on another
// replica) stays ended: nothing is written and its cookie is cleared.
func (s *InstitutionSessions) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		return s.delete(r.Context(), w, sess)
	}
	token, err := s.persist(r.Context(), sess)
	if errors.Is(err, errSessionEnded) {
		return s.delete(r.Context(), w, sess)
	}
	if err != nil {
		return err
	}
	if token != "" {
		http.SetCookie(w, sessions.NewCookie(CookieName, token, s.options()))
	}
	return nil
}

// Rotate gives the session a new token and record and deletes the old one,
// so that a token known before (session fixation) is worthless after. It
// saves the session: no separate Save is needed.
func (s *InstitutionSessions) Rotate(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	old := sess.ID
	sess.ID = ""
	delete(sess.Values, recordKey{})
	var token string
	err := s.b.Tx.InTx(r.Context(), func(ctx context.Context) error {
		if old != "" {
			if err := s.store().DeleteSession(ctx, old); err != nil {
				return err
			}
		}
		var err error
		token, err = s.persist(ctx, sess)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate session: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(CookieName, token, s.options()))
	return nil
}

func (s *InstitutionSessions) store() SessionStore { return s.b.In(s.inst.ID) }

// secureCookies reports whether the cookies of a server at publicURL are
// Secure (sent over https only): when publicURL is https. Behind a proxy
// that ends TLS, the server itself is reached over http.
func secureCookies(publicURL string) bool { return strings.HasPrefix(publicURL, "https://") }

// options are the cookie's attributes.
func (s *InstitutionSessions) options() *sessions.Options {
	return &sessions.Options{
		Path:     issuer.Path(s.inst.Slug) + "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   secureCookies(s.b.PublicURL),
	}
}

// load returns the live record of a cookie token, touching it when it was
// last used over a minute ago, or nil when there is none.
func (s *InstitutionSessions) load(ctx context.Context, token string) (*storage.BrowserSession, error) {
	id, ok := sessionID(token)
	if !ok {
		return nil, nil
	}
	rec, err := s.store().GetSession(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	now := s.b.now()
	if !s.live(rec, now) {
		if err := s.store().DeleteSession(ctx, rec.ID); err != nil {
			return nil, fmt.Errorf("load session: %w", err)
		}
		return nil, nil
	}
	// The touch only updates: a sign-out that lands between the read above
	// and this write is not undone.
	if now.Sub(rec.UpdatedAt) >= touchInterval {
		rec.ExpiresAt = s.expiry(rec.CreatedAt, now)
		err := s.store().UpdateSession(ctx, rec)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil // signed out meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return rec, nil
}

// live reports whether rec is within the institution's session policy as
// it is now (the policy may have shortened since the record was written).
func (s *InstitutionSessions) live(rec *storage.BrowserSession, now time.Time) bool {
	p := s.inst.Settings.Session
	if !now.Before(rec.ExpiresAt) || !now.Before(rec.CreatedAt.Add(p.Lifetime.Std())) {
		return false
	}
	return now.Before(rec.UpdatedAt.Add(p.IdleTimeout.Std()))
}

// expiry is the earlier of creation plus the lifetime and now plus the idle
// timeout.
func (s *InstitutionSessions) expiry(created, now time.Time) time.Time {
	p := s.inst.Settings.Session
	absolute, idle := created.Add(p.Lifetime.Std()), now.Add(p.IdleTimeout.Std())
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}

// errSessionEnded: the session was deleted since it was loaded.
var errSessionEnded = errors.New("flows: session ended meanwhile")

// persist writes the session's record, creating it with a fresh token when
// the session has no ID yet; it returns that token ("" when none was made).
func (s *InstitutionSessions) persist(ctx context.Context, sess *sessions.Session) (string, error) {
	rec, err := recordOf(sess.Values)
	if err != nil {
		return "", err
	}
	now := s.b.now()
	if old, _ := sess.Values[recordKey{}].(*storage.BrowserSession); old != nil && sess.ID != "" {
		rec.ID, rec.CreatedAt = old.ID, old.CreatedAt
		rec.ExpiresAt = s.expiry(rec.CreatedAt, now)
		err := s.store().UpdateSession(ctx, rec)
		if errors.Is(err, storage.ErrNotFound) {
			return "", errSessionEnded
		}
		if err != nil {
			return "", fmt.Errorf("save session: %w", err)
		}
		sess.Values[recordKey{}] = rec
		return "", nil
	}
	token, id, err := newSessionToken()
	if err != nil {
		return "", err
	}
	rec.ID, rec.CreatedAt = id, now
	rec.ExpiresAt = s.expiry(rec.CreatedAt, now)
	if err := s.store().SaveSession(ctx, rec); err != nil {
		return "", fmt.Errorf("save session: %w", err)
	}
	sess.ID, sess.IsNew = rec.ID, false
	sess.Values[recordKey{}] = rec
	return token, nil
}

// delete removes the session's record and clears the cookie.
func (s *InstitutionSessions) delete(ctx context.Context, w http.ResponseWriter, sess *sessions.Session) error {
	gone := s.options()
	gone.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(CookieName, "", gone))
	if sess.ID == "" {
		return nil
	}
	if err := s.store().DeleteSession(ctx, sess.ID); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	sess.ID = ""
	delete(sess.Values, recordKey{})
	return nil
}

// recordOf turns a session's Values into a record (without ID and times),
// refusing other keys and values of the wrong type.
func recordOf(values map[any]any) (*storage.BrowserSession, error) {
	rec := &storage.BrowserSession{}
	for k, v := range values {
		ok := true
		switch k {
		case recordKey{}:
		case ValueData:
			rec.Data, ok = v.([]byte)
		case ValueOwner:
			rec.AccountID, ok = v.(string)
		default:
			ok = false
		}
		if !ok {
			return nil, fmt.Errorf("%w: %v (%T)", ErrSessionValue, k, v)
		}
	}
	return rec, nil
}

// newSessionToken returns a fresh cookie token and the ID of its record.
func newSessionToken() (token, id string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("session token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	id, _ = sessionID(token)
	return token, id, nil
}

// sessionID returns the record ID of a cookie token, and false for a value
// that cannot be a token (no database read is spent on it).
func sessionID(token string) (string, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:]), true
}
