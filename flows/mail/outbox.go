package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Store is what the outbox needs of the storage: each institution's records
// (the outbox, the template overrides, the audit trail) and transactions.
type Store interface {
	storage.Transactor
	In(institutionID string) storage.Scoped
}

// OutboxConfig is what an Outbox is built from.
type OutboxConfig struct {
	Store  Store
	Emails *templates.Emails
	// From is the default sender (smtp.from), an RFC 5322 address. An
	// institution's settings (Email.From, Email.Name) take precedence.
	From    string
	Metrics Metrics      // nil counts nothing
	Log     *slog.Logger // nil logs nothing
}

// Outbox queues emails. It is safe for concurrent use; build one per
// process and give its Wake channel to the process's Worker.
type Outbox struct {
	store   Store
	emails  *templates.Emails
	from    *netmail.Address
	metrics Metrics
	log     *slog.Logger
	wake    chan struct{}
}

// NewOutbox checks cfg and returns the outbox.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.Store == nil || cfg.Emails == nil {
		return nil, errors.New("mail: the outbox needs a store and the emails")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: default sender %q: %w", cfg.From, err)
	}
	o := &Outbox{store: cfg.Store, emails: cfg.Emails, from: from, metrics: cfg.Metrics, log: cfg.Log,
		wake: make(chan struct{}, 1)}
	if o.metrics == nil {
		o.metrics = noMetrics{}
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Recipient is who an email goes to.
type Recipient struct {
	AccountID string // "" when the email is not about an account (a test email)
	Email     string // the address
	Name      string // for the greeting, "" for an anonymous one
	Locale    string // the account's language, "" for the institution's default
}

// To returns the recipient that is the account.
func To(a *storage.Account) Recipient {
	return Recipient{AccountID: a.ID, Email: a.Email, Name: a.Name(), Locale: a.Locale}
}

// Wake receives a value when this process queued an email, so that the
// worker delivers it without waiting for its next poll.
func (o *Outbox) Wake() <-chan struct{} { return o.wake }

// Queue renders doc for the recipient and stores it in the outbox of inst,
// as part of the transaction ctx carries: call it inside the InTx of the
// change that causes the email, so that the two are committed, or rolled
// back, together. It never touches SMTP: the worker delivers the email
// after the commit.
//
// The language is the recipient's locale, else the institution's default,
// else English. The institution's override of the class in that language,
// if any, replaces the built-in templates (an override that fails to render
// is logged and the built-in email is sent instead: an email is never lost
// to a template).
func (o *Outbox) Queue(ctx context.Context, inst *storage.Institution, to Recipient, doc templates.Email) (*storage.OutboxEmail, error) {
	return o.QueueDocument(ctx, inst, to, doc, "")
}

// ErrUnknownDocument: the institution has no document of that name for the
// email's class.
var ErrUnknownDocument = errors.New("mail: no such document")

// QueueDocument is Queue with the institution's document (its named
// version of the email's class, a "document type") to render: "" is the
// default one. A name the institution has not defined is
// ErrUnknownDocument, and nothing is queued.
func (o *Outbox) QueueDocument(ctx context.Context, inst *storage.Institution, to Recipient, doc templates.Email,
	document string) (*storage.OutboxEmail, error) {
	if document != "" {
		return nil, fmt.Errorf("queue email: document %q: %w", document, ErrUnknownDocument)
	}
	if doc == nil {
		return nil, errors.New("queue email: no document")
	}
	class := doc.Class()
	rcpt, err := checkRecipient(to.Email)
	if err != nil {
		return nil, fmt.Errorf("queue %s email: %w", class, err)
	}
	s := o.store.In(inst.ID)
	locale := o.emails.Locale(to.Locale, inst.Settings.DefaultLocale())
	frame := templates.EmailFrame{Locale: locale, Institution: displayName(inst), RecipientName: to.Name,
		RecipientEmail: rcpt}
	r, err := o.render(ctx, s, inst, frame, doc)
	if err != nil {
		return nil, fmt.Errorf("queue %s email: %w", class, err)
	}
	e := &storage.OutboxEmail{AccountID: to.AccountID, Class: string(class), Locale: r.Locale, Recipient: rcpt,
		Sender: o.sender(inst), Subject: r.Subject, TextBody: r.Text, HTMLBody: r.HTML}
	if err := s.EnqueueEmail(ctx, e); err != nil {
		return nil, fmt.Errorf("queue %s email: %w", class, err)
	}
	o.metrics.EmailQueued(e.Class)
	o.wakeWorker()
	return e, nil
}

// Documents returns the names of the institution's documents of a class,
// the default one first: what an operator chooses from ("" is the default,
// which always exists).
func (o *Outbox) Documents(ctx context.Context, inst *storage.Institution, class templates.EmailClass) ([]string, error) {
	return []string{""}, nil
}

// render draws doc with the institution's override, if there is one.
func (o *Outbox) render(ctx context.Context, s storage.TemplateStore, inst *storage.Institution,
	frame templates.EmailFrame, doc templates.Email) (templates.RenderedEmail, error) {
	ov, err := override(ctx, s, doc.Class(), frame.Locale)
	if err != nil {
		return templates.RenderedEmail{}, err
	}
	if ov == nil {
		return o.emails.Render(frame, doc, nil)
	}
	r, err := o.emails.Render(frame, doc, ov)
	if err == nil {
		return r, nil
	}
	o.log.Error("an email template override does not render; the built-in template is used instead",
		"institution", inst.Slug, "class", doc.Class(), "locale", frame.Locale, "error", err)
	return o.emails.Render(frame, doc, nil)
}

// override returns the institution's override of class in locale, nil when
// there is none.
func override(ctx context.Context, s storage.TemplateStore, class templates.EmailClass, locale string) (*templates.EmailSource, error) {
	ov, err := s.GetEmailTemplate(ctx, string(class), "", locale)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &templates.EmailSource{Subject: ov.Subject, Text: ov.TextBody, HTML: ov.HTMLBody}, nil
}

// checkRecipient returns the bare address of s, or an error.
func checkRecipient(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n") {
		return "", errors.New("recipient: a line break in the address")
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("recipient %q: %w", s, err)
	}
	return a.Address, nil
}

