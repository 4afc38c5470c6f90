package flows

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/usher-idp/usher/storage"
)

// CookieName is the name of the browser session cookie.
const CookieName = "usher_session"

// touchInterval is how often a session in use has its idle expiry moved:
// at most once a minute, not on every request.
const touchInterval = time.Minute

// tokenBytes is the size of the random secret a session cookie carries.
const tokenBytes = 32

// ErrSessionValue: a session's Values hold a key Save does not know, or a
// value of the wrong type (see the Value… keys).
var ErrSessionValue = errors.New("flows: unsupported session value")

// The keys of a session's Values and the types of their values. Save refuses
// any other key or type (ErrSessionValue). The first three are the columns
// of the record; the others are flow state, kept in its Data as JSON.
const (
	ValueAccountID = "account_id" // string: the signed-in account
	ValueAuthTime  = "auth_time"  // time.Time: when it authenticated
	ValueAMR       = "amr"        // []string: the methods it used ("pwd")
	ValueState     = "state"      // SignInState
	ValuePending   = "pending"    // string: the account of a pending step (password change)
	ValueStepAt    = "step_at"    // time.Time: when the pending step began
	ValueReturnTo  = "return_to"  // string: the authorization request to resume
)

// sessionData is the flow state of a session, stored as JSON in the
// record's Data: a small typed struct, not gob of arbitrary values.
type sessionData struct {
	State    SignInState `json:"state,omitempty"`
	Pending  string      `json:"pending,omitempty"`
	StepAt   *time.Time  `json:"step_at,omitempty"`
	ReturnTo string      `json:"return_to,omitempty"`
}

// recordKey is the private key under which a loaded session keeps its
// record (its ID and creation time); no caller can set it by accident.
type recordKey struct{}

// BrowserSessions are the sign-in sessions of browsers at Usher, kept in the
// database so that every replica sees them and a sign-out is final.
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
// use is touched at most once a minute.
//
// BrowserSessions implements the provider's Sessions interface
// (Authenticated, SignOut). The gorilla/sessions Store of one institution
// is For(inst).
type BrowserSessions struct {
	Store     Stores
	PublicURL string
	Now       func() time.Time
}

// For returns the gorilla/sessions store of one institution's sessions. It
// is a small value made per request: gorilla's Store methods take no
// institution, so the institution travels in the store.
func (b *BrowserSessions) For(inst *storage.Institution) *InstitutionSessions {
	return &InstitutionSessions{b: b, inst: inst}
}

// Authenticated returns the browser's session at the institution when an
// account is signed in (AccountID, AuthTime and AMR set) and the session is
// within the institution's lifetime and idle timeout; nil otherwise.
func (b *BrowserSessions) Authenticated(r *http.Request, inst *storage.Institution) (*storage.BrowserSession, error) {
	sess, err := b.For(inst).New(r, CookieName)
	if err != nil {
		return nil, err
	}
	rec := loadedRecord(sess)
	if rec == nil || rec.AccountID == "" || rec.AuthTime == nil {
		return nil, nil
	}
	out := *rec
	return &out, nil
}

