package httpserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover turns a panic into a 500 with a plain "internal error" body,
// logging the panic value and stack at error level; the client never sees
// either. http.ErrAbortHandler is re-panicked untouched. When the response
// has already started, a 500 can no longer be sent: the panic is logged and
// the handler aborted with http.ErrAbortHandler, so the client sees a broken
// response rather than a truncated one that looks complete.
func Recover(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &responseWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				logPanic(r, log, v)
				if rw.wroteHeader {
					panic(http.ErrAbortHandler)
				}
				writeInternalError(w)
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

// logPanic logs a recovered panic with its stack.
func logPanic(r *http.Request, log *slog.Logger, v any) {
	log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
		slog.String("panic", fmt.Sprint(v)),
		slog.String("stack", string(debug.Stack())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("request_id", RequestID(r.Context())),
	)
}

// writeInternalError writes the 500 of a recovered panic, dropping the
// headers the handler set that describe a body it never finished.
func writeInternalError(w http.ResponseWriter) {
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Content-Range",
		"Content-Disposition", "Location", "Etag", "Last-Modified"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store")
	http.Error(w, "internal error", http.StatusInternalServerError)
}
