package mail

import (
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// BenchmarkSealContent measures what sealing adds to queueing an email of a
// usual size (a subject, 1 kB of text, 5 kB of HTML), and what opening costs
// the worker.
func BenchmarkSealContent(b *testing.B) {
	s, err := seal.New([]byte(strings.Repeat("m", 32)), SealPurpose)
	if err != nil {
		b.Fatal(err)
	}
	e := &storage.OutboxEmail{InstitutionID: "inst", AccountID: "acct", Class: "password_reset", Locale: "fr",
		Recipient: "ann@example.org", Sender: "Opera <no-reply@example.org>"}
	c := content{"Réinitialisez votre mot de passe", strings.Repeat("t", 1000), strings.Repeat("h", 5000)}
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sealContent(s, e.InstitutionID, e, c)
		}
	})
	e.Content = sealContent(s, e.InstitutionID, e, c)
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := openContent(s, e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
