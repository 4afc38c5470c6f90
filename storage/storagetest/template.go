package storagetest

import (
	"context"
	"errors"
	"time"

	"github.com/usher-idp/usher/storage"
)

func templateTests() []test {
	return []test{
		{"RoundTripEveryField", testTemplateRoundTrip},
		{"PutReplacesAndKeepsCreatedAt", testTemplateReplace},
		{"NotFound", testTemplateNotFound},
		{"ListByClassThenLocale", testTemplateList},
		{"Delete", testTemplateDelete},
		{"Isolation", testTemplateIsolation},
		{"RolledBackPutLeavesNothing", testTemplateRollback},
		{"DocumentsOfOneClass", testTemplateDocuments},
	}
}

// emailTemplate is an override with every part set.
func emailTemplate(class, locale, subject string) *storage.EmailTemplate {
	return &storage.EmailTemplate{
		Class:    class,
		Locale:   locale,
		Subject:  subject,
		TextBody: "Bonjour {{.RecipientName}},\n\n{{.Link}}\n",
		HTMLBody: "<p>Bonjour {{.RecipientName}}, <a href=\"{{.Link}}\">réinitialiser</a></p>",
	}
}

func (e *env) getTemplate(s storage.Scoped, class, locale string) storage.EmailTemplate {
	e.t.Helper()
	t, err := s.GetEmailTemplate(e.ctx, class, "", locale)
	must(e.t, "get email template", err)
	return *t
}

func testTemplateRoundTrip(e *env) {
	s, inst := e.scope("opera")
	t := emailTemplate("password_reset", "fr", "Réinitialisez votre mot de passe – {{.Institution}}")
	must(e.t, "put", s.PutEmailTemplate(e.ctx, t))
	want := *emailTemplate("password_reset", "fr", "Réinitialisez votre mot de passe – {{.Institution}}")
	want.InstitutionID, want.CreatedAt, want.UpdatedAt = inst.ID, e.now(), e.now()
	mustEqual(e.t, "the caller's record after put", *t, want)
	got := e.getTemplate(s, "password_reset", "fr")
	mustEqual(e.t, "get", got, want)
	mustNormalised(e.t, "get", got)
}

func testTemplateReplace(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "put", s.PutEmailTemplate(e.ctx, emailTemplate("password_reset", "fr", "first")))
	created := e.now()
	e.clock.Advance(time.Hour)
	second := &storage.EmailTemplate{Class: "password_reset", Locale: "fr", Subject: "second"}
	must(e.t, "put again", s.PutEmailTemplate(e.ctx, second))
	mustTime(e.t, "created at, returned by the second put", second.CreatedAt, created)
	got := e.getTemplate(s, "password_reset", "fr")
	if got.Subject != "second" || got.TextBody != "" || got.HTMLBody != "" {
		e.t.Fatalf("put again: want every part replaced (subject second, empty bodies), got %+v", got)
	}
	mustTime(e.t, "created at", got.CreatedAt, created)
	mustTime(e.t, "updated at", got.UpdatedAt, e.now())
}

func testTemplateNotFound(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "put", s.PutEmailTemplate(e.ctx, emailTemplate("password_reset", "fr", "x")))
	_, err := s.GetEmailTemplate(e.ctx, "password_reset", "", "de")
	checkErr(e.t, "get in another locale", err, storage.ErrNotFound)
	_, err = s.GetEmailTemplate(e.ctx, "account_activation", "", "fr")
	checkErr(e.t, "get of another class", err, storage.ErrNotFound)
	checkErr(e.t, "delete a missing override", s.DeleteEmailTemplate(e.ctx, "password_reset", "", "it"), storage.ErrNotFound)
	other, _ := e.scope("ballet")
	list, err := other.ListEmailTemplates(e.ctx)
	mustCount(e.t, "list of an institution with no override", len(list), err, 0)
}

func testTemplateList(e *env) {
	s, _ := e.scope("opera")
	for _, k := range [][2]string{{"password_reset", "fr"}, {"account_activation", "it"}, {"password_reset", "de"}, {"account_activation", "de"}} {
		must(e.t, "put "+k[0]+" "+k[1], s.PutEmailTemplate(e.ctx, emailTemplate(k[0], k[1], k[0])))
	}
	list, err := s.ListEmailTemplates(e.ctx)
	must(e.t, "list", err)
	var got [][2]string
	for _, t := range list {
		got = append(got, [2]string{t.Class, t.Locale})
	}
	mustEqual(e.t, "listed overrides", got, [][2]string{
		{"account_activation", "de"}, {"account_activation", "it"}, {"password_reset", "de"}, {"password_reset", "fr"}})
}

