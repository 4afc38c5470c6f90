package mail

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Sender delivers messages. The worker opens one session per batch.
type Sender interface {
	// Open starts a session. It does no I/O: an SMTP session connects at its
	// first Send and keeps the connection for the next ones.
	Open() Session
}

// Session sends the messages of one batch.
type Session interface {
	// Send delivers m. It returns nil when the server accepted the message,
	// a *PermanentError when it refused it for good, a *ConnectError when no
	// connection could be set up (the rest of the batch would fail the
	// same way), and any other error for a temporary failure of this message.
	Send(ctx context.Context, m *Message) error
	// Close ends the session.
	Close() error
}

// LogSender prints every email to a writer instead of sending it: the
// development default when no SMTP server is configured. Production refuses
// it (cmd/usher requires smtp.host outside --dev).
type LogSender struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLogSender returns a sender that prints to w.
func NewLogSender(w io.Writer) *LogSender { return &LogSender{w: w} }

// Open implements Sender.
func (l *LogSender) Open() Session { return logSession{l} }

type logSession struct{ l *LogSender }

// Send implements Session: it prints the headers and the text part.
func (s logSession) Send(_ context.Context, m *Message) error {
	var b strings.Builder
	fmt.Fprintf(&b, "==== email %s (%s, %s) ====\n", m.ID, m.Class, m.Locale)
	fmt.Fprintf(&b, "From: %s\nTo: %s\n", m.From, m.To)
	if m.ReplyTo != nil {
		fmt.Fprintf(&b, "Reply-To: %s\n", m.ReplyTo)
	}
	fmt.Fprintf(&b, "Subject: %s\nDate: %s\nMessage-ID: %s\n\n", m.Subject, m.Date.Format("2006-01-02 15:04:05 MST"), m.MessageID)
	b.WriteString(m.Text)
	fmt.Fprintf(&b, "==== end of email %s ====\n", m.ID)
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	_, err := io.WriteString(s.l.w, b.String())
	return err
}

// Close implements Session.
func (logSession) Close() error { return nil }
