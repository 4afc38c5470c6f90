package storagetest

import (
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

// purgeTests has one test per storage.Purge: janitorTests fails for a Purge
// without one, so a new kind cannot go untested.
var purgeTests = map[storage.Purge]func(e *env){
	storage.PurgeOAuth2:       testPurgeOAuth2,
	storage.PurgeSessions:     testPurgeSessions,
	storage.PurgeActionTokens: testPurgeActionTokens,
	storage.PurgeJTIs:         testPurgeJTIs,
	storage.PurgeThrottles:    testPurgeThrottles,
	storage.PurgeSigningKeys:  testPurgeSigningKeys,
	storage.PurgeOutbox:       testPurgeOutbox,
}

func janitorTests() []test {
	var tests []test
	for _, p := range storage.Purges() {
		fn := purgeTests[p]
		if fn == nil {
			fn = func(e *env) { e.t.Fatalf("purge %q has no conformance test", p) }
		}
		tests = append(tests, test{"Purge_" + string(p), fn})
	}
	return append(tests,
		test{"UnknownPurge", testPurgeUnknown},
		test{"ThrottleWindowLongerThanADayIsKept", testPurgeLongThrottle},
	)
}

// purgeAll purges in batches of 2 until a batch is short, checks that five
// rows went in batches of 2, 2 and 1, and that nothing more is left.
func (e *env) purgeAll(what storage.Purge) {
	e.t.Helper()
	var got []int
	for range 10 {
		n, err := e.store.PurgeExpired(e.ctx, what, 2)
		must(e.t, fmt.Sprintf("purge %s", what), err)
		got = append(got, n)
		if n < 2 {
			break
		}
	}
	mustEqual(e.t, fmt.Sprintf("batches of 2 purging 5 %s", what), got, []int{2, 2, 1})
	n, err := e.store.PurgeExpired(e.ctx, what, 2)
	mustCount(e.t, fmt.Sprintf("purge %s once everything expired is gone", what), n, err, 0)
}

// twoScopes returns two institutions' views: expired rows go into both, as
// the janitor works across institutions.
func (e *env) twoScopes() (a, b storage.Scoped) {
	a, _ = e.scope("opera")
	b, _ = e.scope("ballet")
	return a, b
}

// pick spreads rows over two institutions: three in a, two in b.
func pick(i int, a, b storage.Scoped) storage.Scoped {
	if i%2 == 0 {
		return a
	}
	return b
}

func testPurgeOAuth2(e *env) {
	a, b := e.twoScopes()
	for i := range 5 {
		kind := allKinds[i%len(allKinds)]
		e.createOAuth2(pick(i, a, b), e.oauth2Record(kind, fmt.Sprint("old-", i), "req", "sub", time.Hour))
	}
	e.createOAuth2(a, e.oauth2Record(storage.KindRefresh, "live-a", "req", "sub", 3*time.Hour))
	e.createOAuth2(b, e.oauth2Record(storage.KindAccess, "live-b", "req", "sub", 3*time.Hour))
	e.clock.Advance(2 * time.Hour)
	e.purgeAll(storage.PurgeOAuth2)
	for i := range 5 {
		_, err := pick(i, a, b).GetOAuth2(e.ctx, allKinds[i%len(allKinds)], fmt.Sprint("old-", i))
		checkErr(e.t, fmt.Sprint("get purged record old-", i), err, storage.ErrNotFound)
	}
	e.getOAuth2(a, storage.KindRefresh, "live-a")
	e.getOAuth2(b, storage.KindAccess, "live-b")
}

func testPurgeSessions(e *env) {
	a, b := e.twoScopes()
	for i := range 5 {
		e.session(pick(i, a, b), fmt.Sprint("old-", i), "acct", time.Hour)
	}
	e.session(a, "live-a", "acct", 3*time.Hour)
	e.session(b, "live-b", "acct", 3*time.Hour)
	e.clock.Advance(2 * time.Hour)
	e.purgeAll(storage.PurgeSessions)
	e.getSession(a, "live-a")
	e.getSession(b, "live-b")
	n, err := a.DeleteAccountSessions(e.ctx, "acct", "")
	mustCount(e.t, "sessions left in a (the live one)", n, err, 1)
}

func testPurgeActionTokens(e *env) {
	a, b := e.twoScopes()
	type link struct {
		s      storage.Scoped
		secret string
	}
	var expired, spent []link
	newLink := func(i int, prefix string, ttl time.Duration, use bool) link {
		s := pick(i, a, b)
		acct := e.account(s, storage.Customer, fmt.Sprintf("%s%d@x.org", prefix, i))
		l := link{s, fmt.Sprint(prefix, i)}
		e.actionToken(s, acct.ID, storage.PurposeReset, l.secret, ttl)
		if use {
			_, err := s.ConsumeActionToken(e.ctx, storage.PurposeReset, hash(l.secret))
			must(e.t, "consume "+l.secret, err)
		}
		return l
	}
	for i := range 3 {
		expired = append(expired, newLink(i, "expired", time.Hour, false))
	}
	for i := range 2 {
		spent = append(spent, newLink(i+3, "spent", 72*time.Hour, true))
	}
	e.clock.Advance(24 * time.Hour)
	recent := newLink(0, "recent", 72*time.Hour, true)
	live := newLink(1, "live", 72*time.Hour, false)
	e.clock.Advance(time.Hour)
	e.purgeAll(storage.PurgeActionTokens)
	for _, l := range append(expired, spent...) {
		_, err := l.s.GetActionToken(e.ctx, storage.PurposeReset, hash(l.secret))
		checkErr(e.t, "get purged link "+l.secret, err, storage.ErrNotFound)
	}
	_, err := recent.s.GetActionToken(e.ctx, storage.PurposeReset, hash(recent.secret))
	checkErr(e.t, "get the link used an hour ago (kept)", err, storage.ErrAlreadyUsed)
	_, err = live.s.GetActionToken(e.ctx, storage.PurposeReset, hash(live.secret))
	checkErr(e.t, "get the live link", err, nil)
}

func testPurgeJTIs(e *env) {
	a, b := e.twoScopes()
	for i := range 5 {
		must(e.t, "use old jti", pick(i, a, b).UseJTI(e.ctx, fmt.Sprint("old-", i), e.clock.Now().Add(time.Hour)))
	}
	must(e.t, "use live jti in a", a.UseJTI(e.ctx, "live", e.clock.Now().Add(3*time.Hour)))
	must(e.t, "use live jti in b", b.UseJTI(e.ctx, "live", e.clock.Now().Add(3*time.Hour)))
	e.clock.Advance(2 * time.Hour)
	e.purgeAll(storage.PurgeJTIs)
	checkErr(e.t, "check the live jti in a", a.CheckJTI(e.ctx, "live"), storage.ErrAlreadyUsed)
	checkErr(e.t, "check the live jti in b", b.CheckJTI(e.ctx, "live"), storage.ErrAlreadyUsed)
}

func testPurgeThrottles(e *env) {
	a, b := e.twoScopes()
	for i := range 5 {
		e.hit(pick(i, a, b), fmt.Sprint("old-", i), 15*time.Minute, 1)
	}
	e.hit(a, "live", 48*time.Hour, 1)
	e.hit(b, "live", 48*time.Hour, 1)
	e.clock.Advance(time.Hour) // the 15-minute windows have ended, the 48-hour ones have not
	e.purgeAll(storage.PurgeThrottles)
	for i := range 5 {
		e.throttleCount(pick(i, a, b), fmt.Sprint("old-", i), 0)
	}
	e.throttleCount(a, "live", 1)
	e.throttleCount(b, "live", 1)
}

// testPurgeLongThrottle: PurgeThrottles removes windows that have ended. A
// window of 48 hours that started 25 hours ago has not, and its count must
// survive the janitor.
func testPurgeLongThrottle(e *env) {
	s, _ := e.scope("opera")
	e.hit(s, "emails:ann", 48*time.Hour, 1)
	e.hit(s, "emails:ann", 48*time.Hour, 2)
	e.clock.Advance(25 * time.Hour)
	e.throttleCount(s, "emails:ann", 2)
	n, err := e.store.PurgeExpired(e.ctx, storage.PurgeThrottles, 100)
	must(e.t, "purge throttles", err)
	if n != 0 {
		e.t.Errorf("purge throttles: want 0 removed (the 48h window is not over), got %d", n)
	}
	e.throttleCount(s, "emails:ann", 2)
}

func testPurgeSigningKeys(e *env) {
	a, b := e.twoScopes()
	retire := func(s storage.Scoped, id string, ttl time.Duration) {
		k := signingKey(id)
		k.State, k.ExpiresAt = storage.KeyRetired, ptr(e.clock.Now().Add(ttl))
		must(e.t, "create retired key "+id, s.CreateSigningKey(e.ctx, k))
	}
	for i := range 5 {
		retire(pick(i, a, b), fmt.Sprint("old-", i), time.Hour)
	}
	retire(a, "live-retired", 3*time.Hour)
	must(e.t, "create the next key", b.CreateSigningKey(e.ctx, signingKey("live-next")))
	e.clock.Advance(2 * time.Hour)
	e.purgeAll(storage.PurgeSigningKeys)
	mustEqual(e.t, "keys of a", keyIDs(e.listKeys(a)), []string{"live-retired"})
	mustEqual(e.t, "keys of b", keyIDs(e.listKeys(b)), []string{"live-next"})
	for i := range 5 {
		err := pick(i, a, b).TransitionSigningKey(e.ctx, fmt.Sprint("old-", i), storage.KeyNext, storage.KeyCurrent, nil)
		checkErr(e.t, fmt.Sprint("transition purged key old-", i), err, storage.ErrNotFound)
	}
}

func testPurgeUnknown(e *env) {
	if _, err := e.store.PurgeExpired(e.ctx, storage.Purge("everything"), 10); err == nil {
		e.t.Fatal("purge an unknown kind: want an error, got none")
	}
}

// testPurgeOutbox: sent and failed emails older than the retention go;
// younger ones stay, and a queued email stays whatever its age.
func testPurgeOutbox(e *env) {
	a, b := e.twoScopes()
	var old []*storage.OutboxEmail
	for i := range 5 {
		old = append(old, e.enqueue(pick(i, a, b), fmt.Sprint("old-", i)))
	}
	stuck := e.enqueue(a, "queued long ago")
	e.claim(10, time.Minute)
	for i, m := range old {
		if i%2 == 0 {
			must(e.t, "mark sent", e.store.MarkEmailSent(e.ctx, m.ID))
		} else {
			must(e.t, "mark failed", e.store.MarkEmailFailed(e.ctx, m.ID, "550"))
		}
	}
	must(e.t, "mark the stuck email for later", e.store.MarkEmailRetry(e.ctx, stuck.ID, e.clock.Now().Add(time.Hour), "451"))
	e.clock.Advance(storage.DefaultOutboxRetention - 24*time.Hour)
	recentSent, recentFailed := e.enqueue(a, "recent sent"), e.enqueue(b, "recent failed")
	must(e.t, "mark sent", e.store.MarkEmailSent(e.ctx, recentSent.ID))
	must(e.t, "mark failed", e.store.MarkEmailFailed(e.ctx, recentFailed.ID, "550"))
	e.clock.Advance(24*time.Hour + time.Second)
	e.purgeAll(storage.PurgeOutbox)
	for i, m := range old {
		_, err := pick(i, a, b).GetEmail(e.ctx, m.ID)
		checkErr(e.t, fmt.Sprint("get purged email old-", i), err, storage.ErrNotFound)
	}
	e.getEmail(a, stuck.ID)
	e.getEmail(a, recentSent.ID)
	e.getEmail(b, recentFailed.ID)
}
