package flows

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/usher-idp/usher/storage"
)

// maxExternalRef bounds an external reference, in characters.
const maxExternalRef = 100

// checkExternalRef adds a problem when ref (trimmed) cannot be an external
// reference: too long, or with a control character. "" is none.
func checkExternalRef(v *invalid, ref string) {
	if utf8.RuneCountInString(ref) > maxExternalRef || strings.ContainsFunc(ref, unicode.IsControl) {
		v.add("external_ref", "account.external_ref_invalid", map[string]string{"max": "100"})
	}
}

// takenError is the refusal of a write of an account that found one of its
// keys taken: a taken email is refused input (a taken external reference
// listed with it), a taken external reference alone is a ConflictError.
// Any other error is returned as it is.
func takenError(err error) error {
	email, ref := errors.Is(err, storage.ErrDuplicate), errors.Is(err, storage.ErrExternalRefTaken)
	var v invalid
	if email {
		v.add("email", "account.email_taken", nil)
	}
	if ref {
		v.add("external_ref", "account.external_ref_taken", nil)
	}
	switch {
	case email:
		return v.err()
	case ref:
		return &ConflictError{Problems: v.problems}
	}
	return err
}

// SetExternalRef gives the account this external reference (the box
// office's contact number), trimmed; "" removes it. Another account of the
// kind with the same reference is a ConflictError. A change is recorded
// with its actor; the reference the account has already changes nothing.
func (x *Accounts) SetExternalRef(ctx context.Context, inst *storage.Institution, accountID, ref string, actor Actor) error {
	ref = strings.TrimSpace(ref)
	var v invalid
	checkExternalRef(&v, ref)
	if err := v.err(); err != nil {
		return err
	}
	err := x.changeAccount(ctx, inst, accountID, "set external reference",
		func(_ context.Context, _ AccountsStore, a *storage.Account) (*storage.AuditEvent, error) {
			if a.ExternalRef == ref {
				return nil, nil
			}
			was := a.ExternalRef
			a.ExternalRef = ref
			return &storage.AuditEvent{Actor: string(actor), Action: "external_ref_changed",
				Details: storage.Details{"external_ref": ref, "previous": was}}, nil
		})
	return takenError(err)
}
