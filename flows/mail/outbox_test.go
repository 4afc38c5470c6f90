package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	umail "github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/templates"
)

// The email is part of the caller's transaction: rolled back with it,
// committed with it.
func TestQueueRollsBackWithTheCaller(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newEnv(t, db)
		acct := e.account("ann@example.org", "Ann", "Lee", "en")
		boom := errors.New("the change failed")
		err := e.store.InTx(e.ctx, func(ctx context.Context) error {
			acct.GivenName = "Anna"
			if err := e.store.In(e.inst.ID).UpdateAccount(ctx, acct); err != nil {
				return err
			}
			if _, err := e.outbox.Queue(ctx, e.inst, umail.To(acct), resetEmail()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx: %v", err)
		}
		list, err := e.store.In(e.inst.ID).ListEmails(e.ctx, storage.OutboxFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("after the rollback: want no email, got %d, %v", len(list), err)
		}
		m := e.queue(umail.To(acct))
		list, err = e.store.In(e.inst.ID).ListEmails(e.ctx, storage.OutboxFilter{AccountID: acct.ID})
		if err != nil || len(list) != 1 || list[0].ID != m.ID || list[0].Status != storage.EmailQueued {
			t.Fatalf("after the commit: want the email queued, got %+v, %v", list, err)
		}
	})
}

// With the server down, nothing is lost; once it is back, every email
// arrives exactly once.
func TestServerDownThenBack(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newEnv(t, db)
		addr := mailtest.FreeAddr(t)
		var ids []string
		for i := range 3 {
			ids = append(ids, e.queue(anyone(i)).ID)
		}
		w := e.worker(smtpTo(t, addr, umail.TLSNone, nil, "", ""), nil)
		e.once(w, umail.BatchResult{Claimed: 3, Retried: 3, Unreachable: true})
		for _, id := range ids {
			if got := e.get(id); got.Status != storage.EmailQueued || !strings.Contains(got.LastError, "connection refused") {
				t.Fatalf("while down: %s %q", got.Status, got.LastError)
			}
		}
		// An hour down: every attempt fails, later and later.
		for range 6 {
			e.clock.Advance(10 * time.Minute)
			res, err := w.RunOnce(e.ctx)
			if err != nil || res.Sent != 0 || res.Failed != 0 || res.Retried != res.Claimed {
				t.Fatalf("while down: %+v, %v", res, err)
			}
		}
		srv := mailtest.Start(t, mailtest.Options{Addr: addr})
		e.clock.Advance(umail.Backoff(20, 1))
		e.once(w, umail.BatchResult{Claimed: 3, Sent: 3})
		e.clock.Advance(48 * time.Hour)
		e.once(w, umail.BatchResult{})
		got := srv.Messages()
		var delivered []string
		for _, r := range got {
			msg, err := r.Message()
			if err != nil {
				t.Fatal(err)
			}
			id := strings.TrimSuffix(strings.TrimPrefix(msg.Header.Get("Message-Id"), "<"), "@id.example.org>")
			delivered = append(delivered, id)
		}
		slices.Sort(delivered)
		slices.Sort(ids)
		if !slices.Equal(delivered, ids) {
			t.Fatalf("want each email exactly once, got %v for %v", delivered, ids)
		}
	})
}

