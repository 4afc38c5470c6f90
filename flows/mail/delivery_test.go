package mail_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	umail "github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/mail/mailtest"
	"github.com/usher-idp/usher/storage"
)

// An email queued for a French-speaking account arrives as a proper MIME
// message: both parts, the headers, the encoded subject and names.
func TestDelivery(t *testing.T) {
	e := sqlite(t)
	srv := mailtest.Start(t, mailtest.Options{})
	acct := e.account("zoe@example.org", "Zoë", "Ünal", "fr-CH")
	queued := e.queue(umail.To(acct))
	w := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil)
	e.once(w, umail.BatchResult{Claimed: 1, Sent: 1})

	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("want 1 message, got %d", len(got))
	}
	r := got[0]
	if r.From != "no-reply@usher.example" || len(r.To) != 1 || r.To[0] != "zoe@example.org" {
		t.Errorf("envelope: from %q to %q", r.From, r.To)
	}
	for i, line := range strings.Split(string(r.Data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d characters long", i, len(line))
		}
	}
	msg, err := r.Message()
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Grand Théâtre" || from[0].Address != "no-reply@usher.example" {
		t.Errorf("From: %v, %v", from, err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "zoe@example.org" {
		t.Errorf("To: %v, %v", to, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "Réinitialisez votre mot de passe pour Grand Théâtre" {
		t.Errorf("Subject: %q (raw %q), %v", subject, h.Get("Subject"), err)
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?utf-8?") {
		t.Errorf("Subject: want RFC 2047 encoding, got %q", h.Get("Subject"))
	}
	if date, err := h.Date(); err != nil || !date.Equal(start) {
		t.Errorf("Date: %v, %v; want the time it was queued, %v", date, err, start)
	}
	want := map[string]string{"Message-Id": "<" + queued.ID + "@id.example.org>", "Mime-Version": "1.0",
		"Auto-Submitted": "auto-generated", "Content-Language": "fr"}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s: got %q, want %q", k, h.Get(k), v)
		}
	}
	text, html := parts(t, msg)
	row := e.get(queued.ID)
	// The row is blanked once sent: the bodies to compare with are those
	// Queue rendered.
	if text != queued.TextBody || html != queued.HTMLBody {
		t.Errorf("the parts differ from the queued bodies:\n%s\n%s", text, html)
	}
	if row.TextBody != "" || row.HTMLBody != "" || row.Subject != "" || row.Content != nil {
		t.Errorf("the sent row still says something: %+v", row)
	}
	if !strings.Contains(text, "Bonjour Zoë Ünal,") || !strings.Contains(html, `href="https://id.example.org/institutions/opera/password/reset?token=abc"`) {
		t.Errorf("unexpected bodies:\n%s\n%s", text, html)
	}
	if row.Status != storage.EmailSent || row.SentAt == nil || row.Attempts != 1 || row.LastError != "" {
		t.Errorf("row after delivery: %+v", row)
	}
	if c := e.metrics.counts("password_reset"); c != [3]int{1, 1, 0} {
		t.Errorf("metrics queued, sent, failed: %v", c)
	}
}

// parts returns the decoded text/plain and text/html parts of msg.
func parts(t *testing.T, msg *mail.Message) (text, html string) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type: %q, %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var kinds []string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct := p.Header.Get("Content-Type")
		body, err := io.ReadAll(p) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		// Lines end in CRLF on the wire.
		decoded := strings.ReplaceAll(string(body), "\r\n", "\n")
		switch ct {
		case "text/plain; charset=utf-8":
			text = decoded
		case "text/html; charset=utf-8":
			html = decoded
		default:
			t.Errorf("unexpected part %q", ct)
		}
		kinds = append(kinds, ct)
	}
	if len(kinds) != 2 || !strings.HasPrefix(kinds[0], "text/plain") {
		t.Errorf("parts: want text/plain then text/html, got %q", kinds)
	}
	return text, html
}

// A batch goes over one connection, a refused message in the middle
// included (RSET, then the next message).
func TestOneConnectionPerBatch(t *testing.T) {
	e := sqlite(t)
	srv := refusing(t, "RCPT", 2, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "Mailbox busy"})
	var ids []string
	for i := range 3 {
		ids = append(ids, e.queue(anyone(i)).ID)
		e.clock.Advance(time.Millisecond) // claimed in this order
	}
	w := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil)
	e.once(w, umail.BatchResult{Claimed: 3, Sent: 2, Retried: 1})
	if n := srv.Connections(); n != 1 {
		t.Errorf("connections: want 1 for the batch, got %d", n)
	}
	if got := e.get(ids[1]); got.Status != storage.EmailQueued || got.LastError != "451 4.2.0 Mailbox busy" {
		t.Errorf("the refused email: %s %q", got.Status, got.LastError)
	}
}

