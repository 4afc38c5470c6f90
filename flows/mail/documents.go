package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// Document types. An institution may keep several named documents of one
// email class (say a password_reset for each of two brands), each written in
// the locales it wants. The document named "" is the class's default: what
// an email uses when it names none ("default" is another spelling of it). A
// document without a version in the recipient's language is drawn with the
// built-in templates of that language, as the default document is: never
// with another document's words, which might be another brand's.
//
// A name is 1 to 64 characters among a-z, 0-9, '-' and '_', starting with a
// letter or a digit.

// DefaultDocument is the name the default document may also be given (on the
// command line, say); the outbox and the store call it "".
const DefaultDocument = "default"

// ErrUnknownDocument: the institution has no document of that name for the
// email's class.
var ErrUnknownDocument = errors.New("mail: no such document")

// maxDocumentName bounds a document's name.
const maxDocumentName = 64

// documentKey returns the stored name of document ("" for the default one),
// or an error for a name that is not valid.
func documentKey(document string) (string, error) {
	if document == "" || document == DefaultDocument {
		return "", nil
	}
	if len(document) > maxDocumentName {
		return "", fmt.Errorf("document name %q: longer than %d characters", document, maxDocumentName)
	}
	for i, r := range document {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '_') && i > 0:
		default:
			return "", fmt.Errorf("document name %q: want lower-case letters, digits, - and _, starting with a letter or a digit",
				document)
		}
	}
	return document, nil
}

// overrideReader reads an institution's overrides.
type overrideReader interface {
	GetEmailTemplate(ctx context.Context, class, document, locale string) (*storage.EmailTemplate, error)
	ListEmailTemplates(ctx context.Context) ([]storage.EmailTemplate, error)
}

// documentNames returns the names of the institution's documents of class:
// "" (the default, which always exists) first, then the others in byte
// order.
func documentNames(ctx context.Context, s overrideReader, class templates.EmailClass) ([]string, error) {
	list, err := s.ListEmailTemplates(ctx)
	if err != nil {
		return nil, err
	}
	names := []string{""}
	for _, t := range list { // ordered by class, document, locale
		if t.Class == string(class) && t.Document != names[len(names)-1] {
			names = append(names, t.Document)
		}
	}
	slices.Sort(names[1:]) // byte order, whatever the database's collation
	return names, nil
}

// findOverride returns the override of class in locale of document (a name
// documentKey accepted), nil when the document has no version in that
// locale. ErrUnknownDocument when a named document does not exist at all.
func findOverride(ctx context.Context, s overrideReader, class templates.EmailClass, document, locale string) (*templates.EmailSource, error) {
	ov, err := s.GetEmailTemplate(ctx, string(class), document, locale)
	switch {
	case err == nil:
		return &templates.EmailSource{Subject: ov.Subject, Text: ov.TextBody, HTML: ov.HTMLBody}, nil
	case !errors.Is(err, storage.ErrNotFound):
		return nil, err
	case document == "":
		return nil, nil
	}
	names, err := documentNames(ctx, s, class)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if name == document {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("document %q: %w", document, ErrUnknownDocument)
}
