package sqltest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy between Usher and its database that a test can cut:
// Stall stops forwarding bytes (a frozen server: connections stay open,
// nothing answers), Down closes every connection and refuses new ones (a
// stopped server), Resume lets everything through again.
type Proxy struct {
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener // nil while down
	conns  map[net.Conn]bool
	flow   chan struct{} // closed while bytes flow
	closed bool
}

// NewProxy starts a proxy to target (host:port) on a loopback port, closed
// when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	flow := make(chan struct{})
	close(flow)
	p := &Proxy{target: target, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}, flow: flow}
	go p.accept(ln)
	t.Cleanup(p.Close)
	return p
}

// ProxyFor starts a proxy to db's PostgreSQL server and returns it with the
// database URL that goes through it.
func ProxyFor(t testing.TB, db DB) (*Proxy, string) {
	t.Helper()
	if db.Dialect != "postgres" {
		t.Fatalf("proxy: %s has no server to proxy", db.Dialect)
	}
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := NewProxy(t, host)
	u.Host = p.addr
	return p, u.String()
}

// Addr is the proxy's address.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed: down or finished
		}
		go p.link(c)
	}
}

// link forwards one client connection to the target.
func (p *Proxy) link(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		return
	}
	defer p.untrack(client, server)
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil || p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.conns, c)
	}
}

// pipe copies src to dst, holding each chunk while the proxy is stalled.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitFlow()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				resetOnClose(dst)
			}
			return
		}
	}
}

func (p *Proxy) waitFlow() {
	p.mu.Lock()
	flow := p.flow
	p.mu.Unlock()
	<-flow
}

// Stall stops forwarding: connections stay open and new ones are accepted,
// but no byte goes through until Resume.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flow:
		p.flow = make(chan struct{})
	default: // stalled already
	}
}

// Down resets every connection and refuses new ones until Resume.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		resetOnClose(c)
		c.Close()
		delete(p.conns, c)
	}
}

// Resume undoes Stall and Down.
func (p *Proxy) Resume() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flow:
	default:
		close(p.flow)
	}
	if p.ln != nil || p.closed {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.ln = ln
	go p.accept(ln)
	return nil
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.Resume() // a stalled pipe ends
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Down()
}

// resetOnClose makes closing c send a reset rather than a clean end.
func resetOnClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}
