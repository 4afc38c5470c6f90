package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// fositeStore is fosite's storage for one institution, over the storage
// layer. It is built with the institution's provider and holds a cache of
// the institution's clients: the provider is rebuilt whenever the
// institution's version changes, which every client write raises.
type fositeStore struct {
	s          GrantStore
	tx         storage.Transactor
	life       Lifespans
	now        func() time.Time
	successors *seal.Sealer // seals the answers kept for the refresh grace period
	mu         sync.RWMutex
	clients    map[string]*storage.Client
}

var (
	_ fosite.ClientManager               = (*fositeStore)(nil)
	_ oauth2.CoreStorage                 = (*fositeStore)(nil)
	_ oauth2.TokenRevocationStorage      = (*fositeStore)(nil)
	_ pkce.PKCERequestStorage            = (*fositeStore)(nil)
	_ openid.OpenIDConnectRequestStorage = (*fositeStore)(nil)
	_ fositestorage.Transactional        = (*fositeStore)(nil)
)

func newFositeStore(s GrantStore, tx storage.Transactor, life Lifespans, now func() time.Time, successors *seal.Sealer) *fositeStore {
	return &fositeStore{s: s, tx: tx, life: life, now: now, successors: successors, clients: map[string]*storage.Client{}}
}

// signatureKey is how a token signature is stored: its SHA-256, so that a
// copy of the database holds no part of any token.
func signatureKey(signature string) string {
	sum := sha256.Sum256([]byte(signature))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// client returns the institution's client record, cached.
func (f *fositeStore) client(ctx context.Context, id string) (*storage.Client, error) {
	f.mu.RLock()
	c, ok := f.clients[id]
	f.mu.RUnlock()
	if ok {
		return c, nil
	}
	c, err := f.s.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.clients[id] = c
	f.mu.Unlock()
	return c, nil
}

// GetClient implements fosite.ClientManager.
func (f *fositeStore) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := f.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return fositeClient{c}, nil
}

// ClientAssertionJWTValid implements fosite.ClientManager.
func (f *fositeStore) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	if err := f.s.CheckJTI(ctx, jti); errors.Is(err, storage.ErrAlreadyUsed) {
		return fosite.ErrJTIKnown
	} else if err != nil {
		return err
	}
	return nil
}

// SetClientAssertionJWT implements fosite.ClientManager; a concurrent use of
// the same JWT ID loses.
func (f *fositeStore) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	if err := f.s.UseJTI(ctx, jti, exp); errors.Is(err, storage.ErrAlreadyUsed) {
		return fosite.ErrJTIKnown
	} else if err != nil {
		return err
	}
	return nil
}

// create stores a record of a request under the key of signature.
func (f *fositeStore) create(ctx context.Context, kind storage.OAuth2Kind, signature string, req fosite.Requester, accessSignature string) error {
	sess, ok := req.GetSession().(*session)
	if !ok {
		return fmt.Errorf("store %s: unexpected session type %T", kind, req.GetSession())
	}
	body, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("store %s: %w", kind, err)
	}
	rec := &storage.OAuth2Record{
		Kind: kind, Signature: signatureKey(signature), RequestID: req.GetID(), RequestedAt: req.GetRequestedAt(),
		ClientID: req.GetClient().GetID(), Subject: sess.GetSubject(),
		RequestedScopes: storage.List(req.GetRequestedScopes()), GrantedScopes: storage.List(req.GetGrantedScopes()),
		RequestedAudience: storage.List(req.GetRequestedAudience()), GrantedAudience: storage.List(req.GetGrantedAudience()),
		Form: req.GetRequestForm().Encode(), Session: body, Active: true, ExpiresAt: f.expiry(kind, sess, req),
	}
	if accessSignature != "" {
		rec.AccessSignature = signatureKey(accessSignature)
	}
	return f.add(ctx, rec)
}

