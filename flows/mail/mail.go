// Package mail delivers Usher's emails. An email is a row of the outbox
// first, written by Outbox.Queue in the transaction of the change that
// causes it (so a rolled-back change sends nothing and a committed one
// cannot lose its email), and the request that queued it never waits on
// SMTP. A Worker in every replica claims due rows with a short lease (no two
// replicas send the same row), renewed while it sends (heartbeat.go), sends
// them through a Sender (SMTP, or the
// console in development) over one connection per batch, and records the
// outcome in the row: sent, retried with backoff while the failure is
// temporary, failed with the server's reply when it is permanent or when
// retrying has gone on for too long.
//
// What an email says may carry a live link: the outbox seals its subject and
// bodies before they are stored, with a key derived from the master secret
// (SealPurpose), the worker opens them to send, and the store blanks them
// when the email is marked sent (sealed.go).
//
// The documents (templates.PasswordResetEmail and the other typed models)
// are rendered by package templates, in the recipient's language, with the
// institution's overrides in the document the email names (see Templates
// and documents.go), within the bounds templates sets to overrides.
package mail

import (
	"errors"
	"strings"
)

// Metrics counts what happens to emails, by document class. cmd/usher's
// metrics registry implements it; nil counts nothing.
type Metrics interface {
	EmailQueued(class string)
	EmailSent(class string)
	EmailFailed(class string) // one failed delivery attempt, temporary or permanent
}

// noMetrics counts nothing.
type noMetrics struct{}

func (noMetrics) EmailQueued(string) {}
func (noMetrics) EmailSent(string)   {}
func (noMetrics) EmailFailed(string) {}

// PermanentError is a message the server refused for good (a 5xx reply to
// MAIL, RCPT or DATA), or one that cannot be sent at all (an invalid
// address): retrying cannot help, so the email is marked failed at once.
type PermanentError struct {
	Reply string // the server's reply, e.g. "550 5.1.1 no such mailbox"
}

func (e *PermanentError) Error() string { return e.Reply }

// ConnectError is a failure to set up a connection ready to send: dial,
// greeting, TLS, authentication. It is temporary whatever the reply code
// (an authentication refused is a configuration to fix, not a reason to drop
// emails), and it concerns the whole batch: the worker stops the batch and
// retries every email of it later.
type ConnectError struct {
	Err error
}

func (e *ConnectError) Error() string { return e.Err.Error() }

func (e *ConnectError) Unwrap() error { return e.Err }

// Permanent reports whether err means the email can never be delivered.
func Permanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// maxLastError bounds what is kept of an error in the outbox row.
const maxLastError = 1000

// describe writes err as the row's last_error: one line, bounded. Errors
// never carry the message's body, only replies and network errors.
func describe(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > maxLastError {
		cut := maxLastError
		for cut > 0 && s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
