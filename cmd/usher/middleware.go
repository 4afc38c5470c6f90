package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/usher-idp/usher/templates"
)

// mwRequestIDHeader is the header that carries the request id, in both
// directions.
const mwRequestIDHeader = "X-Request-Id"

// mwRequestIDMaxLen is the longest incoming request id that is reused.
const mwRequestIDMaxLen = 64

// mwRequestIDKey is the context key of the request id.
type mwRequestIDKey struct{}

// mwChain applies middlewares so the first listed is the outermost. The
// usual order is
//
//	mwChain(mux, mwObserve(log, m), mwSecurityHeaders(https), mwRecover(log), mwLimitBody(n))
//
// so that a recovered panic is logged and measured as a 500 and still
// carries the security headers.
func mwChain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// mwSecurityHeaders sets the security headers on every response, before the
// handler writes. Strict-Transport-Security is only sent when the public URL
// is https.
func mwSecurityHeaders(httpsPublic bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", templates.ContentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if httpsPublic {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// mwLimitBody caps request bodies at n bytes with http.MaxBytesReader: a
// handler reading past the limit gets a *http.MaxBytesError, and the server
// closes the connection afterwards.
//
// Like http.MaxBytesHandler it hands a shallow copy of the request to next
// (the server's request is not modified), and afterwards copies the Pattern
// that an inner http.ServeMux set on the copy back to r, so that an outer
// mwObserve still sees the route.
func mwLimitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2 := new(http.Request)
			*r2 = *r
			if r.Body != nil {
				r2.Body = http.MaxBytesReader(mwInnermost(w), r.Body, n)
			}
			defer func() { // deferred: a panicking handler still has a route
				if r.Pattern == "" {
					r.Pattern = r2.Pattern
				}
			}()
			next.ServeHTTP(w, r2)
		})
	}
}

// mwInnermost unwraps w down to the server's own ResponseWriter, which
// http.MaxBytesReader needs to tell the server to close the connection.
func mwInnermost(w http.ResponseWriter) http.ResponseWriter {
	for range 32 { // bounded, in case of a cycle
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
	return w
}

// mwRecover turns a panic into a 500 with a plain "internal error" body,
// logging the panic value and stack at error level; the client never sees
// either. http.ErrAbortHandler is re-panicked untouched. When the response
// has already started, a 500 can no longer be sent: the panic is logged and
// the handler aborted with http.ErrAbortHandler, so the client sees a broken
// response rather than a truncated one that looks complete.
func mwRecover(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &mwResponseWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				mwLogPanic(r, log, v)
				if rw.wroteHeader {
					panic(http.ErrAbortHandler)
				}
				mwWriteInternalError(w)
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

// mwLogPanic logs a recovered panic with its stack.
func mwLogPanic(r *http.Request, log *slog.Logger, v any) {
	log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
		slog.String("panic", fmt.Sprint(v)),
		slog.String("stack", string(debug.Stack())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("request_id", mwRequestID(r.Context())),
	)
}

// mwWriteInternalError writes the 500 of a recovered panic, dropping the
// headers the handler set that describe a body it never finished.
func mwWriteInternalError(w http.ResponseWriter) {
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Content-Range",
		"Content-Disposition", "Location", "Etag", "Last-Modified"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store")
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// mwObserve logs one structured line per request and records it in m (which
// may be nil). It also gives the request an id (the incoming X-Request-Id
// when it is well-formed, else a random one), sent back as X-Request-Id and
// available to handlers through mwRequestID.
//
// The line never carries the query string, headers, body, cookies or form
// values: they can hold codes, tokens and passwords. The route is the
// pattern http.ServeMux matched ("unmatched" if none), read after the
// handler from the request handed to it.
func mwObserve(log *slog.Logger, m *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := mwIncomingRequestID(r)
			w.Header().Set(mwRequestIDHeader, id)
			r2 := r.WithContext(context.WithValue(r.Context(), mwRequestIDKey{}, id))
			rw := &mwResponseWriter{ResponseWriter: w}
			completed := false
			defer func() {
				mwRecordRequest(log, m, r2, rw, time.Since(start), !completed)
			}()
			next.ServeHTTP(rw, r2)
			completed = true
		})
	}
}