// add stores rec, or collects it when ctx carries a pending list.
func (f *fositeStore) add(ctx context.Context, rec *storage.OAuth2Record) error {
	if p := pendingFrom(ctx); p != nil {
		p.records = append(p.records, rec)
		return nil
	}
	return f.s.CreateOAuth2(ctx, rec)
}

// fosite creates the records of a response one call at a time: the
// authorization endpoint's code with its PKCE and OpenID Connect records,
// the token endpoint's access and refresh tokens (and the answer kept for
// the refresh grace period), after it redeemed the code or rotated the
// refresh token presented. A context carrying a pending list has them
// collected, the redemption with them, and the endpoint writes it all at
// once when the response is made (writePending): one statement, all or
// nothing, so no transaction is needed and a failure while the response is
// made (say, signing the ID token) burns nothing. Nothing reads them before.
type pendingKey struct{}

type pending struct {
	records []*storage.OAuth2Record
	redeem  *redemption // the code or refresh token the response redeems
}

// redemption is a code redeemed, or a refresh token rotated (its access
// token ending with it).
type redemption struct {
	kind        storage.OAuth2Kind
	key, access string
}

// withPending returns ctx collecting the records created in it.
func withPending(ctx context.Context) (context.Context, *pending) {
	p := &pending{}
	return context.WithValue(ctx, pendingKey{}, p), p
}

func pendingFrom(ctx context.Context) *pending {
	p, _ := ctx.Value(pendingKey{}).(*pending)
	return p
}

// writePending stores what p collected, with the redemption it names. A
// code already used (also by a concurrent request: of two, one wins) is
// fosite.ErrInvalidatedAuthorizeCode, and the token endpoint then revokes
// what the winner got. A refresh token rotated by a concurrent request first
// (on PostgreSQL the write waited for that request's) gives this request
// that request's answer when the grace period allows it (errAnswerAgain);
// otherwise, and when it is gone, the answer is fosite's to a rotation that
// failed so: retry (and the retry is reuse).
func (f *fositeStore) writePending(ctx context.Context, p *pending) error {
	r := p.redeem
	if r == nil {
		return f.s.CreateOAuth2s(ctx, p.records)
	}
	err := f.s.RedeemOAuth2(ctx, r.kind, r.key, r.access, p.records)
	switch {
	case err == nil:
		return nil
	case r.kind == storage.KindCode && errors.Is(err, storage.ErrAlreadyUsed):
		if tr := tokenRequestFrom(ctx); tr != nil {
			tr.codeReplayed = true
		}
		return fosite.ErrInvalidatedAuthorizeCode
	case r.kind == storage.KindRefresh && errors.Is(err, storage.ErrAlreadyUsed):
		err = f.rotatedMeanwhile(ctx, r.key)
	case r.kind == storage.KindRefresh && errors.Is(err, storage.ErrNotFound):
		err = fosite.ErrNotFound
	}
	if r.kind == storage.KindRefresh && errors.Is(err, fosite.ErrNotFound) {
		return fosite.ErrInvalidRequest.WithWrap(err).WithHint("Failed to refresh token. Please retry the request.")
	}
	return err
}

// errNotPending: fosite redeems codes and rotates refresh tokens only while
// the token endpoint makes its response, under a pending write.
var errNotPending = errors.New("a code is redeemed, or a refresh token rotated, only with the token endpoint's write")

// redeemWithPending names the redemption that the pending write of ctx
// writes.
func redeemWithPending(ctx context.Context, r redemption) error {
	p := pendingFrom(ctx)
	if p == nil {
		return errNotPending
	}
	p.redeem = &r
	return nil
}

// expiry is when a record of this kind stops mattering, for the janitor.
// Records attached to a code live as long as the code.
func (f *fositeStore) expiry(kind storage.OAuth2Kind, sess *session, req fosite.Requester) time.Time {
	now := f.now()
	switch kind {
	case storage.KindAccess:
		return sess.expiry(fosite.AccessToken, now.Add(f.life.Access))
	case storage.KindRefresh:
		return sess.expiry(fosite.RefreshToken, now.Add(f.life.Refresh))
	}
	return sess.expiry(fosite.AuthorizeCode, req.GetRequestedAt().Add(f.life.Code))
}

