package storagetest

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

func pendingTests() []test {
	return []test{
		{"PurgesOldPendingOnly", testPurgePending},
	}
}

// testPurgePending: pending accounts created before the cut-off go, with
// their links and sessions, each with an audit event; newer pending
// accounts and active ones stay; the batch limit holds.
func testPurgePending(e *env) {
	s, inst := e.scope("opera")
	other, _ := e.scope("ballet")
	old1 := e.pendingAccount(s, "old1@x.org")
	old2 := e.pendingAccount(other, "old2@x.org")
	old3 := e.pendingAccount(s, "old3@x.org")
	e.actionToken(s, old1.ID, storage.PurposeActivate, "secret-old1", time.Hour)
	e.session(s, "sess-old1", old1.ID, time.Hour)
	active := e.account(s, storage.Customer, "ann@x.org")
	e.clock.Advance(31 * 24 * time.Hour)
	fresh := e.pendingAccount(s, "new@x.org")
	cutoff := e.clock.Now().Add(-30 * 24 * time.Hour)

	n, err := e.store.PurgePendingAccounts(e.ctx, cutoff, 2)
	mustCount(e.t, "first batch", n, err, 2)
	n, err = e.store.PurgePendingAccounts(e.ctx, cutoff, 2)
	mustCount(e.t, "second batch", n, err, 1)
	n, err = e.store.PurgePendingAccounts(e.ctx, cutoff, 2)
	mustCount(e.t, "nothing left", n, err, 0)
	for _, gone := range []struct {
		s  storage.Scoped
		id string
	}{{s, old1.ID}, {other, old2.ID}, {s, old3.ID}} {
		_, err := gone.s.GetAccount(e.ctx, gone.id)
		checkErr(e.t, "a purged account", err, storage.ErrNotFound)
	}
	for _, kept := range []string{active.ID, fresh.ID} {
		_, err := s.GetAccount(e.ctx, kept)
		must(e.t, "a kept account", err)
	}
	_, err = s.GetActionToken(e.ctx, storage.PurposeActivate, hash("secret-old1"))
	checkErr(e.t, "the purged account's link", err, storage.ErrNotFound)
	_, err = s.GetSession(e.ctx, "sess-old1")
	checkErr(e.t, "the purged account's session", err, storage.ErrNotFound)
	events, err := s.ListAudit(e.ctx, storage.AuditFilter{AccountID: old1.ID})
	must(e.t, "audit", err)
	if len(events) != 1 || events[0].Action != "account_purged" || events[0].Actor != "system" || events[0].InstitutionID != inst.ID {
		e.t.Errorf("the purge's audit trail: %+v", events)
	}
}

// pendingAccount creates an account never activated.
func (e *env) pendingAccount(s storage.Scoped, email string) *storage.Account {
	e.t.Helper()
	a := &storage.Account{Kind: storage.Customer, Email: email, Status: storage.Pending}
	must(e.t, "create pending account", s.CreateAccount(e.ctx, a))
	return a
}