func testTemplateDelete(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "put fr", s.PutEmailTemplate(e.ctx, emailTemplate("password_reset", "fr", "fr")))
	must(e.t, "put de", s.PutEmailTemplate(e.ctx, emailTemplate("password_reset", "de", "de")))
	must(e.t, "delete fr", s.DeleteEmailTemplate(e.ctx, "password_reset", "", "fr"))
	_, err := s.GetEmailTemplate(e.ctx, "password_reset", "", "fr")
	checkErr(e.t, "get after delete", err, storage.ErrNotFound)
	if got := e.getTemplate(s, "password_reset", "de"); got.Subject != "de" {
		e.t.Fatalf("delete of fr: want the de override kept, got %+v", got)
	}
	checkErr(e.t, "delete twice", s.DeleteEmailTemplate(e.ctx, "password_reset", "", "fr"), storage.ErrNotFound)
}

func testTemplateIsolation(e *env) {
	a, _ := e.scope("opera")
	b, _ := e.scope("ballet")
	must(e.t, "put in a", a.PutEmailTemplate(e.ctx, emailTemplate("password_reset", "fr", "opera")))
	_, err := b.GetEmailTemplate(e.ctx, "password_reset", "", "fr")
	checkErr(e.t, "b reads a's override", err, storage.ErrNotFound)
	checkErr(e.t, "b deletes a's override", b.DeleteEmailTemplate(e.ctx, "password_reset", "", "fr"), storage.ErrNotFound)
	must(e.t, "put the same key in b", b.PutEmailTemplate(e.ctx, emailTemplate("password_reset", "fr", "ballet")))
	if got := e.getTemplate(a, "password_reset", "fr"); got.Subject != "opera" {
		e.t.Fatalf("b's put of the same class and locale changed a's override: %+v", got)
	}
	if got := e.getTemplate(b, "password_reset", "fr"); got.Subject != "ballet" {
		e.t.Fatalf("b's override: want subject ballet, got %+v", got)
	}
}

func testTemplateRollback(e *env) {
	s, _ := e.scope("opera")
	boom := errors.New("boom")
	err := e.store.InTx(e.ctx, func(ctx context.Context) error {
		must(e.t, "put in the transaction", s.PutEmailTemplate(ctx, emailTemplate("password_reset", "fr", "x")))
		return boom
	})
	mustErr(e.t, "transaction", err, boom)
	list, err := s.ListEmailTemplates(e.ctx)
	mustCount(e.t, "overrides after the rollback", len(list), err, 0)
}

// testTemplateDocuments: several named documents of one class, each in its
// locales, apart from the default one (named "").
func testTemplateDocuments(e *env) {
	s, inst := e.scope("opera")
	put := func(document, locale, subject string) {
		t := emailTemplate("password_reset", locale, subject)
		t.Document = document
		must(e.t, "put "+document+" "+locale, s.PutEmailTemplate(e.ctx, t))
	}
	put("", "fr", "default fr")
	put("brand-b", "fr", "brand-b fr")
	put("brand-b", "de", "brand-b de")
	put("after-sales", "fr", "after-sales fr")
	got, err := s.GetEmailTemplate(e.ctx, "password_reset", "brand-b", "fr")
	must(e.t, "get brand-b fr", err)
	want := *emailTemplate("password_reset", "fr", "brand-b fr")
	want.Document, want.InstitutionID, want.CreatedAt, want.UpdatedAt = "brand-b", inst.ID, e.now(), e.now()
	mustEqual(e.t, "get brand-b fr", *got, want)
	if d := e.getTemplate(s, "password_reset", "fr"); d.Subject != "default fr" || d.Document != "" {
		e.t.Fatalf("the default document: got %+v", d)
	}
	_, err = s.GetEmailTemplate(e.ctx, "password_reset", "after-sales", "de")
	checkErr(e.t, "get a document in a locale it lacks", err, storage.ErrNotFound)
	_, err = s.GetEmailTemplate(e.ctx, "password_reset", "nope", "fr")
	checkErr(e.t, "get an unknown document", err, storage.ErrNotFound)
	list, err := s.ListEmailTemplates(e.ctx)
	must(e.t, "list", err)
	var keys []string
	for _, t := range list {
		keys = append(keys, t.Document+"/"+t.Locale)
	}
	mustEqual(e.t, "listed by class, document, locale", keys, []string{"/fr", "after-sales/fr", "brand-b/de", "brand-b/fr"})
	must(e.t, "delete brand-b fr", s.DeleteEmailTemplate(e.ctx, "password_reset", "brand-b", "fr"))
	if d := e.getTemplate(s, "password_reset", "fr"); d.Subject != "default fr" {
		e.t.Fatalf("deleting brand-b fr changed the default document: %+v", d)
	}
	_, err = s.GetEmailTemplate(e.ctx, "password_reset", "brand-b", "de")
	must(e.t, "get brand-b de after deleting brand-b fr", err)
	checkErr(e.t, "delete brand-b fr twice", s.DeleteEmailTemplate(e.ctx, "password_reset", "brand-b", "fr"), storage.ErrNotFound)
}