// The token endpoint reads the same record twice within one request: fosite
// reads the code in HandleTokenEndpointRequest and again in
// PopulateTokenEndpointResponse, and a refresh token is read, then rotated.
// A cache carried by the request's context keeps the first read; a write to
// the record drops it. It lives as long as the request. A code is read
// with its PKCE and OpenID Connect records, which the endpoint reads next
// and which never change: one statement instead of three.
type recordCacheKey struct{}

// recordCache holds records by cacheKey; nil: known not to exist.
type recordCache map[string]*storage.OAuth2Record

func withRecordCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, recordCacheKey{}, recordCache{})
}

func cacheKey(kind storage.OAuth2Kind, key string) string { return string(kind) + "\x00" + key }

// lookup reads a record through the request's cache.
func (f *fositeStore) lookup(ctx context.Context, kind storage.OAuth2Kind, key string) (*storage.OAuth2Record, error) {
	c, _ := ctx.Value(recordCacheKey{}).(recordCache)
	if rec, ok := c[cacheKey(kind, key)]; ok {
		if rec == nil {
			return nil, storage.ErrNotFound
		}
		return rec, nil
	}
	if kind == storage.KindCode && c != nil {
		return f.lookupCode(ctx, c, key)
	}
	rec, err := f.s.GetOAuth2(ctx, kind, key)
	if err == nil && c != nil {
		c[cacheKey(kind, key)] = rec
	}
	return rec, err
}

// lookupCode reads the code of key with the records of its authorization
// into c, and returns the code. A code without a PKCE record (a client
// that sent no challenge) is cached as having none: fosite asks.
func (f *fositeStore) lookupCode(ctx context.Context, c recordCache, key string) (*storage.OAuth2Record, error) {
	recs, err := f.s.GetOAuth2Code(ctx, key)
	if err != nil {
		return nil, err
	}
	c[cacheKey(storage.KindPKCE, key)] = nil
	var code *storage.OAuth2Record
	for _, rec := range recs {
		c[cacheKey(rec.Kind, rec.Signature)] = rec
		if rec.Kind == storage.KindCode {
			code = rec
		}
	}
	return code, nil
}

// forget drops a record the request is about to change from its cache.
func forget(ctx context.Context, kind storage.OAuth2Kind, key string) {
	if c, _ := ctx.Value(recordCacheKey{}).(recordCache); c != nil {
		delete(c, cacheKey(kind, key))
	}
}

// forgetAll empties the request's cache (a whole family is revoked).
func forgetAll(ctx context.Context) {
	if c, _ := ctx.Value(recordCacheKey{}).(recordCache); c != nil {
		clear(c)
	}
}

// get rebuilds the stored request. The session is decoded into the one
// fosite passes (it is the request's own session, filled on purpose), or a
// fresh one when fosite passes none.
func (f *fositeStore) get(ctx context.Context, kind storage.OAuth2Kind, signature string, sess fosite.Session) (*fosite.Request, *storage.OAuth2Record, error) {
	rec, err := f.lookup(ctx, kind, signatureKey(signature))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	client, err := f.GetClient(ctx, rec.ClientID)
	if err != nil {
		return nil, nil, err // a deleted client's grants end with it
	}
	if sess == nil {
		sess = newSession()
	}
	if err := json.Unmarshal(rec.Session, sess); err != nil {
		return nil, nil, fmt.Errorf("decode %s session: %w", kind, err)
	}
	form, err := url.ParseQuery(rec.Form)
	if err != nil {
		return nil, nil, fmt.Errorf("decode %s form: %w", kind, err)
	}
	return &fosite.Request{
		ID: rec.RequestID, RequestedAt: rec.RequestedAt, Client: client, Form: form, Session: sess,
		RequestedScope: fosite.Arguments(rec.RequestedScopes), GrantedScope: fosite.Arguments(rec.GrantedScopes),
		RequestedAudience: fosite.Arguments(rec.RequestedAudience), GrantedAudience: fosite.Arguments(rec.GrantedAudience),
	}, rec, nil
}

