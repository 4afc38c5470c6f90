package storagetest

import (
	"fmt"
	"slices"
	"time"

	"github.com/usher-idp/usher/storage"
)

func outboxTests() []test {
	return []test{
		{"RoundTripEveryField", testEmailRoundTrip},
		{"EnqueueIsQueued", testEmailEnqueueQueued},
		{"NotFound", testEmailNotFound},
		{"ListNewestFirstAndFilters", testEmailList},
		{"ListDefaultLimit", testEmailListDefaultLimit},
		{"ClaimLeases", testClaimLease},
		{"RenewClaims", testRenewClaims},
		{"ClaimLimit", testClaimLimit},
		{"ClaimOnlyDue", testClaimOnlyDue},
		{"ClaimAcrossInstitutions", testClaimInstitutions},
		{"MarkSent", testMarkSent},
		{"MarkRetry", testMarkRetry},
		{"MarkFailedThenRetry", testMarkFailed},
		{"RetryQueuedIsDueNow", testRetryQueued},
		{"MarkAfterSentIsConflict", testMarkAfterSent},
		{"NoContentIsNil", testEmailNoContent},
		{"SentIsBlankedFailedIsKept", testEmailBlankedWhenSent},
	}
}

// getEmail reads an email that must exist.
func (e *env) getEmail(s storage.Scoped, id string) storage.OutboxEmail {
	e.t.Helper()
	m, err := s.GetEmail(e.ctx, id)
	must(e.t, "get email", err)
	return *m
}

// claim claims due emails and returns their IDs, sorted.
func (e *env) claim(limit int, lease time.Duration) []string {
	e.t.Helper()
	list, err := e.store.ClaimEmails(e.ctx, limit, lease)
	must(e.t, "claim emails", err)
	ids := make([]string, len(list))
	for i, m := range list {
		ids[i] = m.ID
	}
	slices.Sort(ids)
	return ids
}

// sortedIDs returns the IDs of emails, sorted.
func sortedIDs(emails ...*storage.OutboxEmail) []string {
	ids := make([]string, len(emails))
	for i, m := range emails {
		ids[i] = m.ID
	}
	slices.Sort(ids)
	return ids
}

func testEmailRoundTrip(e *env) {
	s, inst := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	m := email(a.ID, "Reset your password")
	m.NextAttemptAt = odd(e.clock.Now().Add(time.Minute))
	must(e.t, "enqueue", s.EnqueueEmail(e.ctx, m))
	if m.ID == "" {
		e.t.Fatal("enqueue: want an ID assigned, got none")
	}
	want := *email(a.ID, "Reset your password")
	want.ID, want.InstitutionID, want.Status, want.CreatedAt = m.ID, inst.ID, storage.EmailQueued, e.now()
	want.NextAttemptAt = norm(e.clock.Now().Add(time.Minute))
	mustEqual(e.t, "the caller's record after enqueue", *m, want)
	got := e.getEmail(s, m.ID)
	mustEqual(e.t, "get", got, want)
	mustNormalised(e.t, "get", got)
}

func testEmailEnqueueQueued(e *env) {
	s, _ := e.scope("opera")
	m := email("", "Test")
	m.Status, m.Attempts, m.LastError, m.SentAt = storage.EmailSent, 7, "old error", ptr(e.clock.Now())
	must(e.t, "enqueue", s.EnqueueEmail(e.ctx, m))
	got := e.getEmail(s, m.ID)
	if got.Status != storage.EmailQueued || got.Attempts != 0 || got.LastError != "" || got.SentAt != nil || !got.NextAttemptAt.Equal(e.now()) {
		e.t.Fatalf("enqueue: want queued, no attempt, no error, not sent, due now, got %+v", got)
	}
}