// sender is the From of the institution's emails: its settings' address and
// name, else the default sender's address with the institution's name.
func (o *Outbox) sender(inst *storage.Institution) string {
	addr := o.from.Address
	if custom := inst.Settings.Email.From; custom != "" {
		if a, err := netmail.ParseAddress(custom); err == nil && !strings.ContainsAny(custom, "\r\n") {
			addr = a.Address
		} else {
			o.log.Warn("the institution's email sender is not an address; the default sender is used",
				"institution", inst.Slug, "from", custom)
		}
	}
	name := strings.Join(strings.Fields(inst.Settings.Email.Name), " ")
	if name == "" {
		name = displayName(inst)
	}
	if name == "" {
		name = o.from.Name
	}
	return (&netmail.Address{Name: name, Address: addr}).String()
}

// displayName is the institution's name as its emails show it.
func displayName(inst *storage.Institution) string {
	return strings.Join(strings.Fields(inst.ShownName()), " ")
}

// Retry queues an email of inst again, due now (a failed one, or a queued
// one waiting for its next attempt), and records it in the audit trail of
// the account it was sent to. storage.ErrConflict when it was sent,
// storage.ErrNotFound when inst has no such email.
func (o *Outbox) Retry(ctx context.Context, inst *storage.Institution, id, actor string) error {
	err := o.store.InTx(ctx, func(ctx context.Context) error {
		s := o.store.In(inst.ID)
		e, err := s.GetEmail(ctx, id)
		if err != nil {
			return err
		}
		if err := s.RetryEmail(ctx, id); err != nil {
			return err
		}
		return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: e.AccountID, Actor: actor, Action: "email_retried",
			Details: storage.Details{"email_id": e.ID, "class": e.Class, "previous_status": string(e.Status)}})
	})
	if err == nil {
		o.wakeWorker()
	}
	return err
}

// wakeWorker tells this process's worker that an email is due.
func (o *Outbox) wakeWorker() {
	select {
	case o.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}
