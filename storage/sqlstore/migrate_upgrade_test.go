package sqlstore_test

import (
	"database/sql"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/usher-idp/usher/migrations"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// applyUpTo applies the dialect's migrations up to version last, by hand,
// and records them as Migrate does: a database as an older binary left it.
func applyUpTo(t *testing.T, raw *sql.DB, dialect string, last int) {
	t.Helper()
	fsys, ts := migrations.SQLite(), "TIMESTAMP"
	if dialect == "postgres" {
		fsys, ts = migrations.PostgreSQL(), "TIMESTAMPTZ"
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` + ts + ` NOT NULL)`)
	for _, name := range migrationNames(t, dialect) {
		num, rest, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v > last {
			continue
		}
		body, err := fs.ReadFile(fsys, name+".sql")
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, CURRENT_TIMESTAMP)`, v, rest)
	}
}

// Migration 0006 keeps the overrides as the default documents, keeps what
// unsent emails say (the worker sends them as they are), and blanks the
// bodies of the emails already sent.
func TestMigrate0006OnData(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		ctx := t.Context()
		raw := sqltest.Raw(t, db)
		applyUpTo(t, raw, db.Dialect, 5)
		s := open(t, db)
		inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
		if err := s.CreateInstitution(ctx, inst); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := raw.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%.60s: %v", q, err)
			}
		}
		exec(`INSERT INTO email_templates (institution_id, class, locale, subject, text_body, html_body, created_at, updated_at)
			VALUES ($1, 'password_reset', 'fr', 'Sujet', 'texte', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, inst.ID)
		for _, status := range []storage.EmailStatus{storage.EmailQueued, storage.EmailSent, storage.EmailFailed} {
			exec(`INSERT INTO outbox_emails (id, institution_id, account_id, class, locale, recipient, sender, subject,
				text_body, html_body, status, attempts, next_attempt_at, last_error, created_at)
				VALUES ($1, $2, '', 'password_reset', 'fr', 'ann@example.org', 'Opera <no-reply@example.org>',
				'subject', 'token=secret', '<p>token=secret</p>', $3, 1, CURRENT_TIMESTAMP, '', CURRENT_TIMESTAMP)`,
				string(status), inst.ID, string(status))
		}
		applied, err := s.Migrate(ctx)
		if err != nil || len(applied) == 0 || applied[0] != "0006_outbox_sealed_email_documents" {
			t.Fatalf("migrate: %v, %v", applied, err)
		}
		tpl, err := s.In(inst.ID).GetEmailTemplate(ctx, "password_reset", "", "fr")
		if err != nil || tpl.Subject != "Sujet" || tpl.TextBody != "texte" || tpl.Document != "" {
			t.Fatalf("the override as the default document: %+v, %v", tpl, err)
		}
		for _, status := range []storage.EmailStatus{storage.EmailQueued, storage.EmailSent, storage.EmailFailed} {
			e, err := s.In(inst.ID).GetEmail(ctx, string(status))
			if err != nil {
				t.Fatal(err)
			}
			kept := status != storage.EmailSent
			got := fmt.Sprintf("%q %q %q %v", e.Subject, e.TextBody, e.HTMLBody, e.Content)
			want := `"" "" "" []`
			if kept {
				want = `"subject" "token=secret" "<p>token=secret</p>" []`
			}
			if got != want || e.Status != status {
				t.Errorf("%s email after 0006: %s %s, want %s", status, e.Status, got, want)
			}
		}
	})
}
