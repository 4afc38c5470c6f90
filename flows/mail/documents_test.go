package mail_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	umail "github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/templates"
)

// queueDocument queues a reset email naming document, in its own
// transaction.
func (e *env) queueDocument(to umail.Recipient, document string) (*storage.OutboxEmail, error) {
	var m *storage.OutboxEmail
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		var err error
		m, err = e.outbox.QueueDocument(ctx, e.inst, to, resetEmail(), document)
		return err
	})
	return m, err
}

// An institution keeps several documents of a class; an email names one,
// or gets the default one; an unknown name queues nothing.
func TestDocuments(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newEnv(t, db)
		tpl := templatesOf(e.store, e.emails)
		set := func(document, locale, subject string) {
			t.Helper()
			err := tpl.Set(e.ctx, e.inst, templates.ClassPasswordReset, document, locale, templates.EmailSource{Subject: subject})
			if err != nil {
				t.Fatal(err)
			}
		}
		fr := umail.Recipient{Email: "luc@example.org", Locale: "fr"}
		de := umail.Recipient{Email: "jan@example.org", Locale: "de"}

		// No document at all: the default one is the built-in email.
		docs, err := e.outbox.Documents(e.ctx, e.inst, templates.ClassPasswordReset)
		if err != nil || !slices.Equal(docs, []string{""}) {
			t.Fatalf("documents of a new institution: %q, %v", docs, err)
		}
		if m, err := e.queueDocument(fr, ""); err != nil || m.Subject != "Réinitialisez votre mot de passe pour Grand Théâtre" {
			t.Fatalf("the built-in default: %+v, %v", m, err)
		}

		set("", "fr", "Opéra : {{.Institution}}")
		set("ballet", "fr", "Ballet : {{.Institution}}")
		set("ballet", "en", "Ballet: {{.Institution}}")
		set("after-sales", "fr", "SAV : {{.Institution}}")
		if err := tpl.Set(e.ctx, e.inst, templates.ClassTwoFactorEnabled, "security", "fr",
			templates.EmailSource{Subject: "x"}); err != nil {
			t.Fatal(err)
		}
		docs, err = e.outbox.Documents(e.ctx, e.inst, templates.ClassPasswordReset)
		if err != nil || !slices.Equal(docs, []string{"", "after-sales", "ballet"}) {
			t.Fatalf("documents: want the default first, then by name, got %q, %v", docs, err)
		}
		if docs, _ := e.outbox.Documents(e.ctx, e.inst, templates.ClassAccountActivation); !slices.Equal(docs, []string{""}) {
			t.Fatalf("documents of a class without any: %q", docs)
		}
		if _, err := e.outbox.Documents(e.ctx, e.inst, "nope"); err == nil {
			t.Fatal("documents of an unknown class")
		}

		for _, c := range []struct {
			to       umail.Recipient
			document string
			want     string
		}{
			{fr, "", "Opéra : Grand Théâtre"},
			{fr, umail.DefaultDocument, "Opéra : Grand Théâtre"},
			{fr, "ballet", "Ballet : Grand Théâtre"},
			{fr, "after-sales", "SAV : Grand Théâtre"},
			// A document without the recipient's language: the built-in email
			// of that language, never another document's words.
			{de, "ballet", "Setzen Sie Ihr Passwort für Grand Théâtre zurück"},
			{de, "", "Setzen Sie Ihr Passwort für Grand Théâtre zurück"},
		} {
			m, err := e.queueDocument(c.to, c.document)
			if err != nil || m.Subject != c.want {
				t.Errorf("%s, document %q: got %+v, %v; want the subject %q", c.to.Locale, c.document, m, err, c.want)
			}
		}

		before, err := e.store.In(e.inst.ID).ListEmails(e.ctx, storage.OutboxFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, unknown := range []string{"nope", "security", "Ballet", "../ballet", strings.Repeat("a", 65)} {
			m, err := e.queueDocument(fr, unknown)
			if !errors.Is(err, umail.ErrUnknownDocument) || m != nil {
				t.Errorf("document %q: want ErrUnknownDocument, got %+v, %v", unknown, m, err)
			}
		}
		after, err := e.store.In(e.inst.ID).ListEmails(e.ctx, storage.OutboxFilter{Limit: 1000})
		if err != nil || len(after) != len(before) {
			t.Fatalf("unknown documents queued something: %d emails, then %d (%v)", len(before), len(after), err)
		}

		// The effective templates of a document, and its removal.
		src, overridden, err := tpl.Effective(e.ctx, e.inst, templates.ClassPasswordReset, "ballet", "en")
		if err != nil || !overridden || src.Subject != "Ballet: {{.Institution}}" || src.Text == "" {
			t.Fatalf("effective ballet en: %+v, %v, %v", src, overridden, err)
		}
		if _, overridden, err := tpl.Effective(e.ctx, e.inst, templates.ClassPasswordReset, "ballet", "it"); err != nil || overridden {
			t.Fatalf("effective ballet it: want the built-in templates, got %v, %v", overridden, err)
		}
		if _, _, err := tpl.Effective(e.ctx, e.inst, templates.ClassPasswordReset, "nope", "fr"); !errors.Is(err, umail.ErrUnknownDocument) {
			t.Fatalf("effective of an unknown document: %v", err)
		}
		for _, locale := range []string{"fr", "en"} {
			if err := tpl.Delete(e.ctx, e.inst, templates.ClassPasswordReset, "ballet", locale); err != nil {
				t.Fatal(err)
			}
		}
		if err := tpl.Delete(e.ctx, e.inst, templates.ClassPasswordReset, "ballet", "fr"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if _, err := e.queueDocument(fr, "ballet"); !errors.Is(err, umail.ErrUnknownDocument) {
			t.Fatalf("a document without any locale left: %v", err)
		}
		if docs, _ := e.outbox.Documents(e.ctx, e.inst, templates.ClassPasswordReset); !slices.Equal(docs, []string{"", "after-sales"}) {
			t.Fatalf("documents after the removal: %q", docs)
		}
	})
}