// SignOut ends the browser's session at the institution: the record is
// deleted (so the cookie is worthless everywhere, even replayed) and the
// cookie is cleared.
func (b *BrowserSessions) SignOut(w http.ResponseWriter, r *http.Request, inst *storage.Institution) error {
	s := b.For(inst)
	sess, err := s.New(r, CookieName)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	return s.Save(r, w, sess)
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
// Its Values accept only the Value… keys with their types. Get does not
// cache in gorilla's per-request registry: that registry keys sessions by
// cookie name alone, so one institution's session could be handed out under
// another's store within a request; Get loads afresh instead (one indexed
// read).
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
	if err := decodeValues(rec, sess.Values); err != nil {
		return s.fresh(), fmt.Errorf("load session: %w", err)
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
func (s *InstitutionSessions) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		return s.delete(r.Context(), w, sess)
	}
	token, err := s.persist(r.Context(), sess)
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
	err := s.b.Store.InTx(r.Context(), func(ctx context.Context) error {
		if old != "" {
			if err := s.scoped().DeleteSession(ctx, old); err != nil {
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

func (s *InstitutionSessions) scoped() storage.Scoped { return s.b.Store.In(s.inst.ID) }

// options are the cookie's attributes.
func (s *InstitutionSessions) options() *sessions.Options {
	return &sessions.Options{
		Path:     "/institutions/" + s.inst.Slug + "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   strings.HasPrefix(s.b.PublicURL, "https://"),
	}
}

// load returns the live record of a cookie token, touching it when it was
// last used over a minute ago, or nil when there is none.
func (s *InstitutionSessions) load(ctx context.Context, token string) (*storage.BrowserSession, error) {
	id, ok := sessionID(token)
	if !ok {
		return nil, nil
	}
	rec, err := s.scoped().GetSession(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	now := s.b.now()
	if !s.live(rec, now) {
		if err := s.scoped().DeleteSession(ctx, rec.ID); err != nil {
			return nil, fmt.Errorf("load session: %w", err)
		}
		return nil, nil
	}
	// The touch only updates: a sign-out that lands between the read above
	// and this write is not undone.
	if now.Sub(rec.UpdatedAt) >= touchInterval {
		rec.ExpiresAt = s.expiry(rec.CreatedAt, now)
		err := s.scoped().UpdateSession(ctx, rec)
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
	if rec.AuthTime != nil && !now.Before(rec.AuthTime.Add(p.Lifetime.Std())) {
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

// persist writes the session's record, creating it with a fresh token when
// the session has no ID yet; it returns that token ("" when none was made).
func (s *InstitutionSessions) persist(ctx context.Context, sess *sessions.Session) (string, error) {
	rec, err := encodeValues(sess.Values)
	if err != nil {
		return "", err
	}
	now, token := s.b.now(), ""
	if old := loadedRecord(sess); old != nil && sess.ID != "" {
		rec.ID, rec.CreatedAt = old.ID, old.CreatedAt
		rec.ExpiresAt = s.expiry(rec.CreatedAt, now)
		err := s.scoped().UpdateSession(ctx, rec)
		if err == nil {
			sess.Values[recordKey{}] = rec
			return "", nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return "", fmt.Errorf("save session: %w", err)
		}
		// Ended meanwhile (signed out in another tab): start a new session
		// that keeps the flow state but never the sign-in.
		forgetSignIn(sess.Values)
		if rec, err = encodeValues(sess.Values); err != nil {
			return "", err
		}
	}
	if token, rec.ID, err = newSessionToken(); err != nil {
		return "", err
	}
	rec.CreatedAt = now
	rec.ExpiresAt = s.expiry(rec.CreatedAt, now)
	if err := s.scoped().SaveSession(ctx, rec); err != nil {
		return "", fmt.Errorf("save session: %w", err)
	}
	sess.ID, sess.IsNew = rec.ID, false
	sess.Values[recordKey{}] = rec
	return token, nil
}

// forgetSignIn removes the sign-in from a session's values.
func forgetSignIn(values map[any]any) {
	delete(values, ValueAccountID)
	delete(values, ValueAuthTime)
	delete(values, ValueAMR)
	if st, _ := values[ValueState].(SignInState); st == SignedIn {
		values[ValueState] = Anonymous
	}
}

// delete removes the session's record and clears the cookie.
func (s *InstitutionSessions) delete(ctx context.Context, w http.ResponseWriter, sess *sessions.Session) error {
	gone := s.options()
	gone.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(CookieName, "", gone))
	if sess.ID == "" {
		return nil
	}
	if err := s.scoped().DeleteSession(ctx, sess.ID); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	sess.ID = ""
	delete(sess.Values, recordKey{})
	return nil
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

// loadedRecord returns the record a session was loaded from or saved to.
func loadedRecord(sess *sessions.Session) *storage.BrowserSession {
	rec, _ := sess.Values[recordKey{}].(*storage.BrowserSession)
	return rec
}

// encodeValues turns a session's Values into a record (without ID and
// times), refusing unknown keys and values of the wrong type.
func encodeValues(values map[any]any) (*storage.BrowserSession, error) {
	rec, data := &storage.BrowserSession{}, sessionData{}
	for k, v := range values {
		if _, ok := k.(recordKey); ok {
			continue
		}
		if !encodeValue(rec, &data, k, v) {
			return nil, fmt.Errorf("%w: %v (%T)", ErrSessionValue, k, v)
		}
	}
	if data != (sessionData{}) {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("session data: %w", err)
		}
		rec.Data = b
	}
	return rec, nil
}

// encodeValue stores one value, reporting false for an unknown key or type.
func encodeValue(rec *storage.BrowserSession, data *sessionData, k, v any) bool {
	var ok bool
	switch k {
	case ValueAccountID:
		rec.AccountID, ok = v.(string)
	case ValueAuthTime:
		var t time.Time
		t, ok = v.(time.Time)
		rec.AuthTime = &t
	case ValueAMR:
		var amr []string
		amr, ok = v.([]string)
		rec.AMR = storage.List(amr)
	case ValueState:
		data.State, ok = v.(SignInState)
	case ValuePending:
		data.Pending, ok = v.(string)
	case ValueStepAt:
		var t time.Time
		t, ok = v.(time.Time)
		data.StepAt = &t
	case ValueReturnTo:
		data.ReturnTo, ok = v.(string)
	}
	return ok
}

// decodeValues fills values from a record.
func decodeValues(rec *storage.BrowserSession, values map[any]any) error {
	values[recordKey{}] = rec
	if rec.AccountID != "" {
		values[ValueAccountID] = rec.AccountID
	}
	if rec.AuthTime != nil {
		values[ValueAuthTime] = *rec.AuthTime
	}
	if len(rec.AMR) > 0 {
		values[ValueAMR] = []string(rec.AMR)
	}
	if len(rec.Data) == 0 {
		return nil
	}
	var data sessionData
	if err := json.Unmarshal(rec.Data, &data); err != nil {
		return fmt.Errorf("session data: %w", err)
	}
	set := func(key string, v any, present bool) {
		if present {
			values[key] = v
		}
	}
	set(ValueState, data.State, data.State != "")
	set(ValuePending, data.Pending, data.Pending != "")
	set(ValueReturnTo, data.ReturnTo, data.ReturnTo != "")
	if data.StepAt != nil {
		values[ValueStepAt] = *data.StepAt
	}
	return nil
}