// After retry_for, an email that still fails is marked failed; the last
// attempt is made when the time is up.
func TestRetryForExhausted(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newEnv(t, db)
		addr := mailtest.FreeAddr(t)
		m := e.queue(anyone(1))
		w := e.worker(smtpTo(t, addr, umail.TLSNone, nil, "", ""), func(c *umail.WorkerConfig) { c.RetryFor = time.Hour })
		e.once(w, umail.BatchResult{Claimed: 1, Retried: 1, Unreachable: true})
		attempts := 1
		for {
			next := e.get(m.ID).NextAttemptAt
			if next.After(start.Add(time.Hour)) {
				t.Fatalf("next attempt %s is after retry_for", next)
			}
			e.clock.Advance(next.Sub(e.clock.Now()))
			res, err := w.RunOnce(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			attempts++
			if res.Failed == 1 {
				break
			}
			if attempts > 20 {
				t.Fatal("never gave up")
			}
		}
		got := e.get(m.ID)
		if got.Status != storage.EmailFailed || !e.clock.Now().Equal(start.Add(time.Hour)) ||
			!strings.HasPrefix(got.LastError, "gave up after "+strconv.Itoa(attempts)+" attempts over 1h0m0s: ") ||
			!strings.Contains(got.LastError, "connection refused") {
			t.Fatalf("at %s: %s %q", e.clock.Now(), got.Status, got.LastError)
		}
		e.clock.Advance(48 * time.Hour)
		e.once(w, umail.BatchResult{})
	})
	t.Run("zero gives up at the first failure", func(t *testing.T) {
		e := sqlite(t)
		m := e.queue(anyone(1))
		w := e.worker(smtpTo(t, mailtest.FreeAddr(t), umail.TLSNone, nil, "", ""), func(c *umail.WorkerConfig) { c.RetryFor = 0 })
		e.once(w, umail.BatchResult{Claimed: 1, Failed: 1, Unreachable: true})
		if got := e.get(m.ID); got.Status != storage.EmailFailed {
			t.Fatalf("got %s", got.Status)
		}
	})
}

// Two workers (two replicas, each with its own connection pool) on one
// database deliver each of N emails exactly once.
func TestTwoWorkersExactlyOnce(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		const n = 40
		e := newEnv(t, db)
		srv := mailtest.Start(t, mailtest.Options{})
		other := e.institution("ballet", "Ballet")
		// The replicas run on the real clock: the emails must be due for it.
		realtime := sqltest.Open(t, db, sqlstore.Options{})
		outbox, err := umail.NewOutbox(outboxConfig(t, realtime, e.emails, "no-reply@usher.example"))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i := range n {
			inst := e.inst
			if i%2 == 1 {
				inst = other
			}
			err := realtime.InTx(e.ctx, func(ctx context.Context) error {
				m, err := outbox.Queue(ctx, inst, anyone(i), resetEmail())
				if m != nil {
					ids = append(ids, m.ID)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		ctx, stop := context.WithCancel(e.ctx)
		var wg sync.WaitGroup
		for range 2 {
			replica := sqltest.Open(t, db, sqlstore.Options{}) // real clock, own pool
			w := newWorker(t, umail.WorkerConfig{Queue: replica, Sender: smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""),
				Host: "id.example.org", Batch: 3, PollInterval: 20 * time.Millisecond, Timeout: 5 * time.Second})
			wg.Go(func() { w.Run(ctx) })
		}
		got := srv.Wait(t, n, 60*time.Second)
		waitAllSent(t, e.store, []*storage.Institution{e.inst, other}, n)
		stop()
		wg.Wait()
		got = srv.Messages()
		seen := map[string]int{}
		for _, r := range got {
			msg, err := r.Message()
			if err != nil {
				t.Fatal(err)
			}
			seen[msg.Header.Get("Message-Id")]++
		}
		for _, id := range ids {
			if c := seen["<"+id+"@id.example.org>"]; c != 1 {
				t.Errorf("email %s delivered %d times", id, c)
			}
		}
		if len(got) != n {
			t.Errorf("want %d messages, got %d", n, len(got))
		}
	})
}

// waitAllSent waits until the institutions' n emails are all marked sent.
func waitAllSent(t *testing.T, store *sqlstore.Store, insts []*storage.Institution, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sent := 0
		for _, inst := range insts {
			list, err := store.In(inst.ID).ListEmails(t.Context(), storage.OutboxFilter{Status: storage.EmailSent, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			sent += len(list)
		}
		if sent == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d emails marked sent", sent, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Queueing does not depend on SMTP: while the server hangs in the middle of
// a delivery, Queue completes (no timing involved: the server is released
// only after Queue has returned).
func TestQueueDoesNotWaitForSMTP(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newEnv(t, db)
		held := make(chan struct{}, 10)
		release := make(chan struct{})
		srv := mailtest.Start(t, mailtest.Options{Hold: func(mailtest.Received) {
			held <- struct{}{}
			<-release
		}})
		defer func() {
			select {
			case <-release:
			default:
				close(release)
			}
		}()
		w := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), func(c *umail.WorkerConfig) {
			c.Now, c.PollInterval = time.Now, 10*time.Millisecond
		})
		ctx, stop := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		defer func() { stop(); <-done }()
		e.queue(anyone(1))
		<-held // the worker is now blocked in SMTP, in the middle of the first email
		queued := make(chan error, 1)
		go func() {
			err := e.store.InTx(e.ctx, func(ctx context.Context) error {
				_, err := e.outbox.Queue(ctx, e.inst, anyone(2), resetEmail())
				return err
			})
			queued <- err
		}()
		select {
		case err := <-queued:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second): // a guard against a hang, not a threshold
			t.Fatal("Queue did not return while the SMTP server hangs")
		}
		select {
		case <-release:
			t.Fatal("the server was released before Queue returned")
		default:
		}
		close(release)
		srv.Wait(t, 2, 30*time.Second)
	})
}

