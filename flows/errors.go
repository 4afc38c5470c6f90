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
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.ID
	}
	return "invalid input: " + strings.Join(parts, "; ")
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

// Problems returns the problems of an InvalidError in err's chain, or nil.
func Problems(err error) []Problem {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Problems
	}
	return nil
}