func TestDocumentNames(t *testing.T) {
	e := sqlite(t)
	tpl := templatesOf(e.store, e.emails)
	src := templates.EmailSource{Subject: "x"}
	for _, good := range []string{"a", "brand-b", "after_sales", "2024", strings.Repeat("z", 64)} {
		if err := tpl.Set(e.ctx, e.inst, templates.ClassPasswordReset, good, "en", src); err != nil {
			t.Errorf("document %q refused: %v", good, err)
		}
	}
	for _, bad := range []string{"-a", "_a", "Brand", "brand b", "brand/b", "é", strings.Repeat("z", 65)} {
		if err := tpl.Set(e.ctx, e.inst, templates.ClassPasswordReset, bad, "en", src); err == nil {
			t.Errorf("document %q accepted", bad)
		}
	}
	// "default" is the default document.
	if err := tpl.Set(e.ctx, e.inst, templates.ClassPasswordReset, umail.DefaultDocument, "en", src); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.In(e.inst.ID).GetEmailTemplate(e.ctx, "password_reset", "", "en"); err != nil {
		t.Fatalf("the default document: %v", err)
	}
}

// An override that would run without bound is refused when it is set, with
// the reason; stored anyway (written before the bounds, or to the database
// directly), it does not render, and the built-in email is queued instead,
// at once.
func TestRunawayTemplateFallsBack(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newEnv(t, db)
		tpl := templatesOf(e.store, e.emails)
		runaway := map[string]templates.EmailSource{
			"range is not allowed": {Text: "{{range 100000000000}}{{end}}"},
			"calls itself":         {HTML: `{{define "again"}}{{template "again" .}}{{end}}{{template "again" .}}`},
			"too long":             {Text: strings.Repeat(`{{printf "%0999999d" 1}}`, 2)},
		}
		for reason, src := range runaway {
			err := tpl.Set(e.ctx, e.inst, templates.ClassPasswordReset, "", "en", src)
			var te *templates.TemplateError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), reason) {
				t.Errorf("set: want a refusal mentioning %q, got %v", reason, err)
			}
			err = e.store.In(e.inst.ID).PutEmailTemplate(e.ctx, &storage.EmailTemplate{Class: "password_reset", Locale: "en",
				Subject: "Runaway", TextBody: src.Text, HTMLBody: src.HTML})
			if err != nil {
				t.Fatal(err)
			}
			if m := e.queue(anyone(1)); m.Subject != "Reset your password for Grand Théâtre" {
				t.Errorf("%s: queued %q, want the built-in email", reason, m.Subject)
			}
		}
	})
}
