package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/templates"
)

// InstitutionStore is what the outbox needs of one institution's records:
// its outbox, its template overrides, its audit trail.
type InstitutionStore interface {
	EnqueueEmail(ctx context.Context, e *storage.OutboxEmail) error
	GetEmail(ctx context.Context, id string) (*storage.OutboxEmail, error)
	RetryEmail(ctx context.Context, id string) error
	GetEmailTemplate(ctx context.Context, class, document, locale string) (*storage.EmailTemplate, error)
	ListEmailTemplates(ctx context.Context) ([]storage.EmailTemplate, error)
	RecordAudit(ctx context.Context, e *storage.AuditEvent) error
}

// OutboxConfig is what an Outbox is built from.
type OutboxConfig struct {
	// In returns the view of one institution's records; cmd/usher wires
	// func(id string) mail.InstitutionStore { return store.In(id) }.
	In func(institutionID string) InstitutionStore
	Tx storage.Transactor // for Retry
	// Sealer seals what emails say before they are stored:
	// seal.New(master, SealPurpose).
	Sealer *seal.Sealer
	Emails *templates.Emails
	// From is the default sender (smtp.from), an RFC 5322 address. An
	// institution's settings (Email.From, Email.Name) take precedence.
	From string
	// PublicURL is Usher's public URL: emails show an institution's uploaded
	// logo from it ("" shows only logos given by URL).
	PublicURL string
	Metrics   Metrics      // nil counts nothing
	Log       *slog.Logger // nil logs nothing
}

// Outbox queues emails. It is safe for concurrent use; build one per
// process and give its Wake channel to the process's Worker.
type Outbox struct {
	in        func(institutionID string) InstitutionStore
	tx        storage.Transactor
	sealer    *seal.Sealer
	emails    *templates.Emails
	from      *netmail.Address
	publicURL string
	metrics   Metrics
	log       *slog.Logger
	wake      chan struct{}
}

// NewOutbox checks cfg and returns the outbox.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.In == nil || cfg.Tx == nil || cfg.Emails == nil || cfg.Sealer == nil {
		return nil, errors.New("mail: the outbox needs a store (In and Tx), the emails and a sealer")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: default sender %q: %w", cfg.From, err)
	}
	o := &Outbox{in: cfg.In, tx: cfg.Tx, sealer: cfg.Sealer, emails: cfg.Emails, from: from, publicURL: cfg.PublicURL, metrics: cfg.Metrics,
		log: cfg.Log, wake: make(chan struct{}, 1)}
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
// else English. The institution's override of the class in that language
// (of its default document), if any, replaces the built-in templates. An
// override renders within bounds (templates.Emails.Render: 1 MiB a part, a
// second), so it cannot hold the transaction longer; one that fails to
// render or exceeds them is logged and the built-in email is sent instead:
// an email is never lost to a template.
//
// What the email says is sealed before it is stored (see SealPurpose): the
// row holds no link in clear. The returned email is the stored row with its
// Subject, TextBody and HTMLBody filled in, for the caller.
func (o *Outbox) Queue(ctx context.Context, inst *storage.Institution, to Recipient, doc templates.Email) (*storage.OutboxEmail, error) {
	return o.QueueDocument(ctx, inst, to, doc, "")
}

// QueueDocument is Queue with the institution's document (its named
// version of the email's class, a "document type") to render: "" (or
// DefaultDocument) is the default one. A name the institution has not
// defined for the class is ErrUnknownDocument, and nothing is queued; a
// document without a version in the recipient's language is drawn with the
// built-in templates of that language.
func (o *Outbox) QueueDocument(ctx context.Context, inst *storage.Institution, to Recipient, doc templates.Email,
	document string) (*storage.OutboxEmail, error) {
	if doc == nil {
		return nil, errors.New("queue email: no document")
	}
	class := doc.Class()
	key, err := documentKey(document)
	if err != nil {
		return nil, fmt.Errorf("queue %s email: %w: %w", class, ErrUnknownDocument, err)
	}
	rcpt, err := checkRecipient(to.Email)
	if err != nil {
		return nil, fmt.Errorf("queue %s email: %w", class, err)
	}
	s := o.in(inst.ID)
	locale := o.emails.Locale(to.Locale, inst.Settings.DefaultLocale())
	frame := templates.EmailFrame{Locale: locale, Institution: displayName(inst), RecipientName: to.Name,
		RecipientEmail: rcpt, Brand: templates.EmailBrandFor(inst, o.publicURL)}
	r, err := o.render(ctx, s, inst, frame, doc, key)
	if err != nil {
		return nil, fmt.Errorf("queue %s email: %w", class, err)
	}
	e := &storage.OutboxEmail{AccountID: to.AccountID, Class: string(class), Locale: r.Locale, Recipient: rcpt,
		Sender: o.sender(inst)}
	e.Content = sealContent(o.sealer, inst.ID, e, content{r.Subject, r.Text, r.HTML})
	if err := s.EnqueueEmail(ctx, e); err != nil {
		return nil, fmt.Errorf("queue %s email: %w", class, err)
	}
	e.Subject, e.TextBody, e.HTMLBody = r.Subject, r.Text, r.HTML
	o.metrics.EmailQueued(e.Class)
	o.wakeWorker()
	return e, nil
}

// Documents returns the names of the institution's documents of a class,
// the default one first: what an operator chooses from ("" is the default,
// which always exists: the institution's override or the built-in email).
func (o *Outbox) Documents(ctx context.Context, inst *storage.Institution, class templates.EmailClass) ([]string, error) {
	if !class.Valid() {
		return nil, fmt.Errorf("documents: unknown email class %q", class)
	}
	names, err := documentNames(ctx, o.in(inst.ID), class)
	if err != nil {
		return nil, fmt.Errorf("documents of %s: %w", class, err)
	}
	return names, nil
}

// render draws doc with the institution's override of the document, if
// there is one.
func (o *Outbox) render(ctx context.Context, s overrideReader, inst *storage.Institution,
	frame templates.EmailFrame, doc templates.Email, document string) (templates.RenderedEmail, error) {
	ov, err := findOverride(ctx, s, doc.Class(), document, frame.Locale)
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
		"institution", inst.Slug, "class", doc.Class(), "document", document, "locale", frame.Locale, "error", err)
	return o.emails.Render(frame, doc, nil)
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
	err := o.tx.InTx(ctx, func(ctx context.Context) error {
		s := o.in(inst.ID)
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
