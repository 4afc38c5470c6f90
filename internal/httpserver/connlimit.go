package httpserver

import (
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usher-idp/usher/internal/outage"
)

// refuseWriteTimeout bounds the write of the 503 to a connection beyond the
// limit: a client that does not read it is not waited for.
const refuseWriteTimeout = time.Second

// refusal is what a connection beyond the limit gets before it is closed:
// a complete HTTP/1.1 answer, written before its request is read.
var refusal = []byte("HTTP/1.1 503 Service Unavailable\r\nRetry-After: " + strconv.Itoa(RetryAfter) +
	"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 17\r\nConnection: close\r\n\r\ntoo many clients\n")

// LimitConnections returns ln holding at most max connections open at
// once (max ≤ 0: ln itself). A connection beyond the limit is accepted,
// answered 503 with Retry-After and closed at once, so it costs no server
// goroutine or buffers; the first refusal is logged, then a summary every
// few seconds while they last, then their end (package outage).
func LimitConnections(ln net.Listener, max int, log *slog.Logger) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: int64(max), refused: outage.New(log, "connection limit", 0, nil)}
}

type limitListener struct {
	net.Listener
	max     int64
	open    atomic.Int64
	refused *outage.Log
}

// Accept returns the next connection within the limit, refusing those
// beyond it meanwhile.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			l.refused.Failed("too many connections", errors.New("limit of "+strconv.FormatInt(l.max, 10)+" connections reached"))
			go refuse(c)
			continue
		}
		l.refused.OK()
		return &limitedConn{Conn: c, release: func() { l.open.Add(-1) }}, nil
	}
}

// refuse answers a connection beyond the limit and closes it.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	_, _ = c.Write(refusal)
	_ = c.Close()
}

// limitedConn gives its place back when it is closed, once.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
