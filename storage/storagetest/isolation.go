package storagetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

func isolationTests() []test {
	return []test{
		{"ReadsSeeNothingOfAnother", testIsolationReads},
		{"WritesCannotReachAnother", testIsolationWrites},
		{"SameKeysInBothInstitutions", testIsolationSameKeys},
	}
}

// world is one of everything, in one institution.
type world struct {
	s       storage.Scoped
	account *storage.Account
	client  string
	secret  string // of the action token
	session string
	request string // request ID of the OAuth2 records
	jti     string
	key     string
	email   string
	thr     string // throttle key
	code    []byte // a recovery code
}

// signature is the signature of w's OAuth2 record of kind.
func (w *world) signature(kind storage.OAuth2Kind) string { return "sig-" + string(kind) }

const throttleWindow = time.Hour

// build creates one of everything in s.
func (e *env) build(s storage.Scoped) *world {
	e.t.Helper()
	w := &world{s: s, client: "shop", secret: "link", session: "sess", request: "req", jti: "jti", key: "kid", thr: "ip:192.0.2.1", code: hash("code")}
	w.account = e.account(s, storage.Operator, "ann@x.org")
	must(e.t, "advance TOTP step", s.AdvanceTOTPStep(e.ctx, w.account.ID, 5))
	must(e.t, "store recovery codes", s.ReplaceRecoveryCodes(e.ctx, w.account.ID, [][]byte{w.code, hash("other")}))
	must(e.t, "create client", s.CreateClient(e.ctx, fullClient(w.client)))
	e.actionToken(s, w.account.ID, storage.PurposeReset, w.secret, time.Hour)
	e.session(s, w.session, w.account.ID, time.Hour)
	for _, kind := range allKinds {
		e.createOAuth2(s, e.oauth2Record(kind, w.signature(kind), w.request, w.account.ID, time.Hour))
	}
	must(e.t, "use jti", s.UseJTI(e.ctx, w.jti, e.clock.Now().Add(time.Hour)))
	must(e.t, "create signing key", s.CreateSigningKey(e.ctx, signingKey(w.key)))
	w.email = e.enqueue(s, "hello").ID
	must(e.t, "record audit", s.RecordAudit(e.ctx, &storage.AuditEvent{AccountID: w.account.ID, Actor: "self", Action: "sign_in"}))
	for want := 1; want <= 3; want++ {
		e.hit(s, w.thr, throttleWindow, want)
	}
	return w
}

// snapshot is everything of a world that can be read back.
type snapshot struct {
	Account       storage.Account
	Accounts      []storage.Account
	Client        storage.Client
	Token         storage.ActionToken
	Session       storage.BrowserSession
	OAuth2        []storage.OAuth2Record
	JTIUsed       bool
	Keys          []storage.SigningKey
	Email         storage.OutboxEmail
	Audit         []storage.AuditEvent
	Throttle      int
	RecoveryCodes int
}

// snapshot reads everything of w.
func (e *env) snapshot(w *world) snapshot {
	e.t.Helper()
	var snap snapshot
	var err error
	snap.Account = e.getAccount(w.s, w.account.ID)
	snap.Accounts, err = w.s.ListAccounts(e.ctx, storage.AccountFilter{})
	must(e.t, "list accounts", err)
	c, err := w.s.GetClient(e.ctx, w.client)
	must(e.t, "get client", err)
	snap.Client = *c
	tok, err := w.s.GetActionToken(e.ctx, storage.PurposeReset, hash(w.secret))
	must(e.t, "get action token", err)
	snap.Token = *tok
	snap.Session = e.getSession(w.s, w.session)
	for _, kind := range allKinds {
		snap.OAuth2 = append(snap.OAuth2, e.getOAuth2(w.s, kind, w.signature(kind)))
	}
	snap.JTIUsed = errors.Is(w.s.CheckJTI(e.ctx, w.jti), storage.ErrAlreadyUsed)
	snap.Keys = e.listKeys(w.s)
	snap.Email = e.getEmail(w.s, w.email)
	snap.Audit, err = w.s.ListAudit(e.ctx, storage.AuditFilter{})
	must(e.t, "list audit", err)
	th, err := w.s.GetThrottle(e.ctx, w.thr)
	must(e.t, "get throttle", err)
	snap.Throttle = th.Count
	snap.RecoveryCodes, err = w.s.CountRecoveryCodes(e.ctx, w.account.ID)
	must(e.t, "count recovery codes", err)
	return snap
}

