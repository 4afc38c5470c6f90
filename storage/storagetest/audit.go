package storagetest

import (
	"fmt"
	"time"

	"github.com/usher-idp/usher/storage"
)

func auditTests() []test {
	return []test{
		{"RoundTripEveryField", testAuditRoundTrip},
		{"ListNewestFirstAndFilters", testAuditList},
		{"ListDefaultLimit", testAuditListDefaultLimit},
		{"ListPagesOlderThanAnEvent", testAuditListBefore},
	}
}

func testAuditRoundTrip(e *env) {
	s, inst := e.scope("opera")
	list, err := s.ListAudit(e.ctx, storage.AuditFilter{})
	mustCount(e.t, "list of an empty institution", len(list), err, 0)
	ev := &storage.AuditEvent{
		AccountID: "acct-1",
		Actor:     "operator:op-1",
		Action:    "password_reset_requested",
		Address:   "2001:db8::1",
		Details:   storage.Details{"client": "box-office", "template": "default"},
	}
	must(e.t, "record", s.RecordAudit(e.ctx, ev))
	if ev.ID == "" {
		e.t.Fatal("record: want an ID assigned, got none")
	}
	want := storage.AuditEvent{
		ID: ev.ID, InstitutionID: inst.ID, AccountID: "acct-1", Actor: "operator:op-1",
		Action: "password_reset_requested", Address: "2001:db8::1",
		Details: storage.Details{"client": "box-office", "template": "default"}, CreatedAt: e.now(),
	}
	mustEqual(e.t, "the caller's record after record", *ev, want)
	list, err = s.ListAudit(e.ctx, storage.AuditFilter{})
	must(e.t, "list", err)
	mustEqual(e.t, "list", list, []storage.AuditEvent{want})
	mustNormalised(e.t, "list", list)
}

func testAuditList(e *env) {
	s, _ := e.scope("opera")
	events := []struct{ account, action string }{
		{"ann", "sign_in"}, {"bob", "sign_in"}, {"ann", "sign_in_failed"}, {"", "client_created"}, {"ann", "sign_in"},
	}
	var ids []string // oldest first
	for _, ev := range events {
		rec := &storage.AuditEvent{AccountID: ev.account, Actor: "self", Action: ev.action}
		must(e.t, "record "+ev.action, s.RecordAudit(e.ctx, rec))
		ids = append(ids, rec.ID)
		e.clock.Advance(time.Second)
	}
	cases := []struct {
		name string
		f    storage.AuditFilter
		want []string
	}{
		{"everything", storage.AuditFilter{}, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"ann's", storage.AuditFilter{AccountID: "ann"}, []string{ids[4], ids[2], ids[0]}},
		{"sign-ins", storage.AuditFilter{Action: "sign_in"}, []string{ids[4], ids[1], ids[0]}},
		{"ann's sign-ins", storage.AuditFilter{AccountID: "ann", Action: "sign_in"}, []string{ids[4], ids[0]}},
		{"lockouts", storage.AuditFilter{Action: "lockout"}, nil},
		{"the newest two", storage.AuditFilter{Limit: 2}, []string{ids[4], ids[3]}},
	}
	for _, c := range cases {
		list, err := s.ListAudit(e.ctx, c.f)
		must(e.t, "list "+c.name, err)
		got := make([]string, len(list))
		for i, ev := range list {
			got[i] = ev.ID
		}
		mustEqual(e.t, "IDs listed for "+c.name, got, c.want)
	}
}

func testAuditListDefaultLimit(e *env) {
	s, _ := e.scope("opera")
	for i := range 101 {
		must(e.t, "record", s.RecordAudit(e.ctx, &storage.AuditEvent{Actor: "cli", Action: fmt.Sprint("a", i)}))
	}
	list, err := s.ListAudit(e.ctx, storage.AuditFilter{})
	mustCount(e.t, "list with limit 0", len(list), err, 100)
}

func testAuditListBefore(e *env) {
	s, _ := e.scope("opera")
	other, _ := e.scope("ballet")
	var ids []string // oldest first; two events share each second
	for i := range 6 {
		rec := &storage.AuditEvent{AccountID: "ann", Actor: "self", Action: "sign_in"}
		must(e.t, "record", s.RecordAudit(e.ctx, rec))
		ids = append(ids, rec.ID)
		if i%2 == 1 {
			e.clock.Advance(time.Second)
		}
	}
	theirs := &storage.AuditEvent{AccountID: "ann", Actor: "self", Action: "sign_in"}
	must(e.t, "record in the other institution", other.RecordAudit(e.ctx, theirs))
	all, err := s.ListAudit(e.ctx, storage.AuditFilter{AccountID: "ann"})
	must(e.t, "list", err)
	var newestFirst []string
	for _, ev := range all {
		newestFirst = append(newestFirst, ev.ID)
	}
	var paged []string
	for f := (storage.AuditFilter{AccountID: "ann", Limit: 4}); ; {
		page, err := s.ListAudit(e.ctx, f)
		must(e.t, "list a page", err)
		for _, ev := range page {
			paged = append(paged, ev.ID)
		}
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	mustEqual(e.t, "the pages, one after the other", paged, newestFirst)
	if len(paged) != len(ids) {
		e.t.Fatalf("paged through %d events, want %d", len(paged), len(ids))
	}
	for _, before := range []string{"unknown", theirs.ID} {
		list, err := s.ListAudit(e.ctx, storage.AuditFilter{Before: before})
		mustCount(e.t, "list before an event that is not the institution's ("+before+")", len(list), err, 0)
	}
	list, err := s.ListAudit(e.ctx, storage.AuditFilter{Before: newestFirst[len(newestFirst)-1]})
	mustCount(e.t, "list before the oldest event", len(list), err, 0)
}
