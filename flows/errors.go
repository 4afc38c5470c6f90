package flows

import (
	"errors"
	"strings"
)

// Problem is one reason input was refused: the field it concerns and a
// message id of the catalogue in templates, with the values the message needs.
type Problem struct {
	Field string
	ID    string
	Args  map[string]string
}

// InvalidError refuses input, listing every problem at once. Nothing was
// changed.
type InvalidError struct {
	Problems []Problem
	detail   string // the problems in English for the command line, when the caller wrote them
}

func (e *InvalidError) Error() string {
	if e.detail != "" {
		return e.detail
	}
	return "invalid input: " + problemsText(e.Problems)
}

// ConflictError refuses input that is valid but conflicts with what is
// stored: an external reference another account holds, an invitation for
// an account that has a password. Its problems name the fields as an
// InvalidError's do. Nothing was changed.
type ConflictError struct {
	Problems []Problem
}

func (e *ConflictError) Error() string { return "conflict: " + problemsText(e.Problems) }

// problemsText lists problems as "field: id; …".
func problemsText(problems []Problem) string {
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = p.Field + ": " + p.ID
	}
	return strings.Join(parts, "; ")
}

// invalid collects problems; err returns nil when there are none.
type invalid struct{ problems []Problem }

func (v *invalid) add(field, id string, args map[string]string) {
	v.problems = append(v.problems, Problem{Field: field, ID: id, Args: args})
}

func (v *invalid) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &InvalidError{Problems: v.problems}
}

// StateError refuses a change that the account's state does not allow
// (disabling a disabled account, say). ID is the message id that says why.
// Nothing was changed.
type StateError struct {
	ID string
}

func (e *StateError) Error() string { return "refused: " + e.ID }

// Refusals of the institution's settings. Nothing was changed.
var (
	// ErrManualPasswordOff: the institution does not let operators set
	// passwords (Settings.ManualPassword).
	ErrManualPasswordOff = errors.New("the institution does not allow operators to set passwords")
	// ErrNoPointOfSale: an emailed link needs a point of sale to return to,
	// and the institution has none.
	ErrNoPointOfSale = errors.New("the institution has no point of sale")
)

// Problems returns the problems of an InvalidError or a ConflictError in
// err's chain, or nil.
func Problems(err error) []Problem {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Problems
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		return ce.Problems
	}
	return nil
}
