package httpserver

import (
	"io"
	"net/http"
)

// responseWriter records the status and the number of body bytes of a
// response. It keeps http.Flusher and io.ReaderFrom, and unwraps for
// http.NewResponseController (deadlines, hijacking, full duplex).
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

// WriteHeader records the first final status and passes every call on.
// Informational 1xx statuses (other than 101) do not count as written.
func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts the body bytes written; a first Write implies status 200.
func (w *responseWriter) Write(b []byte) (int, error) {
	w.markWritten()
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile for static
// files) while counting the bytes.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
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
func (w *responseWriter) Flush() {
	if http.NewResponseController(w.ResponseWriter).Flush() == nil {
		w.markWritten() // a flush sends the header
	}
}

// Unwrap returns the wrapped writer, for http.NewResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// markWritten records the implicit 200 of a write before any WriteHeader.
func (w *responseWriter) markWritten() {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
}

// statusCode returns the recorded status, 200 when nothing was written.
func (w *responseWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
