package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/templates"
)

// buildMail builds the outbox and the template overrides' service: every
// command has them (flows queue emails, usher mail test and usher template
// use them); only serve runs the worker that delivers.
func (a *app) buildMail(catalog *templates.Catalog) error {
	emails, err := templates.NewEmails(catalog)
	if err != nil {
		return err
	}
	sealer, err := a.outboxSealer()
	if err != nil {
		return err
	}
	a.outbox, err = mail.NewOutbox(mail.OutboxConfig{In: func(id string) mail.InstitutionStore { return a.store.In(id) },
		Tx: a.store, Sealer: sealer, Emails: emails, From: a.cfg.SMTP.From, PublicURL: a.cfg.PublicURL,
		Metrics: a.mailMetrics(), Log: a.log})
	if err != nil {
		return fmt.Errorf("smtp.from: %w", err)
	}
	a.mailTemplates = &mail.Templates{In: func(id string) storage.TemplateStore { return a.store.In(id) }, Emails: emails}
	return nil
}

// outboxSealer is the key that seals what emails say at rest, derived from
// the master secret.
func (a *app) outboxSealer() (*seal.Sealer, error) {
	master, err := a.cfg.masterSecret()
	if err != nil {
		return nil, err
	}
	return seal.New(master, mail.SealPurpose)
}

// mailMetrics is a.metrics for the mail package: a nil interface, not one
// holding a nil *Metrics, outside serve.
func (a *app) mailMetrics() mail.Metrics {
	if a.metrics == nil {
		return nil
	}
	return a.metrics
}

// publicHost is the host of the public URL: it names the Message-IDs and
// Usher in EHLO.
func (a *app) publicHost() string {
	u, err := url.Parse(a.cfg.PublicURL)
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	return u.Hostname()
}

// ehloName is how Usher names itself in EHLO: the host, or an address
// literal for an IP address (RFC 5321 §4.1.3).
func ehloName(host string) string {
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.To4() != nil:
		return "[" + ip.String() + "]"
	}
	return "[IPv6:" + ip.String() + "]"
}

// mailSender is the SMTP server of the configuration, or, in --dev without
// smtp.host, the console.
func (a *app) mailSender() (mail.Sender, error) {
	s := a.cfg.SMTP
	if s.Host == "" {
		if !a.dev {
			return nil, errors.New("smtp.host: required outside --dev")
		}
		a.log.Info("emails are printed to the console (--dev without smtp.host)")
		return mail.NewLogSender(a.console), nil
	}
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username,
		Password: s.Password, Timeout: s.Timeout.Duration(), LocalName: ehloName(a.publicHost())})
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return sender, nil
}

// startMail runs this replica's outbox worker until ctx ends. stop ends it
// and waits: the message being sent finishes, the rest of its batch is
// released for the other replicas.
func (a *app) startMail(ctx context.Context) (stop func(), err error) {
	sender, err := a.mailSender()
	if err != nil {
		return nil, err
	}
	sealer, err := a.outboxSealer()
	if err != nil {
		return nil, err
	}
	w, err := mail.NewWorker(mail.WorkerConfig{Queue: a.store, Sealer: sealer, Institutions: a.store, Sender: sender,
		Host: a.publicHost(), RetryFor: a.cfg.SMTP.RetryFor.Duration(), Timeout: a.cfg.SMTP.Timeout.Duration(),
		Wake: a.outbox.Wake(), Now: a.now, Metrics: a.mailMetrics(), Log: a.log.With("component", "outbox")})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	return func() { cancel(); <-done }, nil
}

