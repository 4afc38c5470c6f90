// Package mailtest runs a real SMTP server on loopback for tests
// (github.com/emersion/go-smtp): plain, STARTTLS or implicit TLS, with or
// without authentication, and with hooks to refuse, delay or hang. It keeps
// what it receives, so tests can parse the messages.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options shape a Server. The zero value is a plain server that accepts
// everything.
type Options struct {
	// Addr is where to listen; "" picks a free loopback port. Tests of a
	// server that comes back use the address of one that went away.
	Addr string
	// TLS, when set, is offered through STARTTLS, or from the first byte
	// when Implicit is set.
	TLS      *tls.Config
	Implicit bool
	// Username and Password, when set, are required before MAIL.
	Username, Password string
	// Mechanisms are the AUTH mechanisms offered; nil means PLAIN and LOGIN.
	Mechanisms []string
	// InsecureAuth offers AUTH without TLS (to check that the client
	// refuses to use it).
	InsecureAuth bool
	// Reply, when set, is called for every command of a message transaction
	// ("MAIL", "RCPT", "DATA") with how many transactions the server has
	// seen (from 1); a non-nil error, such as &smtp.SMTPError{Code: 451},
	// is the server's answer.
	Reply func(command string, transaction int) error
	// Hold, when set, is called when a message's data has been read, before
	// the server answers: a test blocks in it to hang the server.
	Hold func(m Received)
}

// Received is a message the server accepted.
type Received struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool   // it came over TLS
	AuthUser string // who authenticated, "" for nobody
}

// Message parses the received data.
func (r Received) Message() (*mail.Message, error) {
	return mail.ReadMessage(bytes.NewReader(r.Data))
}

// Server is an SMTP server on loopback.
type Server struct {
	Host string // "127.0.0.1"
	Port int

	opts   Options
	srv    *smtp.Server
	ln     net.Listener
	conns  int
	mu     sync.Mutex
	got    []Received
	txs    int
	notify chan struct{}
	done   chan struct{}
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Listen(opts)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen runs a server; Close stops it.
func Listen(opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	if opts.Implicit {
		if opts.TLS == nil {
			return nil, errors.New("implicit TLS needs Options.TLS")
		}
		ln, err = tls.Listen("tcp", addr, opts.TLS)
	} else {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, notify: make(chan struct{}), done: make(chan struct{})}
	s.ln = &countingListener{Listener: ln, s: s}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, tls: isTLS || opts.Implicit}, nil
	}))
	s.srv.Domain = "mailtest.localhost"
	s.srv.AllowInsecureAuth = opts.InsecureAuth
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.ErrorLog = discardLogger{}
	s.srv.EnableSMTPUTF8 = true
	if !opts.Implicit {
		s.srv.TLSConfig = opts.TLS
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(s.ln)
	}()
	return s, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Close stops the server and closes its connections.
func (s *Server) Close() {
	_ = s.srv.Close()
	_ = s.ln.Close() // Serve may not have registered it yet
	<-s.done
}

// Connections returns how many connections the server accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

type countingListener struct {
	net.Listener
	s *Server
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

// Wait returns the accepted messages once there are at least n, failing the
// test after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, ch := len(s.got), s.notify
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("mailtest: %d message(s) received after %s, want %d", got, timeout, n)
		}
	}
}

func (s *Server) transaction() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txs++
	return s.txs
}

func (s *Server) accept(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, r)
	close(s.notify)
	s.notify = make(chan struct{})
}

// session is one SMTP connection's state.
type session struct {
	s    *Server
	tls  bool
	user string
	tx   int // the transaction in progress, 0 before MAIL
	msg  Received
}

// errAuthRequired is the answer to MAIL before AUTH when it is required.
var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

var errBadCredentials = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.Username == "" {
		return nil
	}
	if x.s.opts.Mechanisms != nil {
		return x.s.opts.Mechanisms
	}
	return []string{sasl.Plain, sasl.Login}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != x.s.opts.Username || pass != x.s.opts.Password {
			return errBadCredentials
		}
		x.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return errBadCredentials
			}
			return check(user, pass)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (x *session) reply(command string) error {
	if x.s.opts.Reply == nil {
		return nil
	}
	return x.s.opts.Reply(command, x.tx)
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && x.user == "" {
		return errAuthRequired
	}
	x.tx = x.s.transaction()
	x.msg = Received{From: from, TLS: x.tls, AuthUser: x.user}
	return x.reply("MAIL")
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := x.reply("RCPT"); err != nil {
		return err
	}
	x.msg.To = append(x.msg.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := x.reply("DATA"); err != nil {
		return err
	}
	x.msg.Data = data
	if x.s.opts.Hold != nil {
		x.s.opts.Hold(x.msg)
	}
	x.s.accept(x.msg)
	return nil
}

func (x *session) Reset() { x.msg = Received{}; x.tx = 0 }

func (x *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl has only the
// client).
type loginServer struct {
	check func(user, pass string) error
	user  string
	asked int
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.asked {
	case 0:
		l.asked++
		if len(response) > 0 { // initial response: the user name
			l.user = string(response)
			l.asked++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(response)
		l.asked++
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(response))
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// TLS returns a server configuration with a fresh self-signed certificate
// for 127.0.0.1 and localhost, and the pool that trusts it (for
// mail.SMTPConfig.RootCAs).
func TLS(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion: tls.VersionTLS12}, pool
}

// FreeAddr returns a loopback address where nothing listens (yet): a server
// that is down.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