func testEmailNotFound(e *env) {
	s, _ := e.scope("opera")
	_, err := s.GetEmail(e.ctx, "missing")
	checkErr(e.t, "get", err, storage.ErrNotFound)
	checkErr(e.t, "retry", s.RetryEmail(e.ctx, "missing"), storage.ErrNotFound)
	checkErr(e.t, "mark sent", e.store.MarkEmailSent(e.ctx, "missing"), storage.ErrNotFound)
	checkErr(e.t, "mark retry", e.store.MarkEmailRetry(e.ctx, "missing", e.clock.Now(), "x"), storage.ErrNotFound)
	checkErr(e.t, "mark failed", e.store.MarkEmailFailed(e.ctx, "missing", "x"), storage.ErrNotFound)
	list, err := s.ListEmails(e.ctx, storage.OutboxFilter{})
	mustCount(e.t, "list of an empty institution", len(list), err, 0)
}

func testEmailList(e *env) {
	s, _ := e.scope("opera")
	var ids []string // oldest first
	for i, account := range []string{"ann", "bob", "ann", "ann"} {
		m := email(account, fmt.Sprintf("mail %d", i))
		must(e.t, "enqueue", s.EnqueueEmail(e.ctx, m))
		ids = append(ids, m.ID)
		e.clock.Advance(time.Second)
	}
	must(e.t, "mark the first sent", e.store.MarkEmailSent(e.ctx, ids[0]))
	cases := []struct {
		name string
		f    storage.OutboxFilter
		want []string
	}{
		{"everything", storage.OutboxFilter{}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"ann's", storage.OutboxFilter{AccountID: "ann"}, []string{ids[3], ids[2], ids[0]}},
		{"queued", storage.OutboxFilter{Status: storage.EmailQueued}, []string{ids[3], ids[2], ids[1]}},
		{"ann's sent", storage.OutboxFilter{AccountID: "ann", Status: storage.EmailSent}, []string{ids[0]}},
		{"failed", storage.OutboxFilter{Status: storage.EmailFailed}, nil},
		{"the newest two", storage.OutboxFilter{Limit: 2}, []string{ids[3], ids[2]}},
	}
	for _, c := range cases {
		list, err := s.ListEmails(e.ctx, c.f)
		must(e.t, "list "+c.name, err)
		got := make([]string, len(list))
		for i, m := range list {
			got[i] = m.ID
		}
		mustEqual(e.t, "IDs listed for "+c.name, got, c.want)
	}
}

func testEmailListDefaultLimit(e *env) {
	s, _ := e.scope("opera")
	for i := range 101 {
		e.enqueue(s, fmt.Sprintf("mail %d", i))
	}
	list, err := s.ListEmails(e.ctx, storage.OutboxFilter{})
	mustCount(e.t, "list with limit 0", len(list), err, 100)
}

func testClaimLease(e *env) {
	s, _ := e.scope("opera")
	m1, m2, m3 := e.enqueue(s, "1"), e.enqueue(s, "2"), e.enqueue(s, "3")
	list, err := e.store.ClaimEmails(e.ctx, 10, 5*time.Minute)
	mustCount(e.t, "first claim", len(list), err, 3)
	for _, m := range list {
		if m.Attempts != 1 || m.Status != storage.EmailQueued || !m.NextAttemptAt.Equal(e.now().Add(5*time.Minute)) {
			e.t.Errorf("claimed %s: want 1 attempt, queued, leased until %s, got %d, %s, %s",
				m.ID, fmtTime(e.now().Add(5*time.Minute)), m.Attempts, m.Status, fmtTime(m.NextAttemptAt))
		}
		mustEqual(e.t, "claimed email as stored", e.getEmail(s, m.ID), m)
	}
	mustEqual(e.t, "claimed IDs", e.claimedIDs(list), sortedIDs(m1, m2, m3))
	mustEqual(e.t, "claim during the lease", e.claim(10, 5*time.Minute), []string(nil))
	e.clock.Advance(5*time.Minute - time.Second)
	mustEqual(e.t, "claim a second before the lease ends", e.claim(10, 5*time.Minute), []string(nil))
	e.clock.Advance(time.Second)
	list, err = e.store.ClaimEmails(e.ctx, 10, 5*time.Minute)
	mustCount(e.t, "claim when the lease has passed", len(list), err, 3)
	for _, m := range list {
		if m.Attempts != 2 {
			e.t.Errorf("claimed %s again: want 2 attempts, got %d", m.ID, m.Attempts)
		}
	}
}