// worlds builds one of everything in institution A, and an empty B.
func (e *env) worlds() (a *world, b storage.Scoped) {
	sa, _ := e.scope("a")
	sb, _ := e.scope("b")
	return e.build(sa), sb
}

func testIsolationReads(e *env) {
	a, b := e.worlds()
	ctx := e.ctx
	notFound := func(what string, err error) { e.t.Helper(); checkErr(e.t, what+" through B", err, storage.ErrNotFound) }
	empty := func(what string, n int, err error) {
		e.t.Helper()
		if err != nil || n != 0 {
			e.t.Errorf("%s through B: want nothing, got %d, %v", what, n, err)
		}
	}
	_, err := b.GetAccount(ctx, a.account.ID)
	notFound("GetAccount", err)
	_, err = b.GetAccountByEmail(ctx, storage.Operator, "ann@x.org")
	notFound("GetAccountByEmail", err)
	accounts, err := b.ListAccounts(ctx, storage.AccountFilter{})
	empty("ListAccounts", len(accounts), err)
	_, err = b.GetClient(ctx, a.client)
	notFound("GetClient", err)
	clients, err := b.ListClients(ctx)
	empty("ListClients", len(clients), err)
	_, err = b.GetActionToken(ctx, storage.PurposeReset, hash(a.secret))
	notFound("GetActionToken", err)
	_, err = b.GetSession(ctx, a.session)
	notFound("GetSession", err)
	for _, kind := range allKinds {
		_, err = b.GetOAuth2(ctx, kind, a.signature(kind))
		notFound("GetOAuth2 "+string(kind), err)
	}
	checkErr(e.t, "CheckJTI through B", b.CheckJTI(ctx, a.jti), nil)
	keys, err := b.ListSigningKeys(ctx)
	empty("ListSigningKeys", len(keys), err)
	_, err = b.GetEmail(ctx, a.email)
	notFound("GetEmail", err)
	emails, err := b.ListEmails(ctx, storage.OutboxFilter{})
	empty("ListEmails", len(emails), err)
	events, err := b.ListAudit(ctx, storage.AuditFilter{})
	empty("ListAudit", len(events), err)
	th, err := b.GetThrottle(ctx, a.thr)
	empty("GetThrottle", th.Count, err)
	n, err := b.CountRecoveryCodes(ctx, a.account.ID)
	if (err != nil && !errors.Is(err, storage.ErrNotFound)) || n != 0 {
		e.t.Errorf("CountRecoveryCodes through B: want 0 or ErrNotFound, got %d, %v", n, err)
	}
}

// crossWrite is a write through B aimed at A's records. want is the error
// the contract names for a record that does not exist in B; nil when the
// contract names none, and then any outcome that changes nothing of A is fine.
type crossWrite struct {
	name string
	want error
	do   func() (int, error)
}

