package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/usher-idp/usher/migrations"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
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

// olderDatabase is db as a binary that knew the migrations up to last left
// it, with an institution "opera" (created through the store: the table is
// as it was), and the store to migrate it with.
func olderDatabase(t *testing.T, db sqltest.DB, last int) (*sql.DB, *sqlstore.Store, *storage.Institution) {
	t.Helper()
	raw := sqltest.Raw(t, db)
	applyUpTo(t, raw, db.Dialect, last)
	s := open(t, db)
	inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
	if err := s.CreateInstitution(t.Context(), inst); err != nil {
		t.Fatal(err)
	}
	return raw, s, inst
}

// Migration 0006 keeps the overrides as the default documents, keeps what
// unsent emails say (the worker sends them as they are), and blanks the
// bodies of the emails already sent.
func TestMigrate0006OnData(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		ctx := t.Context()
		raw, s, inst := olderDatabase(t, db, 5)
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
		// 0006 first, then every later migration.
		if after5 := migrationNames(t, db.Dialect)[5:]; err != nil || after5[0] != "0006_outbox_sealed_email_documents" ||
			!slices.Equal(applied, after5) {
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

// Migration 0008 gives the accounts already there no external reference,
// however many they are, and the reference is unique from then on.
func TestMigrate0008OnData(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		ctx := t.Context()
		raw, s, inst := olderDatabase(t, db, 7)
		for _, id := range []string{"a1", "a2"} {
			if _, err := raw.ExecContext(ctx, `INSERT INTO accounts (id, institution_id, kind, email, email_key,
				email_verified, given_name, family_name, locale, status, password_hash, must_change_password,
				two_factor_required, version, created_at, updated_at)
				VALUES ($1, $2, 'customer', $3, $3, FALSE, '', '', '', 'active', '', FALSE, FALSE, 1,
				CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, id, inst.ID, id+"@example.org"); err != nil {
				t.Fatal(err)
			}
		}
		applied, err := s.Migrate(ctx)
		if err != nil || !slices.Contains(applied, "0008_account_external_ref") {
			t.Fatalf("migrate: %v, %v", applied, err)
		}
		sc := s.In(inst.ID)
		a1, err := sc.GetAccount(ctx, "a1")
		if err != nil || a1.ExternalRef != "" {
			t.Fatalf("an account from before 0008: %+v, %v", a1, err)
		}
		a1.ExternalRef = "C-1"
		if err := sc.UpdateAccount(ctx, a1); err != nil {
			t.Fatal(err)
		}
		a2, _ := sc.GetAccount(ctx, "a2")
		a2.ExternalRef = "C-1"
		if err := sc.UpdateAccount(ctx, a2); !errors.Is(err, storage.ErrExternalRefTaken) {
			t.Errorf("the reference of a1 given to a2: %v, want ErrExternalRefTaken", err)
		}
	})
}

// Migration 0009 gives the clients already there opaque access tokens and
// no audiences: nothing changes for them.
func TestMigrate0009OnData(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		ctx := t.Context()
		raw, s, inst := olderDatabase(t, db, 8)
		if _, err := raw.ExecContext(ctx, `INSERT INTO clients (institution_id, id, name, secret_hash, public,
			account_kind, redirect_uris, post_logout_redirect_uris, grant_types, scopes, first_party,
			require_two_factor, require_pkce, introspection, point_of_sale, home_url, initiate_login_uri,
			id_token_alg, created_at, updated_at)
			VALUES ($1, 'shop', 'Shop', 'sha256$x', FALSE, 'customer', '[]', '[]', '["client_credentials"]', '[]',
			FALSE, FALSE, TRUE, FALSE, FALSE, '', '', 'RS256', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, inst.ID); err != nil {
			t.Fatal(err)
		}
		applied, err := s.Migrate(ctx)
		if err != nil || !slices.Contains(applied, "0009_client_access_token_format") {
			t.Fatalf("migrate: %v, %v", applied, err)
		}
		c, err := s.In(inst.ID).GetClient(ctx, "shop")
		if err != nil || c.AccessTokenFormat != storage.AccessTokenOpaque || len(c.Audiences) != 0 {
			t.Fatalf("a client from before 0009: %+v, %v", c, err)
		}
	})
}
