package password

import "errors"

// ErrBusy is returned when every hashing slot of a [Hasher] stayed taken for
// the configured wait. The caller should ask the user to try again.
var ErrBusy = errors.New("password: too many password hashes in progress")

// ErrMalformedHash is wrapped by the errors returned for an encoded hash that
// cannot be parsed, uses an unsupported scheme or version, or carries
// parameters outside the accepted bounds.
var ErrMalformedHash = errors.New("password: malformed hash")

// ErrTooLong is returned for a password longer than [MaxBytes].
var ErrTooLong = errors.New("password: password too long")