// remove deletes a record; a missing one is fine.
func (f *fositeStore) remove(ctx context.Context, kind storage.OAuth2Kind, signature string) error {
	forget(ctx, kind, signatureKey(signature))
	if err := f.s.DeleteOAuth2(ctx, kind, signatureKey(signature)); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (f *fositeStore) CreateAuthorizeCodeSession(ctx context.Context, signature string, req fosite.Requester) error {
	return f.create(ctx, storage.KindCode, signature, req, "")
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage. A used
// code comes back WITH its request and ErrInvalidatedAuthorizeCode: fosite
// then revokes the tokens issued from it.
func (f *fositeStore) GetAuthorizeCodeSession(ctx context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	req, rec, err := f.get(ctx, storage.KindCode, signature, sess)
	if err != nil {
		return nil, err
	}
	tr := tokenRequestFrom(ctx)
	if tr != nil {
		tr.grantID = rec.RequestID
	}
	if !rec.Active {
		if tr != nil {
			tr.codeReplayed = true
		}
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage:
// the code is redeemed with the write of the tokens issued from it
// (writePending).
func (f *fositeStore) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	key := signatureKey(signature)
	forget(ctx, storage.KindCode, key)
	return redeemWithPending(ctx, redemption{kind: storage.KindCode, key: key})
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage. A JWT
// access token is not stored: it carries its grant and its signature vouches
// for it (jwtaccess.go), so a client credentials grant of a client
// registered for JWTs writes nothing at all.
func (f *fositeStore) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	if selfContained(req) {
		return nil
	}
	return f.create(ctx, storage.KindAccess, signature, req, "")
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (f *fositeStore) GetAccessTokenSession(ctx context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	req, rec, err := f.get(ctx, storage.KindAccess, signature, sess)
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (f *fositeStore) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return f.remove(ctx, storage.KindAccess, signature)
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (f *fositeStore) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, req fosite.Requester) error {
	if tr := tokenRequestFrom(ctx); tr != nil {
		tr.successor = signatureKey(signature)
	}
	if selfContained(req) {
		accessSignature = "" // no row to end at rotation
	}
	return f.create(ctx, storage.KindRefresh, signature, req, accessSignature)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage. A rotated
// token comes back with its request and ErrInactiveToken, so fosite revokes
// the family (reuse detection), unless the token endpoint may give it the
// answer of its rotation again (see refreshgrace.go).
func (f *fositeStore) GetRefreshTokenSession(ctx context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	req, rec, err := f.get(ctx, storage.KindRefresh, signature, sess)
	if err != nil {
		return nil, err
	}
	tr := tokenRequestFrom(ctx)
	if tr != nil {
		tr.grantID = rec.RequestID
	}
	if rec.Active {
		return req, nil
	}
	if tr == nil {
		return req, fosite.ErrInactiveToken
	}
	succ, err := f.replayable(ctx, rec)
	if err != nil {
		return nil, err
	}
	if succ == nil {
		tr.refreshReused = true
		return req, fosite.ErrInactiveToken
	}
	tr.replay = succ
	return req, nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (f *fositeStore) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return f.remove(ctx, storage.KindRefresh, signature)
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage: the refresh token
// is marked used (its use starts the grace period) and the access token
// issued with it ends, with the write of the new tokens (writePending,
// which also answers a rotation that a concurrent request made first).
func (f *fositeStore) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	key := signatureKey(signature)
	rec, err := f.lookup(ctx, storage.KindRefresh, key) // read by GetRefreshTokenSession in this request
	if errors.Is(err, storage.ErrNotFound) {
		return fosite.ErrNotFound
	}
	if err != nil {
		return err
	}
	forget(ctx, storage.KindRefresh, key)
	if err := redeemWithPending(ctx, redemption{kind: storage.KindRefresh, key: key, access: rec.AccessSignature}); err != nil {
		return err
	}
	if tr := tokenRequestFrom(ctx); tr != nil {
		tr.rotated = key
	}
	return nil
}

// rotatedMeanwhile answers a rotation that a concurrent request made first.
func (f *fositeStore) rotatedMeanwhile(ctx context.Context, key string) error {
	tr := tokenRequestFrom(ctx)
	if tr == nil {
		return fosite.ErrNotFound
	}
	rec, err := f.s.GetOAuth2(ctx, storage.KindRefresh, key)
	if errors.Is(err, storage.ErrNotFound) {
		return fosite.ErrNotFound
	}
	if err != nil {
		return err
	}
	succ, err := f.replayable(ctx, rec)
	if err != nil {
		return err
	}
	if succ == nil {
		return fosite.ErrNotFound
	}
	tr.replay = succ
	return errAnswerAgain
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage: the whole
// family (every refresh token of the grant) ends.
func (f *fositeStore) RevokeRefreshToken(ctx context.Context, requestID string) error {
	forgetAll(ctx)
	_, err := f.s.RevokeOAuth2Family(ctx, storage.KindRefresh, requestID)
	return err
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage.
func (f *fositeStore) RevokeAccessToken(ctx context.Context, requestID string) error {
	forgetAll(ctx)
	_, err := f.s.RevokeOAuth2Family(ctx, storage.KindAccess, requestID)
	return err
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (f *fositeStore) CreatePKCERequestSession(ctx context.Context, signature string, req fosite.Requester) error {
	return f.create(ctx, storage.KindPKCE, signature, req, "")
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (f *fositeStore) GetPKCERequestSession(ctx context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	req, _, err := f.get(ctx, storage.KindPKCE, signature, sess)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage by doing
// nothing: fosite deletes the challenge before comparing the verifier, so a
// failed attempt would leave the code redeemable without PKCE. The record
// expires with its code and the janitor removes it.
func (f *fositeStore) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return nil
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
// fosite passes the whole authorization code here, hashed like a signature.
func (f *fositeStore) CreateOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) error {
	return f.create(ctx, storage.KindOIDC, code, req, "")
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (f *fositeStore) GetOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) (fosite.Requester, error) {
	got, _, err := f.get(ctx, storage.KindOIDC, code, req.GetSession())
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, openid.ErrNoSessionFound
	}
	if err != nil {
		return nil, err
	}
	return got, nil
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage
// by doing nothing, as DeletePKCERequestSession: fosite reads this record
// only while it redeems the code, after the code's own record was found
// active, and the code is deactivated with the write of its tokens, so a
// used code never reaches it again (a replay is refused at the code, and of
// two concurrent redemptions the loser's write fails and stores nothing).
// The record expires with its code, like the code's own record kept for
// replay detection, and the janitor removes it. One DELETE fewer per code
// flow.
func (f *fositeStore) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return nil
}

// BeginTX implements fosite's storage.Transactional. Under a pending write
// (the token endpoint's) there is nothing to join: fosite's writes are
// collected and written at once, all or nothing.
func (f *fositeStore) BeginTX(ctx context.Context) (context.Context, error) {
	if pendingFrom(ctx) != nil {
		return ctx, nil
	}
	return f.tx.BeginTx(ctx)
}

// Commit implements fosite's storage.Transactional.
func (f *fositeStore) Commit(ctx context.Context) error {
	if pendingFrom(ctx) != nil {
		return nil
	}
	return f.tx.Commit(ctx)
}

// Rollback implements fosite's storage.Transactional.
func (f *fositeStore) Rollback(ctx context.Context) error {
	if pendingFrom(ctx) != nil {
		return nil
	}
	return f.tx.Rollback(ctx)
}