// mwRecordRequest logs and measures one finished request. aborted means the
// handler panicked; without a status written, it counts as a 500.
func mwRecordRequest(log *slog.Logger, m *Metrics, r *http.Request, rw *mwResponseWriter, d time.Duration, aborted bool) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	status := rw.statusCode()
	if aborted && !rw.wroteHeader {
		status = http.StatusInternalServerError
	}
	m.ObserveRequest(route, status, d)
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rw.bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("remote", mwClientIP(r.RemoteAddr)),
		slog.String("request_id", mwRequestID(r.Context())),
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	log.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
}

// mwRequestID returns the request id that mwObserve put in ctx, or "".
func mwRequestID(ctx context.Context) string {
	id, _ := ctx.Value(mwRequestIDKey{}).(string)
	return id
}

// mwIncomingRequestID returns the request's X-Request-Id when it is 1-64
// characters of [A-Za-z0-9-_], else a new random id.
func mwIncomingRequestID(r *http.Request) string {
	if id := r.Header.Get(mwRequestIDHeader); mwValidRequestID(id) {
		return id
	}
	return mwNewRequestID()
}

// mwValidRequestID reports whether id is 1-64 characters of [A-Za-z0-9-_].
func mwValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > mwRequestIDMaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// mwNewRequestID returns 16 random bytes in hex.
func mwNewRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b[:])
}

// mwClientIP returns the IP of a RemoteAddr ("ip:port"), or the address
// itself when it has no port.
func mwClientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// mwResponseWriter records the status and the number of body bytes of a
// response. It keeps http.Flusher and io.ReaderFrom, and unwraps for
// http.NewResponseController (deadlines, hijacking, full duplex).
type mwResponseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

// WriteHeader records the first final status and passes every call on.
// Informational 1xx statuses (other than 101) do not count as written.
func (w *mwResponseWriter) WriteHeader(code int) {
	if !w.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts the body bytes written; a first Write implies status 200.
func (w *mwResponseWriter) Write(b []byte) (int, error) {
	w.markWritten()
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile for static
// files) while counting the bytes.
func (w *mwResponseWriter) ReadFrom(src io.Reader) (int64, error) {
	w.markWritten()
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	w.bytes += n
	return n, err
}

// Flush sends any buffered data to the client, if the underlying writer can.
func (w *mwResponseWriter) Flush() {
	if http.NewResponseController(w.ResponseWriter).Flush() == nil {
		w.markWritten() // a flush sends the header
	}
}

// Unwrap returns the wrapped writer, for http.NewResponseController.
func (w *mwResponseWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// markWritten records the implicit 200 of a write before any WriteHeader.
func (w *mwResponseWriter) markWritten() {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
}

// statusCode returns the recorded status, 200 when nothing was written.
func (w *mwResponseWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// mwClientAddress sets r.RemoteAddr to the client's address when the
// request came through a trusted proxy: the rightmost X-Forwarded-For entry
// that is not itself a trusted proxy. Entries further left were written by
// the client and are not believed. Without trusted proxies it does nothing.
func mwClientAddress(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if len(trusted) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if client, ok := mwForwardedClient(r, trusted); ok {
				r2 := *r
				r2.RemoteAddr = netip.AddrPortFrom(client, 0).String()
				r = &r2
			}
			next.ServeHTTP(w, r)
		})
	}
}

// mwForwardedClient finds the client behind trusted proxies.
func mwForwardedClient(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !mwTrusted(peer.Addr(), trusted) {
		return netip.Addr{}, false
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false // a garbled header: keep the proxy's address
		}
		addr = addr.Unmap()
		if !mwTrusted(addr, trusted) {
			return addr, true
		}
	}
	return netip.Addr{}, false
}

func mwTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
