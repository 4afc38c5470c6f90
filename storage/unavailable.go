package storage

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrUnavailable: the database (or another dependency) did not answer: the
// connection was refused or reset, the deadline passed, the server has too
// many clients or is shutting down. Nothing is wrong with the request; the
// same request may succeed a moment later. Backends return an
// *UnavailableError, which is ErrUnavailable.
var ErrUnavailable = errors.New("storage: unavailable")

// UnavailableError is an ErrUnavailable with what failed: Kind names it in a
// few words ("connection refused", "deadline exceeded", "too many clients",
// …), Err is the driver's error.
type UnavailableError struct {
	Kind string
	Err  error
}

func (e *UnavailableError) Error() string {
	return "storage: unavailable (" + e.Kind + "): " + e.Err.Error()
}

// Is makes an UnavailableError match ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

func (e *UnavailableError) Unwrap() error { return e.Err }

// UnavailableKind returns the kind of the UnavailableError in err's chain,
// or "" when there is none.
func UnavailableKind(err error) string {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue.Kind
	}
	return ""
}

// OutageNote records, for one request, whether a storage call failed
// because the backend was unavailable, even when a library between the
// caller and the store (fosite) turned the error into another one or
// dropped it. Backends call NoteUnavailable; the caller reads Err.
type OutageNote struct {
	err atomic.Pointer[UnavailableError]
}

type outageNoteKey struct{}

// WithOutageNote returns a context whose storage calls record an
// unavailable backend in the returned note.
func WithOutageNote(ctx context.Context) (context.Context, *OutageNote) {
	n := &OutageNote{}
	return context.WithValue(ctx, outageNoteKey{}, n), n
}

// NoteUnavailable records e in the note ctx carries, if any.
func NoteUnavailable(ctx context.Context, e *UnavailableError) {
	if n, ok := ctx.Value(outageNoteKey{}).(*OutageNote); ok {
		n.err.CompareAndSwap(nil, e)
	}
}

// Err returns the first unavailability recorded, or nil.
func (n *OutageNote) Err() error {
	if n == nil {
		return nil
	}
	if e := n.err.Load(); e != nil {
		return e
	}
	return nil
}

// NotedUnavailable returns the unavailability the note of ctx recorded, or
// nil (also when ctx carries no note).
func NotedUnavailable(ctx context.Context) error {
	n, _ := ctx.Value(outageNoteKey{}).(*OutageNote)
	return n.Err()
}
