package mail_test

import (
	"context"
	"path/filepath"
	"testing"

	umail "github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/templates"
)

// BenchmarkQueue measures what queueing adds to the transaction of a flow:
// rendering a document and inserting its row (no SMTP).
func BenchmarkQueue(b *testing.B) {
	e := newBenchEnv(b)
	to := umail.Recipient{Email: "ann@example.org", Name: "Ann", Locale: "fr"}
	for b.Loop() {
		err := e.store.InTx(context.Background(), func(ctx context.Context) error {
			_, err := e.outbox.Queue(ctx, e.inst, to, resetEmail())
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// newBenchEnv is the part of env the benchmarks use, on SQLite.
func newBenchEnv(b *testing.B) *env {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	emails := newEmails(b)
	outbox, err := umail.NewOutbox(outboxConfig(b, store, emails, "no-reply@usher.example"))
	if err != nil {
		b.Fatal(err)
	}
	inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
	if err := store.CreateInstitution(ctx, inst); err != nil {
		b.Fatal(err)
	}
	return &env{store: store, emails: emails, outbox: outbox, inst: inst}
}

// BenchmarkRender measures rendering alone.
func BenchmarkRender(b *testing.B) {
	e := newBenchEnv(b)
	frame := templates.EmailFrame{Locale: "fr", Institution: "Opera", RecipientName: "Ann"}
	for b.Loop() {
		if _, err := e.emails.Render(frame, resetEmail(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
