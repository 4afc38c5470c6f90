package storage

import (
	"context"
	"time"
)

// EmailStatus is where an outbox email is.
type EmailStatus string

// Email statuses.
const (
	EmailQueued EmailStatus = "queued" // waiting for its next attempt
	EmailSent   EmailStatus = "sent"
	EmailFailed EmailStatus = "failed" // permanently refused, or retried for too long
)

// OutboxEmail is an email: a row first, written in the same transaction as
// the change that causes it, then delivered by a worker.
//
// What an email says may carry a live link, so it is sealed at rest: the
// outbox (flows/mail) encrypts the subject and bodies into Content, leaves
// Subject, TextBody and HTMLBody empty in what it stores, and the worker
// opens Content to send. The store keeps what it is given; the clear parts
// hold something only in emails queued before sealing (migration 0006).
// Once an email is sent, both are blanked: the row keeps what happened.
type OutboxEmail struct {
	ID            string      `db:"id"`
	InstitutionID string      `db:"institution_id"`
	AccountID     string      `db:"account_id"` // the recipient's account, "" for a test email
	Class         string      `db:"class"`      // document class, e.g. "password_reset"
	Locale        string      `db:"locale"`
	Recipient     string      `db:"recipient"`
	Sender        string      `db:"sender"`  // the From header
	Subject       string      `db:"subject"` // clear parts: see above
	TextBody      string      `db:"text_body"`
	HTMLBody      string      `db:"html_body"`
	Content       []byte      `db:"content"` // the sealed subject and bodies; nil when none (or sent)
	Status        EmailStatus `db:"status"`
	Attempts      int         `db:"attempts"`
	NextAttemptAt time.Time   `db:"next_attempt_at"`
	LastError     string      `db:"last_error"`
	CreatedAt     time.Time   `db:"created_at"`
	SentAt        *time.Time  `db:"sent_at"`
}

// OutboxFilter selects emails to list. Zero fields select everything.
type OutboxFilter struct {
	AccountID string
	Status    EmailStatus
	Limit     int // 0 means 100
}

// OutboxStore queues an institution's emails.
type OutboxStore interface {
	// EnqueueEmail stores e as queued, due at e.NextAttemptAt (now when zero);
	// ID and CreatedAt are assigned.
	EnqueueEmail(ctx context.Context, e *OutboxEmail) error
	// GetEmail returns the email, or ErrNotFound.
	GetEmail(ctx context.Context, id string) (*OutboxEmail, error)
	// ListEmails returns emails, newest first.
	ListEmails(ctx context.Context, f OutboxFilter) ([]OutboxEmail, error)
	// RetryEmail queues a failed or queued email again, due now.
	// ErrConflict when it was sent; ErrNotFound.
	RetryEmail(ctx context.Context, id string) error
}

// EmailClaim names one claim of an email: its ID and the attempt count the
// claim gave it (OutboxEmail.Attempts as ClaimEmails returned it).
type EmailClaim struct {
	ID       string
	Attempts int
}

// OutboxQueue is the delivery side of the outbox, across institutions.
type OutboxQueue interface {
	// ClaimEmails takes up to limit due emails and leases them: their next
	// attempt moves to now+lease and their attempt count rises, so no other
	// worker takes them meanwhile (if this one dies, they become due again).
	// Concurrent claims never return the same email.
	ClaimEmails(ctx context.Context, limit int, lease time.Duration) ([]OutboxEmail, error)
	// RenewEmailClaims extends the leases of emails a worker claimed to
	// now+lease: the worker's heartbeat while it sends, so that its leases
	// stay short and another worker takes its emails over soon after it
	// dies. A claim is the email's ID with the attempt count the claim gave
	// it, so only the claim's holder renews it. It returns the IDs renewed:
	// an email sent, failed or released meanwhile, or claimed again by
	// another worker (the lease ran out), is not.
	RenewEmailClaims(ctx context.Context, claims []EmailClaim, lease time.Duration) ([]string, error)
	// MarkEmailSent records the delivery and, in the same statement, blanks
	// what the email said: Content becomes nil, the clear parts empty.
	// ErrNotFound.
	MarkEmailSent(ctx context.Context, id string) error
	// MarkEmailRetry records a temporary failure and the next attempt.
	// ErrConflict when the email was sent meanwhile (by a worker that took it
	// over after this one's lease ran out); ErrNotFound.
	MarkEmailRetry(ctx context.Context, id string, next time.Time, lastError string) error
	// MarkEmailFailed records a permanent failure; the email is not retried
	// (unless RetryEmail queues it again: its content is kept for that).
	// ErrConflict when it was sent meanwhile; ErrNotFound.
	MarkEmailFailed(ctx context.Context, id string, lastError string) error
}
