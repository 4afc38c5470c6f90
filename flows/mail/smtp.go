package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TLS modes of an SMTP connection.
const (
	TLSNone          = "none"          // plain text, never STARTTLS
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSStartTLS      = "starttls"      // STARTTLS required
	TLSImplicit      = "tls"           // TLS from the first byte (usually port 465)
)

// SMTPConfig is how to reach an SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int
	TLS      string // TLSNone, TLSOpportunistic, TLSStartTLS or TLSImplicit
	Username string // "" for no authentication
	Password string
	// Timeout bounds the dial and every command; the reply to the end of a
	// message's data may take three times as long.
	Timeout time.Duration
	// LocalName is the name given in EHLO; "" means "localhost".
	LocalName string
	// RootCAs verifies the server's certificate; nil means the system's
	// roots. Only tests set it (to trust their own server).
	RootCAs *x509.CertPool
}

// Bounds of one connection, in timeouts: its set-up (dial, greeting, EHLO,
// STARTTLS, EHLO, AUTH), and one message (MAIL, RCPT, DATA, the data, the
// reply to its end counted three times, RSET on error).
const (
	connectTimeouts = 6
	messageTimeouts = 8
)

// SMTP sends messages through an SMTP server.
//
// It uses net/smtp's client: it lets the connection be upgraded with
// STARTTLS after looking at the server's extensions (which opportunistic TLS
// needs) and accepts any connection, so every read and write gets a
// deadline from Timeout here. AUTH PLAIN and LOGIN are implemented here and
// refuse to run without TLS.
type SMTP struct {
	cfg SMTPConfig
}

// NewSMTP checks cfg and returns the sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	var problems []string
	if cfg.Host == "" {
		problems = append(problems, "no host")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		problems = append(problems, fmt.Sprintf("port %d out of range", cfg.Port))
	}
	switch cfg.TLS {
	case TLSNone, TLSOpportunistic, TLSStartTLS, TLSImplicit:
	default:
		problems = append(problems, fmt.Sprintf("unknown TLS mode %q", cfg.TLS))
	}
	if cfg.TLS == TLSNone && cfg.Username != "" {
		problems = append(problems, "a username with TLS none: the password would travel in clear")
	}
	if cfg.Timeout <= 0 {
		problems = append(problems, "the timeout must be positive")
	}
	if strings.ContainsAny(cfg.LocalName, "\r\n ") {
		problems = append(problems, "bad local name")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("smtp: %s", strings.Join(problems, "; "))
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	return &SMTP{cfg: cfg}, nil
}

// Addr is the server's host:port.
func (s *SMTP) Addr() string { return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)) }

// Open implements Sender.
func (s *SMTP) Open() Session { return &smtpSession{s: s} }

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
}

// smtpSession is one connection, set up at the first Send, reset after a
// refused message, set up again after a broken one.
type smtpSession struct {
	s    *SMTP
	conn *deadlineConn
	c    *smtp.Client
}

// Send implements Session.
func (x *smtpSession) Send(ctx context.Context, m *Message) error {
	data, err := m.Bytes()
	if err != nil {
		return err
	}
	if x.c == nil {
		if err := x.connect(ctx); err != nil {
			return &ConnectError{Err: fmt.Errorf("smtp %s: %w", x.s.Addr(), err)}
		}
	}
	x.conn.bound(messageTimeouts * x.s.cfg.Timeout)
	err = x.transaction(m, data)
	if err == nil {
		return nil
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		if x.c.Reset() != nil {
			x.drop()
		}
		text := fmt.Sprintf("%d %s", reply.Code, reply.Msg)
		if reply.Code >= 500 {
			return &PermanentError{Reply: text}
		}
		return errors.New(text)
	}
	x.drop() // the connection is in an unknown state
	return fmt.Errorf("smtp %s: %w", x.s.Addr(), err)
}

// transaction sends one message: MAIL, RCPT, DATA.
func (x *smtpSession) transaction(m *Message, data []byte) error {
	if err := x.c.Mail(m.From.Address); err != nil {
		return err
	}
	if err := x.c.Rcpt(m.To.Address); err != nil {
		return err
	}
	w, err := x.c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	x.conn.timeout = 3 * x.s.cfg.Timeout // the server may scan the message before it answers
	defer func() { x.conn.timeout = x.s.cfg.Timeout }()
	return w.Close()
}