// A worker renews its own claims only: not once another worker has claimed
// the email again after the lease ran out, nor once it is sent or failed.
func testRenewClaims(e *env) {
	s, _ := e.scope("opera")
	m1, m2, m3 := e.enqueue(s, "1"), e.enqueue(s, "2"), e.enqueue(s, "3")
	list, err := e.store.ClaimEmails(e.ctx, 10, 15*time.Second)
	mustCount(e.t, "claim", len(list), err, 3)
	claims := make([]storage.EmailClaim, len(list))
	for i, m := range list {
		claims[i] = storage.EmailClaim{ID: m.ID, Attempts: m.Attempts}
	}
	e.clock.Advance(10 * time.Second)
	renewed, err := e.store.RenewEmailClaims(e.ctx, claims, 15*time.Second)
	must(e.t, "renew", err)
	slices.Sort(renewed)
	mustEqual(e.t, "renewed", renewed, sortedIDs(m1, m2, m3))
	e.clock.Advance(10 * time.Second) // past the first lease, within the renewed one
	mustEqual(e.t, "claim within the renewed lease", e.claim(10, 15*time.Second), []string(nil))
	if got := e.getEmail(s, m1.ID).NextAttemptAt; !got.Equal(e.now().Add(5 * time.Second)) {
		e.t.Errorf("renewed lease ends at %s, want %s", fmtTime(got), fmtTime(e.now().Add(5*time.Second)))
	}

	must(e.t, "mark sent", e.store.MarkEmailSent(e.ctx, m1.ID))
	must(e.t, "mark failed", e.store.MarkEmailFailed(e.ctx, m2.ID, "refused"))
	e.clock.Advance(5 * time.Second) // m3's lease runs out: another worker claims it
	mustEqual(e.t, "claim after the lease", e.claim(10, 15*time.Second), sortedIDs(m3))
	renewed, err = e.store.RenewEmailClaims(e.ctx, claims, 15*time.Second)
	must(e.t, "renew after", err)
	mustEqual(e.t, "renewed after sent, failed and taken over", renewed, []string(nil))
	if got := e.getEmail(s, m3.ID); got.Attempts != 2 || !got.NextAttemptAt.Equal(e.now().Add(15*time.Second)) {
		e.t.Errorf("the other worker's claim changed: %d attempts, lease until %s", got.Attempts, fmtTime(got.NextAttemptAt))
	}
}

// claimedIDs returns the IDs of claimed emails, sorted.
func (e *env) claimedIDs(list []storage.OutboxEmail) []string {
	ids := make([]string, len(list))
	for i, m := range list {
		ids[i] = m.ID
	}
	slices.Sort(ids)
	return ids
}

func testClaimLimit(e *env) {
	s, _ := e.scope("opera")
	for i := range 5 {
		e.enqueue(s, fmt.Sprint(i))
	}
	first, second, third := e.claim(2, time.Minute), e.claim(2, time.Minute), e.claim(2, time.Minute)
	if len(first) != 2 || len(second) != 2 || len(third) != 1 {
		e.t.Fatalf("claims of 2 over 5 emails: want 2, 2, 1, got %d, %d, %d", len(first), len(second), len(third))
	}
	all := slices.Concat(first, second, third)
	slices.Sort(all)
	if len(slices.Compact(all)) != 5 {
		e.t.Fatalf("claims of 2 over 5 emails: want 5 distinct emails, got %v", all)
	}
}

func testClaimOnlyDue(e *env) {
	s, _ := e.scope("opera")
	later := email("", "later")
	later.NextAttemptAt = e.clock.Now().Add(time.Hour)
	must(e.t, "enqueue for later", s.EnqueueEmail(e.ctx, later))
	now := e.enqueue(s, "now")
	mustEqual(e.t, "claim now", e.claim(10, time.Minute), sortedIDs(now))
	e.clock.Advance(time.Hour)
	mustEqual(e.t, "claim an hour later", e.claim(10, 10*time.Minute), sortedIDs(later, now))
}

