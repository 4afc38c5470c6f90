package mail_test

import (
	"context"
	"crypto/x509"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/storage/storagetest"
	"github.com/usher-idp/usher/templates"
)

// start is the fake clock's first reading in these tests.
var start = time.Date(2031, time.March, 14, 15, 9, 26, 0, time.UTC)

// env is one test's world: a real database on a fake clock, an institution,
// the outbox and the emails.
type env struct {
	t       *testing.T
	ctx     context.Context
	db      sqltest.DB
	store   *sqlstore.Store
	clock   *storagetest.Clock
	emails  *templates.Emails
	outbox  *mail.Outbox
	metrics *countingMetrics
	inst    *storage.Institution
}

func newEnv(t *testing.T, db sqltest.DB) *env {
	t.Helper()
	clock := storagetest.NewClock(start)
	store := sqltest.Open(t, db, sqlstore.Options{Now: clock.Now})
	e := &env{t: t, ctx: t.Context(), db: db, store: store, clock: clock, emails: newEmails(t), metrics: &countingMetrics{}}
	var err error
	cfg := outboxConfig(t, store, e.emails, "Usher <no-reply@usher.example>")
	cfg.Metrics = e.metrics
	e.outbox, err = mail.NewOutbox(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.inst = e.institution("opera", "Grand Théâtre")
	return e
}

// master is the master secret of these tests.
var master = []byte("the master secret of the mail tests, 32 bytes or more")

// sealer returns the outbox's sealer for master.
func sealer(t testing.TB) *seal.Sealer {
	t.Helper()
	s, err := seal.New(master, mail.SealPurpose)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// outboxConfig is the outbox on store, wired as cmd/usher wires it.
func outboxConfig(t testing.TB, store *sqlstore.Store, emails *templates.Emails, from string) mail.OutboxConfig {
	return mail.OutboxConfig{In: func(id string) mail.InstitutionStore { return store.In(id) }, Tx: store,
		Sealer: sealer(t), Emails: emails, From: from}
}

// templatesOf is the overrides' service on store, wired as cmd/usher wires
// it.
func templatesOf(store *sqlstore.Store, emails *templates.Emails) *mail.Templates {
	return &mail.Templates{In: func(id string) storage.TemplateStore { return store.In(id) }, Emails: emails}
}

// newWorker builds a worker, failing the test on a bad configuration.
func newWorker(t testing.TB, cfg mail.WorkerConfig) *mail.Worker {
	t.Helper()
	if cfg.Sealer == nil {
		cfg.Sealer = sealer(t)
	}
	w, err := mail.NewWorker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// newEmails returns the built-in emails.
func newEmails(t testing.TB) *templates.Emails {
	t.Helper()
	catalog, err := templates.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	emails, err := templates.NewEmails(catalog)
	if err != nil {
		t.Fatal(err)
	}
	return emails
}

// sqlite is the usual database of a test that is about mail, not storage.
func sqlite(t *testing.T) *env { return newEnv(t, sqltest.SQLite(t)) }

func (e *env) institution(slug, name string) *storage.Institution {
	e.t.Helper()
	s := storage.DefaultSettings()
	s.DisplayName = name
	inst := &storage.Institution{Slug: slug, Name: name, Settings: s}
	if err := e.store.CreateInstitution(e.ctx, inst); err != nil {
		e.t.Fatal(err)
	}
	return inst
}

func (e *env) account(email, given, family, locale string) *storage.Account {
	e.t.Helper()
	a := &storage.Account{Kind: storage.Customer, Email: email, GivenName: given, FamilyName: family,
		Locale: locale, Status: storage.Active}
	if err := e.store.In(e.inst.ID).CreateAccount(e.ctx, a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// queue queues a password reset email for rcpt in its own transaction.
func (e *env) queue(to mail.Recipient) *storage.OutboxEmail {
	e.t.Helper()
	var m *storage.OutboxEmail
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		var err error
		m, err = e.outbox.Queue(ctx, e.inst, to, resetEmail())
		return err
	})
	if err != nil {
		e.t.Fatalf("queue: %v", err)
	}
	return m
}

func resetEmail() templates.PasswordResetEmail {
	return templates.PasswordResetEmail{PointOfSale: "Billetterie", Link: "https://id.example.org/institutions/opera/password/reset?token=abc",
		ValidFor: 48 * time.Hour}
}

func anyone(n int) mail.Recipient {
	return mail.Recipient{Email: "person" + strconv.Itoa(n) + "@example.org", Locale: "en"}
}

func (e *env) get(id string) storage.OutboxEmail {
	e.t.Helper()
	m, err := e.store.In(e.inst.ID).GetEmail(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return *m
}

// smtpTo returns a sender to a test server in the given TLS mode.
func smtpTo(t *testing.T, addr, mode string, roots *x509.CertPool, user, pass string) *mail.SMTP {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: host, Port: p, TLS: mode, Username: user, Password: pass,
		Timeout: 5 * time.Second, LocalName: "usher.test", RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// worker returns a worker on the env's store and clock.
func (e *env) worker(sender mail.Sender, tune func(*mail.WorkerConfig)) *mail.Worker {
	cfg := mail.WorkerConfig{Queue: e.store, Institutions: e.store, Sender: sender, Host: "id.example.org",
		RetryFor: 24 * time.Hour, Timeout: 5 * time.Second, Now: e.clock.Now, Metrics: e.metrics,
		Jitter: func() float64 { return 0.5 }, Wake: e.outbox.Wake()}
	if tune != nil {
		tune(&cfg)
	}
	return newWorker(e.t, cfg)
}

// once runs one batch and checks what it did.
func (e *env) once(w *mail.Worker, want mail.BatchResult) {
	e.t.Helper()
	got, err := w.RunOnce(e.ctx)
	if err != nil {
		e.t.Fatalf("run once: %v", err)
	}
	if got != want {
		e.t.Fatalf("run once: got %+v, want %+v", got, want)
	}
}

// countingMetrics records the counts of the mail package's metrics.
type countingMetrics struct {
	mu                     sync.Mutex
	queued, sent, failures map[string]int
}

func (m *countingMetrics) add(p *map[string]int, class string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if *p == nil {
		*p = map[string]int{}
	}
	(*p)[class]++
}

func (m *countingMetrics) EmailQueued(class string) { m.add(&m.queued, class) }
func (m *countingMetrics) EmailSent(class string)   { m.add(&m.sent, class) }
func (m *countingMetrics) EmailFailed(class string) { m.add(&m.failures, class) }

func (m *countingMetrics) counts(class string) [3]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return [3]int{m.queued[class], m.sent[class], m.failures[class]}
}

// refusing starts a server that answers cmd ("MAIL", "RCPT" or "DATA") of
// its tx-th transaction with reply, and accepts everything else.
func refusing(t *testing.T, cmd string, tx int, reply *smtp.SMTPError) *mailtest.Server {
	return mailtest.Start(t, mailtest.Options{Reply: func(c string, n int) error {
		if c == cmd && n == tx {
			return reply
		}
		return nil
	}})
}