// usher mail test --institution SLUG --to ADDRESS [--class C] [--locale L] [--wait D] [--json]
func (c *cli) mailTest(ctx context.Context, args []string) error {
	fs := newFlags("mail test").withInstitution()
	to := fs.String("to", "", "the address to send the test email to (required)")
	class := fs.String("class", string(templates.ClassPasswordReset), "document class: "+classNames())
	locale := fs.String("locale", "", "language: en, fr, de or it (default: the institution's)")
	wait := fs.Duration("wait", 0, "wait this long for the outcome of the delivery (by a running usher serve)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	if *to == "" {
		return usageErr("usher mail test: --to is required")
	}
	if !templates.EmailClass(*class).Valid() {
		return usageErr("usher mail test: --class: unknown class %q (%s)", *class, classNames())
	}
	return c.withApp(ctx, fs, func(a *app) error {
		if *locale != "" && a.catalog.Match(*locale) != *locale {
			return usageErr("usher mail test: --locale: want one of %s, got %q", strings.Join(a.catalog.Locales(), ", "), *locale)
		}
		inst, err := a.institution(ctx, fs.institution)
		if err != nil {
			return err
		}
		doc := templates.SampleEmail(templates.EmailClass(*class), issuer.URL(a.cfg.PublicURL, inst.Slug))
		var e *storage.OutboxEmail
		err = a.store.InTx(ctx, func(ctx context.Context) error {
			e, err = a.outbox.Queue(ctx, inst, mail.Recipient{Email: *to, Locale: *locale}, doc)
			return err
		})
		if err != nil {
			return fmt.Errorf("test email not queued: %w", err)
		}
		if *wait > 0 {
			e, err = waitForDelivery(ctx, a.store.In(inst.ID), e.ID, *wait)
			if err != nil {
				return err
			}
		}
		return reportTestEmail(c, e, *wait > 0, *asJSON)
	})
}

// reportTestEmail prints what became of a test email; when the command
// waited for its delivery, an email not sent is an error.
func reportTestEmail(c *cli, e *storage.OutboxEmail, waited, asJSON bool) error {
	if asJSON {
		if err := printJSON(c.stdout, emailJSONOf(e)); err != nil {
			return err
		}
	} else {
		printDeliveryOutcome(c, e, waited)
	}
	if waited && e.Status != storage.EmailSent {
		return fmt.Errorf("test email %s not delivered: %s", e.ID, outcomeText(e))
	}
	return nil
}

// printDeliveryOutcome tells what became of a test email.
func printDeliveryOutcome(c *cli, e *storage.OutboxEmail, waited bool) {
	if !waited {
		fmt.Fprintf(c.stdout, "queued test email %s (%s, %s) to %s; a running usher serve delivers it "+
			"(see usher outbox list)\n", e.ID, e.Class, e.Locale, e.Recipient)
		return
	}
	fmt.Fprintf(c.stdout, "test email %s (%s, %s) to %s: %s\n", e.ID, e.Class, e.Locale, e.Recipient, outcomeText(e))
}

func outcomeText(e *storage.OutboxEmail) string {
	switch {
	case e.Status == storage.EmailSent:
		return "sent"
	case e.Status == storage.EmailFailed:
		return "failed: " + e.LastError
	case e.LastError != "":
		return fmt.Sprintf("still queued after %d attempt(s), last error: %s", e.Attempts, e.LastError)
	}
	return "still queued, not attempted yet (is usher serve running?)"
}

// waitForDelivery polls the email until it is sent or failed, or wait has
// passed.
func waitForDelivery(ctx context.Context, s storage.OutboxStore, id string, wait time.Duration) (*storage.OutboxEmail, error) {
	deadline := time.Now().Add(wait)
	for {
		e, err := s.GetEmail(ctx, id)
		if err != nil {
			return nil, err
		}
		if e.Status != storage.EmailQueued || !time.Now().Before(deadline) {
			return e, nil
		}
		select {
		case <-ctx.Done():
			return e, ctx.Err()
		case <-time.After(min(250*time.Millisecond, time.Until(deadline))):
		}
	}
}

// lockedWriter serialises writes to w, so that log lines and emails
// printed to the console do not interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// classNames lists the document classes for help and errors.
func classNames() string {
	var names []string
	for _, c := range templates.EmailClasses() {
		names = append(names, string(c))
	}
	return strings.Join(names, ", ")
}
