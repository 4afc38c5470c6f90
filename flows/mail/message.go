package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/usher-idp/usher/storage"
)

// Message is an outbox email ready to be sent: checked addresses and the
// parts of its MIME form.
type Message struct {
	ID        string           // the outbox email's ID
	Class     string           // its document class (for metrics and the log)
	From      *netmail.Address // the From header and the envelope sender
	To        *netmail.Address // the To header and the envelope recipient
	ReplyTo   *netmail.Address // nil for none
	Subject   string
	Date      time.Time // when the email was queued
	MessageID string    // "<ID@host>"
	Locale    string
	Text      string
	HTML      string
}

// NewMessage checks the outbox email e and returns it as a message whose
// Message-ID is under host (the public URL's host). An email that can never
// be sent (an address that does not parse, a line break in a header) is a
// *PermanentError.
func NewMessage(e *storage.OutboxEmail, host string, replyTo string) (*Message, error) {
	from, err := parseAddress("sender", e.Sender)
	if err != nil {
		return nil, err
	}
	to, err := parseAddress("recipient", e.Recipient)
	if err != nil {
		return nil, err
	}
	var reply *netmail.Address
	if replyTo != "" {
		if reply, err = parseAddress("reply-to", replyTo); err != nil {
			return nil, err
		}
	}
	if host == "" || strings.ContainsAny(host, "<>@ \r\n") {
		host = "localhost"
	}
	m := &Message{ID: e.ID, Class: e.Class, From: from, To: to, ReplyTo: reply, Subject: e.Subject,
		Date: e.CreatedAt, MessageID: "<" + e.ID + "@" + host + ">", Locale: e.Locale,
		Text: e.TextBody, HTML: e.HTMLBody}
	for name, v := range map[string]string{"subject": m.Subject, "locale": m.Locale, "id": m.ID} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, &PermanentError{Reply: "invalid email: a line break in the " + name}
		}
	}
	if strings.ContainsAny(m.ID, "<>@ \t") || m.ID == "" {
		return nil, &PermanentError{Reply: "invalid email: bad ID " + fmt.Sprintf("%q", m.ID)}
	}
	return m, nil
}

// parseAddress parses one RFC 5322 address, refusing line breaks.
func parseAddress(what, s string) (*netmail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, &PermanentError{Reply: "invalid email: a line break in the " + what + " address"}
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, &PermanentError{Reply: fmt.Sprintf("invalid email: %s address %q: %v", what, s, err)}
	}
	if strings.ContainsAny(a.Address, "\r\n<> ") || strings.ContainsAny(a.Name, "\r\n") {
		return nil, &PermanentError{Reply: "invalid email: bad " + what + " address"}
	}
	return a, nil
}

// Bytes returns the message in MIME form, CRLF line endings:
// multipart/alternative with a text/plain and a text/html part, UTF-8,
// quoted-printable (so no line is longer than 76 characters), the subject
// and display names RFC 2047-encoded, header lines folded.
func (m *Message) Bytes() ([]byte, error) {
	boundary := m.boundary()
	var b bytes.Buffer
	headers := [][2]string{
		{"From", m.From.String()},
	}
	if m.ReplyTo != nil {
		headers = append(headers, [2]string{"Reply-To", m.ReplyTo.String()})
	}
	headers = append(headers,
		[2]string{"To", m.To.String()},
		[2]string{"Subject", encodeText(m.Subject)},
		[2]string{"Date", m.Date.Format(time.RFC1123Z)},
		[2]string{"Message-ID", m.MessageID},
		[2]string{"MIME-Version", "1.0"},
		[2]string{"Auto-Submitted", "auto-generated"},
		[2]string{"X-Auto-Response-Suppress", "All"},
	)
	if m.Locale != "" {
		headers = append(headers, [2]string{"Content-Language", m.Locale})
	}
	headers = append(headers, [2]string{"Content-Type", `multipart/alternative; boundary="` + boundary + `"`})
	for _, h := range headers {
		if err := writeHeader(&b, h[0], h[1]); err != nil {
			return nil, err
		}
	}
	b.WriteString("\r\n")
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, fmt.Errorf("message boundary: %w", err)
	}
	for _, part := range []struct{ kind, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.kind + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("message part: %w", err)
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, fmt.Errorf("message part: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("message part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// boundary is derived from the message, so the same email always has the
// same form, and no part can contain it (it is a hash of the parts).
func (m *Message) boundary() string {
	h := sha256.New()
	for _, s := range []string{m.ID, m.Subject, m.Text, m.HTML} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "usher-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// encodeText encodes an unstructured header value (the subject): as it is
// when it is printable ASCII, else as RFC 2047 encoded words.
func encodeText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	if strings.Contains(s, "=?") {
		return mime.QEncoding.Encode("utf-8", s) // would read as an encoded word
	}
	return s
}

// Header line lengths (RFC 5322 §2.1.1).
const (
	headerLineSoft = 78
	headerLineHard = 998
)

// writeHeader writes "Name: value" folded at spaces so that lines stay
// within 78 characters where possible and never pass 998. A value with a CR
// or LF is refused: no header can be injected.
func writeHeader(b *bytes.Buffer, name, value string) error {
	if strings.ContainsAny(name+value, "\r\n") {
		return &PermanentError{Reply: "invalid email: a line break in the header " + name}
	}
	line, words := name+":", 0 // words: how many are on the current line
	for _, word := range strings.Split(value, " ") {
		if words > 0 && len(line)+1+len(word) > headerLineSoft {
			b.WriteString(line + "\r\n")
			line, words = "", 0
		}
		line += " " + word
		words++
		if len(line) > headerLineHard {
			return &PermanentError{Reply: "invalid email: header " + name + " too long"}
		}
	}
	b.WriteString(line + "\r\n")
	return nil
}