// STARTTLS, required or opportunistic, with the server's certificate
// verified.
func TestSTARTTLS(t *testing.T) {
	serverTLS, roots := mailtest.TLS(t)
	cases := []struct {
		name      string
		serverTLS bool
		mode      string
		roots     bool
		wantTLS   bool
		wantError string // "" when the email must be sent
	}{
		{"required", true, umail.TLSStartTLS, true, true, ""},
		{"opportunistic, offered", true, umail.TLSOpportunistic, true, true, ""},
		{"opportunistic, not offered", false, umail.TLSOpportunistic, true, false, ""},
		{"required, not offered", false, umail.TLSStartTLS, true, false, "does not offer STARTTLS"},
		{"untrusted certificate", true, umail.TLSStartTLS, false, false, "certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := sqlite(t)
			opts := mailtest.Options{}
			if c.serverTLS {
				opts.TLS = serverTLS
			}
			srv := mailtest.Start(t, opts)
			pool := roots
			if !c.roots {
				pool = nil // the system's roots do not know the test certificate
			}
			m := e.queue(anyone(1))
			w := e.worker(smtpTo(t, srv.Addr(), c.mode, pool, "", ""), nil)
			res, err := w.RunOnce(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c.wantError != "" {
				got := e.get(m.ID)
				if res.Retried != 1 || got.Status != storage.EmailQueued || !strings.Contains(got.LastError, c.wantError) {
					t.Fatalf("want a retry mentioning %q, got %+v, %s %q", c.wantError, res, got.Status, got.LastError)
				}
				if len(srv.Messages()) != 0 {
					t.Fatal("a message was delivered")
				}
				return
			}
			got := srv.Wait(t, 1, 5*time.Second)
			if got[0].TLS != c.wantTLS {
				t.Fatalf("TLS: got %v, want %v", got[0].TLS, c.wantTLS)
			}
		})
	}
}

func TestImplicitTLS(t *testing.T) {
	e := sqlite(t)
	serverTLS, roots := mailtest.TLS(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Implicit: true})
	e.queue(anyone(1))
	e.once(e.worker(smtpTo(t, srv.Addr(), umail.TLSImplicit, roots, "", ""), nil), umail.BatchResult{Claimed: 1, Sent: 1})
	if got := srv.Messages(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("want one message over TLS, got %+v", got)
	}
}

func TestAuth(t *testing.T) {
	serverTLS, roots := mailtest.TLS(t)
	cases := []struct {
		name       string
		mechanisms []string
		password   string
		insecure   bool // the server offers AUTH without TLS, the client is opportunistic
		wantError  string
	}{
		{"plain", nil, "s3cret", false, ""},
		{"login", []string{"LOGIN"}, "s3cret", false, ""},
		{"wrong password", nil, "wrong", false, "535"},
		{"no usable mechanism", []string{"CRAM-MD5"}, "s3cret", false, "neither AUTH PLAIN nor LOGIN"},
		{"never without TLS", nil, "s3cret", true, "without TLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := sqlite(t)
			opts := mailtest.Options{TLS: serverTLS, Username: "usher", Password: "s3cret", Mechanisms: c.mechanisms}
			mode := umail.TLSStartTLS
			if c.insecure {
				opts.TLS, opts.InsecureAuth, mode = nil, true, umail.TLSOpportunistic
			}
			srv := mailtest.Start(t, opts)
			m := e.queue(anyone(1))
			res, err := e.worker(smtpTo(t, srv.Addr(), mode, roots, "usher", c.password), nil).RunOnce(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c.wantError == "" {
				if got := srv.Wait(t, 1, 5*time.Second); got[0].AuthUser != "usher" || !got[0].TLS {
					t.Fatalf("want a message from usher over TLS, got %+v", got[0])
				}
				return
			}
			got := e.get(m.ID)
			// An authentication problem is the configuration's: the email is
			// kept and retried, never failed.
			if !res.Unreachable || res.Retried != 1 || got.Status != storage.EmailQueued || !strings.Contains(got.LastError, c.wantError) {
				t.Fatalf("want a retry mentioning %q, got %+v, %s %q", c.wantError, res, got.Status, got.LastError)
			}
		})
	}
	if _, err := umail.NewSMTP(umail.SMTPConfig{Host: "smtp.example.org", Port: 25, TLS: umail.TLSNone,
		Username: "u", Password: "p", Timeout: time.Second}); err == nil {
		t.Error("a username with TLS none was accepted")
	}
}