// connect dials, greets, secures and authenticates.
func (x *smtpSession) connect(ctx context.Context) (err error) {
	cfg := x.s.cfg
	dialer := net.Dialer{Timeout: cfg.Timeout}
	raw, err := dialer.DialContext(ctx, "tcp", x.s.Addr())
	if err != nil {
		return err
	}
	conn := &deadlineConn{Conn: raw, timeout: cfg.Timeout}
	conn.bound(connectTimeouts * cfg.Timeout)
	var nc net.Conn = conn
	defer func() {
		if err != nil {
			nc.Close()
		}
	}()
	if cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, x.s.tlsConfig())
		hctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		nc = tc
	}
	c, err := smtp.NewClient(nc, cfg.Host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if err := c.Hello(cfg.LocalName); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if err := x.secure(c); err != nil {
		return err
	}
	if cfg.Username != "" {
		if err := authenticate(c, cfg.Username, cfg.Password); err != nil {
			return err
		}
	}
	x.c, x.conn = c, conn
	return nil
}

// secure runs STARTTLS as the TLS mode asks.
func (x *smtpSession) secure(c *smtp.Client) error {
	mode := x.s.cfg.TLS
	if mode != TLSStartTLS && mode != TLSOpportunistic {
		return nil
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		if mode == TLSStartTLS {
			return errors.New("the server does not offer STARTTLS, and smtp.tls is starttls")
		}
		return nil
	}
	if err := c.StartTLS(x.s.tlsConfig()); err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	return nil
}

// authenticate logs in with PLAIN, or LOGIN when the server offers only it.
func authenticate(c *smtp.Client, username, password string) error {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return errors.New("a username is set but the server offers no authentication")
	}
	offered := strings.Fields(strings.ToUpper(mechs))
	var a smtp.Auth
	switch {
	case slices.Contains(offered, "PLAIN"):
		a = plainAuth{username, password}
	case slices.Contains(offered, "LOGIN"):
		a = loginAuth{username, password}
	default:
		return fmt.Errorf("the server offers neither AUTH PLAIN nor LOGIN (only %s)", mechs)
	}
	if err := c.Auth(a); err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	return nil
}

// drop closes a connection that cannot be used any more.
func (x *smtpSession) drop() {
	if x.c != nil {
		x.c.Close()
	}
	x.c, x.conn = nil, nil
}

// Close implements Session: QUIT, then close.
func (x *smtpSession) Close() error {
	if x.c == nil {
		return nil
	}
	x.conn.bound(x.s.cfg.Timeout)
	err := x.c.Quit()
	if err != nil {
		x.c.Close()
	}
	x.c, x.conn = nil, nil
	return err
}

// errNoTLS: the password would be sent without TLS.
var errNoTLS = errors.New("refusing to authenticate without TLS")

// plainAuth is AUTH PLAIN (RFC 4616), over TLS only.
type plainAuth struct{ username, password string }

func (a plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errNoTLS
	}
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge in AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is AUTH LOGIN, over TLS only.
type loginAuth struct{ username, password string }

func (a loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errNoTLS
	}
	return "LOGIN", nil, nil
}

func (a loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(challenge))) {
	case "username:", "user name", "username":
		return []byte(a.username), nil
	case "password:", "password":
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected challenge in AUTH LOGIN: %q", challenge)
}

// deadlineConn gives every read and write a deadline: timeout from now, but
// never past limit (the bound of a whole step, set by bound).
type deadlineConn struct {
	net.Conn
	timeout time.Duration
	limit   time.Time
}

// bound limits the next operations to d from now in all.
func (c *deadlineConn) bound(d time.Duration) { c.limit = time.Now().Add(d) }

func (c *deadlineConn) deadline() time.Time {
	d := time.Now().Add(c.timeout)
	if !c.limit.IsZero() && c.limit.Before(d) {
		return c.limit
	}
	return d
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(c.deadline()); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(c.deadline()); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
