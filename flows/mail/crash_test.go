package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	umail "github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// queueN queues n emails through a store on the real clock (the replicas
// run on it) and returns their IDs.
func (e *env) queueN(realtime *sqlstore.Store, n int) []string {
	e.t.Helper()
	outbox, err := umail.NewOutbox(outboxConfig(e.t, realtime, e.emails, "no-reply@usher.example"))
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for i := range n {
		err := realtime.InTx(e.ctx, func(ctx context.Context) error {
			m, err := outbox.Queue(ctx, e.inst, anyone(i), resetEmail())
			if m != nil {
				ids = append(ids, m.ID)
			}
			return err
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return ids
}

// deliveries counts the messages received per Message-ID.
func deliveries(t *testing.T, srv *mailtest.Server) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, r := range srv.Messages() {
		msg, err := r.Message()
		if err != nil {
			t.Fatal(err)
		}
		seen[msg.Header.Get("Message-Id")]++
	}
	return seen
}

// A replica killed in the middle of a batch (kill -9: its database and SMTP
// connections cut, its context ended, nothing handed back) leaves its
// claimed emails to another replica, which delivers them within seconds of
// the lease: all within 30 s, at most the message in flight twice, with
// the same Message-ID.
func TestCrashedReplicaTakenOver(t *testing.T) {
	db := sqltest.Postgres(t)
	const n = 30
	e := newEnv(t, db)
	srv := mailtest.Start(t, mailtest.Options{Hold: func(mailtest.Received) { time.Sleep(100 * time.Millisecond) }})
	realtime := sqltest.Open(t, db, sqlstore.Options{})
	ids := e.queueN(realtime, n)

	dbCut, through := sqltest.ProxyFor(t, db)
	smtpCut := sqltest.NewProxy(t, srv.Addr())
	victimStore := sqltest.Open(t, sqltest.DB{Dialect: db.Dialect, URL: through}, sqlstore.Options{})
	victim := newWorker(t, umail.WorkerConfig{Queue: victimStore, Sender: smtpTo(t, smtpCut.Addr(), umail.TLSNone, nil, "", ""),
		Host: "id.example.org", Batch: 10, PollInterval: 20 * time.Millisecond, Timeout: 5 * time.Second})
	vctx, kill := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { victim.Run(vctx) })
	srv.Wait(t, 3, 30*time.Second) // mid-batch

	smtpCut.Down() // kill -9: nothing more leaves the victim
	dbCut.Down()
	kill()
	killed := time.Now()
	ctx, stop := context.WithCancel(e.ctx)
	defer func() { stop(); wg.Wait() }()
	survivor := newWorker(t, umail.WorkerConfig{Queue: sqltest.Open(t, db, sqlstore.Options{}),
		Sender: smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), Host: "id.example.org", Batch: 10,
		PollInterval: 100 * time.Millisecond, Timeout: 5 * time.Second})
	wg.Go(func() { survivor.Run(ctx) })

	deadline := killed.Add(30 * time.Second)
	for {
		seen := deliveries(t, srv)
		if len(seen) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the kill, %d of %d emails delivered", len(seen), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("every email delivered %s after the kill (lease %s)", time.Since(killed).Round(time.Millisecond), umail.DefaultLease)
	waitAllSent(t, realtime, []*storage.Institution{e.inst}, n)
	seen, dup := deliveries(t, srv), 0
	for _, id := range ids {
		switch c := seen["<"+id+"@id.example.org>"]; {
		case c == 0:
			t.Errorf("email %s never delivered", id)
		case c > 1:
			dup += c - 1
		}
	}
	if dup > 1 {
		t.Errorf("%d duplicate deliveries, want at most the one in flight at the kill", dup)
	}
}

// A batch that takes longer than the lease keeps its claims: the worker
// renews them while it sends, so another replica polling meanwhile takes
// none of them and every email is delivered once.
func TestLeaseRenewedWhileSending(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		const n, lease = 4, 3 * time.Second
		e := newEnv(t, db)
		srv := mailtest.Start(t, mailtest.Options{Hold: func(mailtest.Received) { time.Sleep(lease / 3) }})
		realtime := sqltest.Open(t, db, sqlstore.Options{})
		ids := e.queueN(realtime, n)
		ctx, stop := context.WithCancel(e.ctx)
		var wg sync.WaitGroup
		defer func() { stop(); wg.Wait() }()
		for i := range 2 {
			w := newWorker(t, umail.WorkerConfig{Queue: sqltest.Open(t, db, sqlstore.Options{}),
				Sender: smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), Host: "id.example.org", Batch: n,
				PollInterval: 50 * time.Millisecond, Timeout: 5 * time.Second, Lease: lease})
			wg.Go(func() { w.Run(ctx) })
			if i == 0 {
				srv.Wait(t, 1, 30*time.Second) // the first worker holds the whole batch
			}
		}
		waitAllSent(t, realtime, []*storage.Institution{e.inst}, n)
		time.Sleep(lease) // a takeover would show now
		seen := deliveries(t, srv)
		for _, id := range ids {
			if c := seen["<"+id+"@id.example.org>"]; c != 1 {
				t.Errorf("email %s delivered %d times, want once", id, c)
			}
		}
	})
}

// An SMTP server down while emails wait is logged once when the worker
// first fails to reach it and once when it is back, not once per email and
// attempt; every email is still delivered once.
func TestSMTPDownLoggedOnce(t *testing.T) {
	e := sqlite(t)
	addr := mailtest.FreeAddr(t)
	const n = 20
	for i := range n {
		e.queue(anyone(i))
	}
	var logs bytes.Buffer
	w := e.worker(smtpTo(t, addr, umail.TLSNone, nil, "", ""), func(c *umail.WorkerConfig) {
		c.Log = slog.New(slog.NewTextHandler(&logs, nil))
		c.Batch = n
	})
	e.once(w, umail.BatchResult{Claimed: n, Retried: n, Unreachable: true})
	for range 5 {
		e.clock.Advance(time.Hour)
		if res, err := w.RunOnce(e.ctx); err != nil || res.Retried != n {
			t.Fatalf("while down: %+v, %v", res, err)
		}
	}
	during := strings.Count(logs.String(), "\n")
	srv := mailtest.Start(t, mailtest.Options{Addr: addr})
	e.clock.Advance(time.Hour)
	e.once(w, umail.BatchResult{Claimed: n, Sent: n})
	text := logs.String()
	if c := strings.Count(text, `msg="smtp unavailable"`); c != 1 {
		t.Errorf("the outage start was logged %d times, want once:\n%s", c, text)
	}
	if c := strings.Count(text, `msg="smtp available again"`); c != 1 {
		t.Errorf("the outage end was logged %d times, want once:\n%s", c, text)
	}
	if during > 2 {
		t.Errorf("%d failed attempts wrote %d log lines, want a few:\n%s", 6*n, during, text)
	}
	if got := len(srv.Messages()); got != n {
		t.Errorf("%d messages delivered, want %d", got, n)
	}
}