func testClaimInstitutions(e *env) {
	a, _ := e.scope("opera")
	b, _ := e.scope("ballet")
	ma, mb := e.enqueue(a, "from a"), e.enqueue(b, "from b")
	mustEqual(e.t, "claim across institutions", e.claim(10, time.Minute), sortedIDs(ma, mb))
}

func testMarkSent(e *env) {
	s, _ := e.scope("opera")
	m := e.enqueue(s, "hello")
	e.claim(10, time.Minute)
	must(e.t, "mark retry", e.store.MarkEmailRetry(e.ctx, m.ID, e.clock.Now(), "timeout"))
	e.claim(10, time.Minute)
	e.clock.Advance(time.Second)
	must(e.t, "mark sent", e.store.MarkEmailSent(e.ctx, m.ID))
	got := e.getEmail(s, m.ID)
	if got.Status != storage.EmailSent || got.SentAt == nil || !got.SentAt.Equal(e.now()) || got.LastError != "" || got.Attempts != 2 {
		e.t.Fatalf("after sent: want sent at %s, no error, 2 attempts, got %+v", fmtTime(e.now()), got)
	}
	e.clock.Advance(time.Hour)
	mustEqual(e.t, "claim after sent", e.claim(10, time.Minute), []string(nil))
	mustErr(e.t, "retry a sent email", s.RetryEmail(e.ctx, m.ID), storage.ErrConflict)
	mustEqual(e.t, "after the refused retry", e.getEmail(s, m.ID), got)
}

func testMarkRetry(e *env) {
	s, _ := e.scope("opera")
	m := e.enqueue(s, "hello")
	e.claim(10, time.Minute)
	next := odd(e.clock.Now().Add(10 * time.Minute))
	must(e.t, "mark retry", e.store.MarkEmailRetry(e.ctx, m.ID, next, "451 try later"))
	got := e.getEmail(s, m.ID)
	if got.Status != storage.EmailQueued || got.LastError != "451 try later" || !got.NextAttemptAt.Equal(norm(next)) || got.Attempts != 1 {
		e.t.Fatalf("after retry: want queued, error kept, due at %s, 1 attempt, got %+v", fmtTime(norm(next)), got)
	}
	e.clock.Advance(10*time.Minute - time.Second)
	mustEqual(e.t, "claim before the next attempt", e.claim(10, time.Minute), []string(nil))
	e.clock.Advance(time.Second)
	mustEqual(e.t, "claim at the next attempt", e.claim(10, time.Minute), sortedIDs(m))
	if got := e.getEmail(s, m.ID); got.Attempts != 2 {
		e.t.Fatalf("after the second claim: want 2 attempts, got %d", got.Attempts)
	}
}

func testMarkFailed(e *env) {
	s, _ := e.scope("opera")
	m := e.enqueue(s, "hello")
	e.claim(10, time.Minute)
	must(e.t, "mark failed", e.store.MarkEmailFailed(e.ctx, m.ID, "550 no such user"))
	got := e.getEmail(s, m.ID)
	if got.Status != storage.EmailFailed || got.LastError != "550 no such user" || got.SentAt != nil {
		e.t.Fatalf("after failed: want failed with its error, got %+v", got)
	}
	e.clock.Advance(24 * time.Hour)
	mustEqual(e.t, "claim a failed email", e.claim(10, time.Minute), []string(nil))
	must(e.t, "retry the failed email", s.RetryEmail(e.ctx, m.ID))
	got = e.getEmail(s, m.ID)
	if got.Status != storage.EmailQueued || !got.NextAttemptAt.Equal(e.now()) {
		e.t.Fatalf("after retry: want queued and due now (%s), got %s due %s", fmtTime(e.now()), got.Status, fmtTime(got.NextAttemptAt))
	}
	mustEqual(e.t, "claim after retry", e.claim(10, time.Minute), sortedIDs(m))
}