// A temporary refusal (4xx) is retried with backoff, and the email arrives
// once.
func TestTemporaryFailureThenSuccess(t *testing.T) {
	for _, cmd := range []string{"MAIL", "RCPT", "DATA"} {
		t.Run(cmd, func(t *testing.T) {
			e := sqlite(t)
			srv := refusing(t, cmd, 1, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"})
			m := e.queue(anyone(1))
			w := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil)
			e.once(w, umail.BatchResult{Claimed: 1, Retried: 1})
			got := e.get(m.ID)
			// Jitter 0.5: three quarters of the first delay.
			if got.Status != storage.EmailQueued || got.LastError != "451 4.3.0 Try again later" ||
				!got.NextAttemptAt.Equal(start.Add(umail.Backoff(1, 0.5))) {
				t.Fatalf("after the 451: %s %q next %s", got.Status, got.LastError, got.NextAttemptAt)
			}
			e.once(w, umail.BatchResult{}) // not due yet
			e.clock.Advance(umail.Backoff(1, 0.5))
			e.once(w, umail.BatchResult{Claimed: 1, Sent: 1})
			e.clock.Advance(48 * time.Hour)
			e.once(w, umail.BatchResult{})
			if n := len(srv.Messages()); n != 1 {
				t.Fatalf("want the email once, got %d", n)
			}
			if got := e.get(m.ID); got.Status != storage.EmailSent || got.Attempts != 2 || got.LastError != "" {
				t.Fatalf("after the 250: %+v", got)
			}
			if c := e.metrics.counts("password_reset"); c != [3]int{1, 1, 1} {
				t.Errorf("metrics queued, sent, failed attempts: %v", c)
			}
		})
	}
}

// A permanent refusal (5xx) fails the email at once with the server's reply,
// and it is not retried.
func TestPermanentFailure(t *testing.T) {
	e := sqlite(t)
	srv := refusing(t, "RCPT", 1, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"})
	bad := e.queue(anyone(1))
	e.clock.Advance(time.Millisecond)
	good := e.queue(anyone(2))
	w := e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil)
	e.once(w, umail.BatchResult{Claimed: 2, Sent: 1, Failed: 1})
	got := e.get(bad.ID)
	if got.Status != storage.EmailFailed || got.LastError != "550 5.1.1 No such user here" {
		t.Fatalf("the refused email: %s %q", got.Status, got.LastError)
	}
	if strings.Contains(got.LastError, "Réinitialisez") || strings.Contains(got.LastError, "token") {
		t.Fatal("the message's body leaked into last_error")
	}
	e.clock.Advance(48 * time.Hour)
	e.once(w, umail.BatchResult{})
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].To[0] != "person2@example.org" {
		t.Fatalf("want only the other email delivered, got %+v", msgs)
	}
	if e.get(good.ID).Status != storage.EmailSent {
		t.Fatal("the email after the refused one was not sent")
	}
}

// An email that cannot be written (a line break smuggled into the subject
// of the row) fails for good, and nothing reaches the server.
func TestUnsendableEmailFails(t *testing.T) {
	e := sqlite(t)
	srv := mailtest.Start(t, mailtest.Options{})
	row := &storage.OutboxEmail{Class: "password_reset", Locale: "en", Recipient: "ann@example.org",
		Sender: "Opera <no-reply@usher.example>", Subject: "Hi\r\nBcc: victim@example.org", TextBody: "x", HTMLBody: "<p>x</p>"}
	if err := e.store.In(e.inst.ID).EnqueueEmail(e.ctx, row); err != nil {
		t.Fatal(err)
	}
	e.once(e.worker(smtpTo(t, srv.Addr(), umail.TLSNone, nil, "", ""), nil), umail.BatchResult{Claimed: 1, Failed: 1})
	if got := e.get(row.ID); got.Status != storage.EmailFailed || !strings.Contains(got.LastError, "line break") {
		t.Fatalf("got %s %q", got.Status, got.LastError)
	}
	if srv.Connections() != 0 {
		t.Fatal("the server was contacted")
	}
}

func TestLogSender(t *testing.T) {
	e := sqlite(t)
	var out bytes.Buffer
	m := e.queue(umail.Recipient{Email: "ann@example.org", Name: "Ann", Locale: "de"})
	e.once(e.worker(umail.NewLogSender(&out), nil), umail.BatchResult{Claimed: 1, Sent: 1})
	for _, want := range []string{"==== email " + m.ID + " (password_reset, de) ====", "To: <ann@example.org>",
		"Subject: Setzen Sie Ihr Passwort für Grand Théâtre zurück", "Guten Tag Ann,",
		"https://id.example.org/institutions/opera/password/reset?token=abc"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("want %q in:\n%s", want, out.String())
		}
	}
}