func (e *env) crossWrites(a *world, b storage.Scoped) []crossWrite {
	ctx, id := e.ctx, a.account.ID
	none := func(err error) (int, error) { return 0, err }
	writes := []crossWrite{
		{"UpdateAccount", storage.ErrNotFound, func() (int, error) {
			acct := *a.account
			acct.GivenName, acct.Status = "Mallory", storage.Disabled
			return none(b.UpdateAccount(ctx, &acct))
		}},
		{"RecordSignInFailure", nil, func() (int, error) { _, err := b.RecordSignInFailure(ctx, id); return none(err) }},
		{"ResetSignInFailures", nil, func() (int, error) { return none(b.ResetSignInFailures(ctx, id)) }},
		{"LockAccount", nil, func() (int, error) { return none(b.LockAccount(ctx, id, ptr(e.clock.Now().Add(time.Hour)))) }},
		{"AdvanceTOTPStep", nil, func() (int, error) { return none(b.AdvanceTOTPStep(ctx, id, 1000)) }},
		{"ReplaceRecoveryCodes", nil, func() (int, error) { return none(b.ReplaceRecoveryCodes(ctx, id, [][]byte{hash("mallory")})) }},
		{"UseRecoveryCode", storage.ErrNotFound, func() (int, error) { return none(b.UseRecoveryCode(ctx, id, a.code)) }},
		{"UpdateClient", storage.ErrNotFound, func() (int, error) { return none(b.UpdateClient(ctx, &storage.Client{ID: a.client, Name: "Mallory"})) }},
		{"DeleteClient", storage.ErrNotFound, func() (int, error) { return none(b.DeleteClient(ctx, a.client)) }},
		{"ConsumeActionToken", storage.ErrNotFound, func() (int, error) {
			_, err := b.ConsumeActionToken(ctx, storage.PurposeReset, hash(a.secret))
			return none(err)
		}},
		{"InvalidateActionTokens", nil, func() (int, error) { return b.InvalidateActionTokens(ctx, id, "") }},
		{"SaveSession", nil, func() (int, error) {
			return none(b.SaveSession(ctx, &storage.BrowserSession{ID: a.session, AccountID: "mallory", ExpiresAt: e.clock.Now().Add(time.Hour)}))
		}},
		{"DeleteSession", nil, func() (int, error) { return none(b.DeleteSession(ctx, a.session)) }},
		{"DeleteAccountSessions", nil, func() (int, error) { return b.DeleteAccountSessions(ctx, id, "") }},
		{"RevokeOAuth2Subject", nil, func() (int, error) { return b.RevokeOAuth2Subject(ctx, id) }},
		{"TransitionSigningKey", storage.ErrNotFound, func() (int, error) {
			return none(b.TransitionSigningKey(ctx, a.key, storage.KeyNext, storage.KeyCurrent, nil))
		}},
		{"RetryEmail", storage.ErrNotFound, func() (int, error) { return none(b.RetryEmail(ctx, a.email)) }},
		{"ResetThrottle", nil, func() (int, error) { return none(b.ResetThrottle(ctx, a.thr)) }},
	}
	for _, kind := range allKinds {
		sig := a.signature(kind)
		writes = append(writes,
			crossWrite{"DeactivateOAuth2 " + string(kind), storage.ErrNotFound, func() (int, error) { return none(b.DeactivateOAuth2(ctx, kind, sig)) }},
			crossWrite{"RedeemOAuth2 " + string(kind), storage.ErrNotFound, func() (int, error) {
				return none(b.RedeemOAuth2(ctx, kind, sig, a.signature(storage.KindAccess), nil))
			}},
			crossWrite{"RevokeOAuth2Family " + string(kind), nil, func() (int, error) { return b.RevokeOAuth2Family(ctx, kind, a.request) }},
			crossWrite{"DeleteOAuth2 " + string(kind), storage.ErrNotFound, func() (int, error) { return none(b.DeleteOAuth2(ctx, kind, sig)) }},
		)
	}
	return writes
}

func testIsolationWrites(e *env) {
	a, b := e.worlds()
	before := e.snapshot(a)
	for _, w := range e.crossWrites(a, b) {
		n, err := w.do()
		switch {
		case w.want != nil && !errors.Is(err, w.want):
			e.t.Errorf("%s through B on A's record: want an error that is %q, got %v", w.name, w.want, err)
		case err == nil && n != 0:
			e.t.Errorf("%s through B on A's records: want 0 changed, got %d", w.name, n)
		}
	}
	mustEqual(e.t, "A's records after B's writes", e.snapshot(a), before)
}

func testIsolationSameKeys(e *env) {
	a, b := e.worlds()
	before := e.snapshot(a)
	must(e.t, "use A's JWT ID in B", b.UseJTI(e.ctx, a.jti, e.clock.Now().Add(time.Hour)))
	e.hit(b, a.thr, throttleWindow, 1)
	bAcct := e.account(b, storage.Operator, "ANN@x.org")
	must(e.t, "store the same recovery code hash in B", b.ReplaceRecoveryCodes(e.ctx, bAcct.ID, [][]byte{a.code}))
	must(e.t, "use it in B", b.UseRecoveryCode(e.ctx, bAcct.ID, a.code))
	n, err := b.RevokeOAuth2Subject(e.ctx, a.account.ID)
	mustCount(e.t, "revoke A's subject through B", n, err, 0)
	mustEqual(e.t, "A's records after B used the same keys", e.snapshot(a), before)
	if err := a.s.UseRecoveryCode(e.ctx, a.account.ID, a.code); err != nil {
		e.t.Fatal(fmt.Errorf("use A's recovery code after B used the same hash: %w", err))
	}
}