// A worker polling rarely still delivers at once what its process queued.
func TestWakeUp(t *testing.T) {
	e := sqlite(t)
	srv := mailtest.Start(t, mailtest.Options{})
	claims := &claimCounter{OutboxQueue: e.store, first: make(chan struct{})}
	w := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), func(c *umail.WorkerConfig) {
		c.Queue, c.Now, c.PollInterval = claims, time.Now, time.Hour
	})
	ctx, stop := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	<-claims.first     // the worker found nothing and waits for an hour…
	e.queue(anyone(1)) // …unless woken up
	srv.Wait(t, 1, 30*time.Second)
	stop()
	<-done
}

// claimCounter tells when the first claim is done.
type claimCounter struct {
	storage.OutboxQueue
	once  sync.Once
	first chan struct{}
}

func (c *claimCounter) ClaimEmails(ctx context.Context, limit int, lease time.Duration) ([]storage.OutboxEmail, error) {
	list, err := c.OutboxQueue.ClaimEmails(ctx, limit, lease)
	c.once.Do(func() { close(c.first) })
	return list, err
}

// Stopping the worker finishes the message being sent, records it, and
// releases the rest of the batch for another replica.
func TestGracefulStop(t *testing.T) {
	e := sqlite(t)
	held := make(chan struct{}, 10)
	release := make(chan struct{})
	srv := mailtest.Start(t, mailtest.Options{Hold: func(mailtest.Received) { held <- struct{}{}; <-release }})
	var ids []string
	for i := range 3 {
		ids = append(ids, e.queue(anyone(i)).ID)
		e.clock.Advance(time.Millisecond)
	}
	w := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil)
	ctx, stop := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	<-held
	stop()
	close(release)
	<-done
	first := e.get(ids[0])
	if first.Status != storage.EmailSent {
		t.Fatalf("the email in flight: %s %q", first.Status, first.LastError)
	}
	for _, id := range ids[1:] {
		got := e.get(id)
		if got.Status != storage.EmailQueued || got.NextAttemptAt.After(e.clock.Now()) {
			t.Fatalf("a released email: %s, due %s (now %s)", got.Status, got.NextAttemptAt, e.clock.Now())
		}
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("want one message, got %d", n)
	}
}

