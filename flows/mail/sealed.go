package mail

import (
	"encoding/binary"
	"errors"
	"strings"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// SealPurpose is the seal.Sealer purpose of the outbox: the Sealer of
// OutboxConfig and WorkerConfig must be seal.New(master, SealPurpose), so
// that what an email says is encrypted with a key of its own, derived from
// the master secret.
const SealPurpose = "outbox"

// content is what an email says: its subject and bodies, sealed at rest
// because they may carry a live link.
type content struct {
	subject, text, html string
}

// errSealed: an email's content does not open.
var errSealed = errors.New("the email's sealed content does not open with this master secret")

// associatedData binds sealed content to the delivery of its row: the
// institution, account, class, locale, recipient and sender. Content moved
// to another row (another recipient) does not open.
func associatedData(institutionID string, e *storage.OutboxEmail) []byte {
	return []byte(strings.Join([]string{"outbox", institutionID, e.AccountID, e.Class, e.Locale, e.Recipient, e.Sender},
		"\x00"))
}

// sealContent seals c for the row e of the institution.
func sealContent(s *seal.Sealer, institutionID string, e *storage.OutboxEmail, c content) []byte {
	plain := make([]byte, 0, len(c.subject)+len(c.text)+len(c.html)+3*binary.MaxVarintLen64)
	for _, part := range []string{c.subject, c.text, c.html} {
		plain = binary.AppendUvarint(plain, uint64(len(part)))
		plain = append(plain, part...)
	}
	return s.Seal(plain, associatedData(institutionID, e))
}

// openContent opens what e says: its sealed content, or, for an email queued
// before sealing, its clear parts.
func openContent(s *seal.Sealer, e *storage.OutboxEmail) (content, error) {
	if len(e.Content) == 0 {
		return content{e.Subject, e.TextBody, e.HTMLBody}, nil
	}
	plain, err := s.Open(e.Content, associatedData(e.InstitutionID, e))
	if err != nil {
		return content{}, errSealed
	}
	var parts [3]string
	for i := range parts {
		n, k := binary.Uvarint(plain)
		if k <= 0 || n > uint64(len(plain)-k) {
			return content{}, errSealed
		}
		parts[i], plain = string(plain[k:k+int(n)]), plain[k+int(n):]
	}
	if len(plain) != 0 {
		return content{}, errSealed
	}
	return content{parts[0], parts[1], parts[2]}, nil
}