func testRetryQueued(e *env) {
	s, _ := e.scope("opera")
	m := email("", "later")
	m.NextAttemptAt = e.clock.Now().Add(time.Hour)
	must(e.t, "enqueue for later", s.EnqueueEmail(e.ctx, m))
	must(e.t, "retry", s.RetryEmail(e.ctx, m.ID))
	mustEqual(e.t, "claim after retry", e.claim(10, time.Minute), sortedIDs(m))
}

// testMarkAfterSent: a worker whose lease ran out may report a
// failure after another worker sent the email. The email stays sent, and
// the refusal is ErrConflict ("not in the state the change starts from"),
// as RetryEmail of a sent email is, not ErrNotFound: the email exists.
func testMarkAfterSent(e *env) {
	s, _ := e.scope("opera")
	m := e.enqueue(s, "hello")
	must(e.t, "mark sent", e.store.MarkEmailSent(e.ctx, m.ID))
	sent := e.getEmail(s, m.ID)
	checkErr(e.t, "mark retry of a sent email", e.store.MarkEmailRetry(e.ctx, m.ID, e.clock.Now(), "late"), storage.ErrConflict)
	checkErr(e.t, "mark failed of a sent email", e.store.MarkEmailFailed(e.ctx, m.ID, "late"), storage.ErrConflict)
	mustEqual(e.t, "the sent email after late reports", e.getEmail(s, m.ID), sent)
}

func testEmailNoContent(e *env) {
	s, _ := e.scope("opera")
	m := email("", "clear")
	m.Content = nil
	must(e.t, "enqueue", s.EnqueueEmail(e.ctx, m))
	if got := e.getEmail(s, m.ID); got.Content != nil || got.Subject != "clear" {
		e.t.Fatalf("an email without content: want nil content and the clear subject, got %q, %q", got.Content, got.Subject)
	}
	m = email("", "empty")
	m.Content = []byte{}
	must(e.t, "enqueue", s.EnqueueEmail(e.ctx, m))
	if got := e.getEmail(s, m.ID); got.Content != nil {
		e.t.Fatalf("an email with empty content: want nil content, got %q", got.Content)
	}
}

// testEmailBlankedWhenSent: a failed email keeps what it says (it may be
// retried); once sent, the content and the clear parts are gone, and the row
// keeps what happened.
func testEmailBlankedWhenSent(e *env) {
	s, inst := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	m := email(a.ID, "Reset your password")
	must(e.t, "enqueue", s.EnqueueEmail(e.ctx, m))
	e.claim(10, time.Minute)
	must(e.t, "mark failed", e.store.MarkEmailFailed(e.ctx, m.ID, "550 no such user"))
	failed := e.getEmail(s, m.ID)
	want := *email(a.ID, "Reset your password")
	if string(failed.Content) != string(want.Content) || failed.Subject != want.Subject || failed.TextBody != want.TextBody ||
		failed.HTMLBody != want.HTMLBody {
		e.t.Fatalf("a failed email: want its content and parts kept, got %+v", failed)
	}
	must(e.t, "retry", s.RetryEmail(e.ctx, m.ID))
	e.claim(10, time.Minute)
	e.clock.Advance(time.Second)
	must(e.t, "mark sent", e.store.MarkEmailSent(e.ctx, m.ID))
	got := e.getEmail(s, m.ID)
	want.ID, want.InstitutionID, want.Status, want.Attempts, want.CreatedAt = m.ID, inst.ID, storage.EmailSent, 2, m.CreatedAt
	want.NextAttemptAt, want.SentAt = got.NextAttemptAt, ptr(e.now())
	want.Subject, want.TextBody, want.HTMLBody, want.Content = "", "", "", nil
	mustEqual(e.t, "the sent email", got, want)
	list, err := s.ListEmails(e.ctx, storage.OutboxFilter{})
	mustCount(e.t, "list", len(list), err, 1)
	mustEqual(e.t, "the sent email, listed", list[0], want)
}
