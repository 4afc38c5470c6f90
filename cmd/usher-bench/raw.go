package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// rawClient is a minimal HTTP/1.1 keep-alive client for one worker: it
// writes the request and reads the answer on the worker's own goroutine,
// on one connection, into reused buffers. The load generator shares the
// machine's cores with the server and the database; net/http's client
// costs about twice as much CPU per request (a reader and a writer
// goroutine per connection, header maps), which at tens of thousands of
// requests a second is CPU taken from the server being measured.
//
// It speaks only what the back-channel scenarios need: a request with a
// small body, an answer with Content-Length or chunked encoding.
type rawClient struct {
	addr string // host:port to dial
	host string // Host header
	conn net.Conn
	br   *bufio.Reader
	req  []byte
	body []byte
}

func newRawClient(base string) (*rawClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("target %s: the load generator speaks plain http (loopback) only", base)
	}
	addr := u.Host
	if u.Port() == "" {
		addr += ":80"
	}
	return &rawClient{addr: addr, host: u.Host}, nil
}

// answer is a response; body is valid until the client's next request.
type answer struct {
	status int
	body   []byte
}

// header is one request header.
type header struct{ name, value string }

// do sends a request (path is absolute: /institutions/…) and reads the
// answer. A request on a connection the server closed meanwhile is sent
// again once on a new connection.
func (c *rawClient) do(method, path string, body []byte, headers ...header) (answer, error) {
	c.req = c.req[:0]
	c.req = append(c.req, method...)
	c.req = append(c.req, ' ')
	c.req = append(c.req, path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.host...)
	c.req = append(c.req, "\r\nUser-Agent: "+userAgent+"\r\n"...)
	for _, h := range headers {
		c.req = append(c.req, h.name...)
		c.req = append(c.req, ": "...)
		c.req = append(c.req, h.value...)
		c.req = append(c.req, "\r\n"...)
	}
	if body != nil {
		c.req = append(c.req, "Content-Length: "...)
		c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
		c.req = append(c.req, "\r\n"...)
	}
	c.req = append(c.req, "\r\n"...)
	c.req = append(c.req, body...)
	reused := c.conn != nil
	a, err := c.roundTrip()
	if err != nil && reused && isStale(err) {
		c.close()
		a, err = c.roundTrip()
	}
	if err != nil {
		c.close()
	}
	return a, err
}

// isStale: the server closed an idle connection before it read the
// request (EOF or reset before any byte of an answer).
func isStale(err error) bool {
	var s staleError
	return errors.As(err, &s)
}

type staleError struct{ err error }

func (s staleError) Error() string { return s.err.Error() }
func (s staleError) Unwrap() error { return s.err }

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *rawClient) roundTrip() (answer, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 10*time.Second)
		if err != nil {
			return answer{}, err
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 16<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	_ = c.conn.SetDeadline(time.Now().Add(time.Minute))
	if _, err := c.conn.Write(c.req); err != nil {
		return answer{}, staleError{err}
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if len(line) == 0 {
			return answer{}, staleError{err}
		}
		return answer{}, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return answer{}, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return answer{}, fmt.Errorf("malformed status line %q", line)
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return answer{}, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return answer{}, fmt.Errorf("malformed Content-Length %q", value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			closing = asciiEqualFold(value, "close")
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		err = c.readChunked()
	case length >= 0:
		err = c.readN(length)
	default: // until the connection closes
		var rest []byte
		rest, err = io.ReadAll(c.br)
		c.body, closing = append(c.body, rest...), true
	}
	if err != nil {
		return answer{}, err
	}
	if closing {
		c.close()
	}
	return answer{status: status, body: c.body}, nil
}

func (c *rawClient) readN(n int) error {
	start := len(c.body)
	if cap(c.body)-start < n {
		grown := make([]byte, start, start+n)
		copy(grown, c.body)
		c.body = grown
	}
	c.body = c.body[:start+n]
	_, err := io.ReadFull(c.br, c.body[start:])
	return err
}

func (c *rawClient) readChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(line), 16, 32)
		if err != nil {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if n == 0 {
			for { // trailers, then the blank line
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if err := c.readN(int(n)); err != nil {
			return err
		}
		if _, err := c.br.Discard(2); err != nil { // CRLF
			return err
		}
	}
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// basicAuth is the client_secret_basic header value (RFC 6749 §2.3.1: both
// parts form-encoded first).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

var formHeader = header{"Content-Type", "application/x-www-form-urlencoded"}

// jsonString extracts the string value of a top-level key from a small
// JSON object whose strings need no unescaping (tokens, IDs): enough for
// the answers of the token endpoint without a full decode.
func jsonString(body []byte, key string) (string, bool) {
	pat := make([]byte, 0, len(key)+4)
	pat = append(pat, '"')
	pat = append(pat, key...)
	pat = append(pat, '"', ':')
	i := bytes.Index(body, pat)
	if i < 0 {
		return "", false
	}
	rest := bytes.TrimLeft(body[i+len(pat):], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || bytes.IndexByte(rest[1:end+1], '\\') >= 0 {
		return "", false
	}
	return string(rest[1 : end+1]), true
}

// rawError describes an unexpected answer in one line.
func rawError(what, path string, a answer) error {
	return statusError(what, reply{status: a.status, body: a.body, url: &url.URL{Path: path}})
}