// An override is checked before it is stored, and then used.
func TestTemplateOverrideRoundTrip(t *testing.T) {
	e := sqlite(t)
	tpl := templatesOf(e.store, e.emails)
	acct := e.account("luc@example.org", "Luc", "", "fr")
	broken := templates.EmailSource{Subject: "Nouveau mot de passe {{.Institution", HTML: "<p>ok</p>"}
	err := tpl.Set(e.ctx, e.inst, templates.ClassPasswordReset, "", "fr", broken)
	var te *templates.TemplateError
	if !errors.As(err, &te) || te.Part != "subject" || !strings.Contains(err.Error(), "unclosed action") {
		t.Fatalf("a broken override: want the parser's message, got %v", err)
	}
	if list, err := tpl.List(e.ctx, e.inst); err != nil || len(list) != 0 {
		t.Fatalf("a broken override was stored: %v, %v", list, err)
	}
	good := templates.EmailSource{Subject: "{{.Institution}} : nouveau mot de passe",
		Text: "{{template \"greeting\" .}}\n\nVotre lien : {{.Link}}\n"}
	if err := tpl.Set(e.ctx, e.inst, templates.ClassPasswordReset, "", "fr", good); err != nil {
		t.Fatal(err)
	}
	m := e.queue(umail.To(acct))
	if m.Subject != "Grand Théâtre : nouveau mot de passe" || !strings.HasPrefix(m.TextBody, "Bonjour Luc,\n\nVotre lien : https://") {
		t.Fatalf("the override was not used: %q\n%s", m.Subject, m.TextBody)
	}
	if !strings.Contains(m.HTMLBody, "Choisir un nouveau mot de passe") {
		t.Fatal("the HTML part, not overridden, is not the built-in one")
	}
	src, overridden, err := tpl.Effective(e.ctx, e.inst, templates.ClassPasswordReset, "", "fr")
	if err != nil || !overridden || src.Subject != good.Subject || src.HTML == "" {
		t.Fatalf("effective: %+v %v %v", src, overridden, err)
	}
	// Another locale keeps the built-in templates.
	if m := e.queue(anyone(1)); m.Subject != "Reset your password for Grand Théâtre" {
		t.Fatalf("english: %q", m.Subject)
	}
	if err := tpl.Delete(e.ctx, e.inst, templates.ClassPasswordReset, "", "fr"); err != nil {
		t.Fatal(err)
	}
	if m := e.queue(umail.To(acct)); m.Subject != "Réinitialisez votre mot de passe pour Grand Théâtre" {
		t.Fatalf("after delete: %q", m.Subject)
	}
	if err := tpl.Delete(e.ctx, e.inst, templates.ClassPasswordReset, "", "fr"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

// An override stored before a change that breaks it (here, written to the
// database directly) does not lose the email: the built-in one is sent.
func TestBrokenStoredOverrideFallsBack(t *testing.T) {
	e := sqlite(t)
	err := e.store.In(e.inst.ID).PutEmailTemplate(e.ctx, &storage.EmailTemplate{Class: "password_reset", Locale: "en",
		Subject: "{{.Nope}}"})
	if err != nil {
		t.Fatal(err)
	}
	if m := e.queue(anyone(1)); m.Subject != "Reset your password for Grand Théâtre" {
		t.Fatalf("got %q", m.Subject)
	}
}

// The language is the recipient's, else the institution's default, else
// English; the sender is the institution's, else the default one with the
// institution's name.
func TestLanguageAndSender(t *testing.T) {
	e := sqlite(t)
	e.inst.Settings.Locales = []string{"it", "en"}
	e.inst.Settings.Email = storage.EmailSender{From: "biglietteria@opera.example", Name: "Opera – Biglietteria",
		ReplyTo: "Help <help@opera.example>"}
	if err := e.store.UpdateInstitution(e.ctx, e.inst); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ locale, want string }{{"de-AT", "de"}, {"", "it"}, {"es", "it"}}
	for _, c := range cases {
		m := e.queue(umail.Recipient{Email: "x@example.org", Locale: c.locale})
		if m.Locale != c.want {
			t.Errorf("recipient locale %q: got %q, want %q", c.locale, m.Locale, c.want)
		}
		if m.Sender != `=?utf-8?q?Opera_=E2=80=93_Biglietteria?= <biglietteria@opera.example>` {
			t.Errorf("sender: %q", m.Sender)
		}
	}
	e.inst.Settings.Locales = []string{"es"}
	e.inst.Settings.Email = storage.EmailSender{}
	if m := e.queue(umail.Recipient{Email: "x@example.org"}); m.Locale != "en" || m.Sender != `=?utf-8?q?Grand_Th=C3=A9=C3=A2tre?= <no-reply@usher.example>` {
		t.Errorf("no usable locale, no sender: %q %q", m.Locale, m.Sender)
	}
	// The Reply-To comes from the institution's settings at delivery.
	srv := mailtest.Start(t, mailtest.Options{})
	e.clock.Advance(time.Second)
	e.once(e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil), umail.BatchResult{Claimed: 4, Sent: 4})
	msg, err := srv.Messages()[0].Message()
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Reply-To"); got != `"Help" <help@opera.example>` {
		t.Errorf("Reply-To: %q", got)
	}
	for _, bad := range []string{"not an address", "a@b.example\r\nBcc: c@d.example", ""} {
		if _, err := e.outbox.Queue(e.ctx, e.inst, umail.Recipient{Email: bad}, resetEmail()); err == nil {
			t.Errorf("recipient %q accepted", bad)
		}
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for attempt := 1; attempt <= 12; attempt++ {
		lo, hi := umail.Backoff(attempt, 0), umail.Backoff(attempt, 0.999999)
		if lo*2 < hi-time.Second || hi > 15*time.Minute || lo < 15*time.Second || hi < prev {
			t.Errorf("attempt %d: [%s, %s]", attempt, lo, hi)
		}
		prev = hi
	}
	if got := umail.Backoff(1, 0); got != 15*time.Second {
		t.Errorf("first delay, no jitter: %s", got)
	}
	if got := umail.Backoff(100, 0.999999); got < 14*time.Minute {
		t.Errorf("capped delay: %s", got)
	}
}

