package mail_test

import (
	"bytes"
	"flag"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	umail "github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
)

var update = flag.Bool("update", false, "rewrite testdata/message.eml")

func sampleRow() *storage.OutboxEmail {
	return &storage.OutboxEmail{
		ID:        "0190f0e2-7a4b-7c3d-8e5f-123456789abc",
		Class:     "password_reset",
		Locale:    "de",
		Recipient: "Jürgen <juergen.gross@example.org>",
		Sender:    `=?utf-8?q?Gro=C3=9Fes_Theater?= <no-reply@theater.example>`,
		Subject:   "Setzen Sie Ihr Passwort für das Große Theater zurück – " + strings.Repeat("sehr lang ", 12),
		TextBody:  "Guten Tag Jürgen,\n\n" + strings.Repeat("Eine sehr lange Zeile ohne Umbruch, ", 40) + "\n\nhttps://id.example.org/r?token=" + strings.Repeat("a", 120) + "\n.\nLine with trailing space \n",
		HTMLBody:  "<p>Guten Tag Jürgen,</p>\n<p>" + strings.Repeat("x", 2000) + "</p>\n",
		CreatedAt: time.Date(2031, 3, 14, 15, 9, 26, 0, time.UTC),
	}
}

// The MIME form of one email, byte for byte (run go test ./flows/mail
// -update to accept a change).
func TestMessageGolden(t *testing.T) {
	m, err := umail.NewMessage(sampleRow(), "id.example.org", "Kasse <kasse@theater.example>")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "message.eml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("differs from %s:\n%s", path, got)
	}
	for i, line := range bytes.Split(got, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d: %d characters", i, len(line))
		}
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d: a bare CR or LF", i)
		}
		for _, c := range line {
			if c > 0x7e {
				t.Fatalf("line %d: a byte that is not ASCII: the message must be 7-bit", i)
			}
		}
	}
	header, _, _ := bytes.Cut(got, []byte("\r\n\r\n"))
	unfolded := strings.ReplaceAll(string(header), "\r\n ", " ")
	for _, line := range strings.Split(unfolded, "\r\n") {
		if strings.HasPrefix(line, "Subject: ") {
			s, err := new(mime.WordDecoder).DecodeHeader(strings.TrimPrefix(line, "Subject: "))
			if err != nil || s != sampleRow().Subject {
				t.Errorf("the subject does not decode back: %q, %v", s, err)
			}
		}
	}
}

// No header can be injected: a line break anywhere in a header's source is
// refused, for good.
func TestNoHeaderInjection(t *testing.T) {
	cases := map[string]func(e *storage.OutboxEmail){
		"subject":       func(e *storage.OutboxEmail) { e.Subject = "Hello\r\nBcc: x@example.org" },
		"subject LF":    func(e *storage.OutboxEmail) { e.Subject = "Hello\nBcc: x@example.org" },
		"recipient":     func(e *storage.OutboxEmail) { e.Recipient = "a@example.org\r\nBcc: x@example.org" },
		"sender":        func(e *storage.OutboxEmail) { e.Sender = "Opera\n <a@example.org>" },
		"locale":        func(e *storage.OutboxEmail) { e.Locale = "de\r\nBcc: x@example.org" },
		"bad recipient": func(e *storage.OutboxEmail) { e.Recipient = "not an address" },
	}
	for name, breakIt := range cases {
		row := sampleRow()
		breakIt(row)
		_, err := umail.NewMessage(row, "id.example.org", "")
		if !umail.Permanent(err) {
			t.Errorf("%s: want a permanent error, got %v", name, err)
		}
	}
	if _, err := umail.NewMessage(sampleRow(), "id.example.org", "help@x.example\r\nBcc: y@example.org"); !umail.Permanent(err) {
		t.Errorf("reply-to: want a permanent error, got %v", err)
	}
}