// Emails of several institutions in one batch each get their own
// institution's sender.
func TestBatchAcrossInstitutions(t *testing.T) {
	e := sqlite(t)
	other := e.institution("ballet", "Ballet du Nord")
	srv := mailtest.Start(t, mailtest.Options{})
	e.queue(anyone(1))
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		_, err := e.outbox.Queue(ctx, other, anyone(2), resetEmail())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.once(e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil), umail.BatchResult{Claimed: 2, Sent: 2})
	var froms []string
	for _, r := range srv.Messages() {
		msg, err := r.Message()
		if err != nil {
			t.Fatal(err)
		}
		from, _ := msg.Header.AddressList("From")
		froms = append(froms, from[0].Name)
	}
	slices.Sort(froms)
	if fmt.Sprint(froms) != "[Ballet du Nord Grand Théâtre]" {
		t.Fatalf("senders: %v", froms)
	}
}

// Nothing secret reaches the log: not an email's link nor its body, whatever
// becomes of the email (an override that does not render, a temporary
// failure, a refusal, a delivery).
func TestNothingSecretLogged(t *testing.T) {
	e := sqlite(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	cfg := outboxConfig(t, e.store, e.emails, "no-reply@usher.example")
	cfg.Log = log
	e.outbox, err = umail.NewOutbox(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = e.store.In(e.inst.ID).PutEmailTemplate(e.ctx, &storage.EmailTemplate{Class: "password_reset", Locale: "en",
		Subject: "{{.Nope}}"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.queue(anyone(i))
	}
	srv := mailtest.Start(t, mailtest.Options{Reply: func(cmd string, tx int) error {
		switch {
		case cmd == "RCPT" && tx == 1:
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "Mailbox busy"}
		case cmd == "RCPT" && tx == 2:
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
		}
		return nil
	}})
	w := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), func(c *umail.WorkerConfig) { c.Log = log })
	e.once(w, umail.BatchResult{Claimed: 3, Sent: 1, Retried: 1, Failed: 1})
	out := logs.String()
	for _, want := range []string{"does not render", "will be retried", "will not be retried", "email sent"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not tell %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"token=abc", "/password/reset", "Billetterie"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
}
