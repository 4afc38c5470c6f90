package templates

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func newTestEmails(t *testing.T) (*Emails, *Catalog) {
	t.Helper()
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEmails(c)
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

// goldenEmail writes a rendered email as its golden file holds it.
func goldenEmail(r RenderedEmail) []byte {
	var b bytes.Buffer
	b.WriteString("Locale: " + r.Locale + "\nSubject: " + r.Subject + "\n\n----- text/plain -----\n")
	b.WriteString(r.Text)
	b.WriteString("----- text/html -----\n")
	b.WriteString(r.HTML)
	return b.Bytes()
}

// Every class in every locale matches its golden file byte for byte; run
// `go test ./templates -update` to accept a change.
func TestEmailsGolden(t *testing.T) {
	e, c := newTestEmails(t)
	for _, class := range EmailClasses() {
		for _, locale := range c.Locales() {
			r, err := e.Render(sampleFrame(locale), SampleEmail(class, "https://id.example.org/institutions/city-opera"), nil)
			if err != nil {
				t.Fatalf("%s.%s: %v", class, locale, err)
			}
			checkGolden(t, filepath.Join("testdata", "golden", "emails", string(class)+"."+locale+".txt"), goldenEmail(r))
		}
	}
}

// checkGolden compares got with the golden file at path, or rewrites the
// file with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (run go test ./templates -update and review the diff):\n%s", path, got)
	}
}

// Each locale's email is in its own language: no English message is left in
// a translation, and the HTML part declares its language.
func TestEmailsAreTranslated(t *testing.T) {
	e, c := newTestEmails(t)
	for _, class := range EmailClasses() {
		doc := SampleEmail(class, "https://id.example.org/institutions/city-opera")
		en, err := e.Render(sampleFrame("en"), doc, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, locale := range c.Locales() {
			if locale == "en" {
				continue
			}
			r, err := e.Render(sampleFrame(locale), doc, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Subject == en.Subject {
				t.Errorf("%s.%s: the subject is the English one: %q", class, locale, r.Subject)
			}
			enLines := map[string]bool{}
			for _, l := range strings.Split(en.Text, "\n") {
				enLines[l] = true
			}
			for _, l := range strings.Split(r.Text, "\n") {
				if enLines[l] && strings.Contains(l, " ") && !strings.HasPrefix(l, "https://") {
					t.Errorf("%s.%s: line left in English: %q", class, locale, l)
				}
			}
			if !strings.Contains(r.HTML, `<html lang="`+locale+`">`) {
				t.Errorf("%s.%s: the HTML part does not declare lang=%q", class, locale, locale)
			}
		}
	}
}

// The recipient's name and every field are escaped in the HTML part, and
// cannot add lines to the subject.
func TestEmailsEscape(t *testing.T) {
	e, _ := newTestEmails(t)
	f := sampleFrame("en")
	f.RecipientName = `<script>alert("x")</script>`
	f.Institution = "Opera\r\nBcc: evil@example.org"
	r, err := e.Render(f, PasswordResetEmail{Link: `javascript:alert(1)`, ValidFor: time.Hour, PointOfSale: "<b>Shop</b>"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") || strings.Contains(r.HTML, "<b>Shop</b>") {
		t.Errorf("HTML part not escaped:\n%s", r.HTML)
	}
	if strings.Contains(r.HTML, `href="javascript:`) {
		t.Errorf("a javascript: link reached the HTML part:\n%s", r.HTML)
	}
	if strings.ContainsAny(r.Subject, "\r\n") || r.Subject != "Reset your password for Opera Bcc: evil@example.org" {
		t.Errorf("subject: want one line, got %q", r.Subject)
	}
}

func TestEmailsLocaleFallback(t *testing.T) {
	e, _ := newTestEmails(t)
	cases := []struct {
		tags []string
		want string
	}{
		{[]string{"fr-CH", "de"}, "fr"},
		{[]string{"", "de"}, "de"},
		{[]string{"es", "pt"}, "en"},
		{nil, "en"},
	}
	for _, c := range cases {
		if got := e.Locale(c.tags...); got != c.want {
			t.Errorf("Locale(%q) = %q, want %q", c.tags, got, c.want)
		}
	}
	r, err := e.Render(EmailFrame{Locale: "es", Institution: "Opera"}, TwoFactorEnabledEmail{At: time.Now()}, nil)
	if err != nil || r.Locale != "en" || !strings.HasPrefix(r.Text, "Hello,\n") {
		t.Errorf("render in an unsupported locale: want English with an anonymous greeting, got %q, %v", r.Text, err)
	}
}

func TestEmailsDurationAndDate(t *testing.T) {
	e, _ := newTestEmails(t)
	cases := []struct {
		locale string
		d      time.Duration
		want   string
	}{
		{"en", 48 * time.Hour, "2 days"},
		{"en", 24 * time.Hour, "1 day"},
		{"en", 36 * time.Hour, "36 hours"},
		{"en", time.Hour, "1 hour"},
		{"en", 90 * time.Minute, "90 minutes"},
		{"en", time.Minute, "1 minute"},
		{"fr", 7 * 24 * time.Hour, "7 jours"},
		{"de", 2 * time.Hour, "2 Stunden"},
		{"it", 30 * time.Minute, "30 minuti"},
	}
	for _, c := range cases {
		if got := e.duration(c.locale, c.d); got != c.want {
			t.Errorf("duration(%s, %s) = %q, want %q", c.locale, c.d, got, c.want)
		}
	}
	at := time.Date(2031, 3, 4, 5, 6, 0, 0, time.FixedZone("CET", 3600))
	for locale, want := range map[string]string{"en": "4 Mar 2031, 04:06 UTC", "fr": "04/03/2031 à 04:06 UTC",
		"de": "04.03.2031 um 04:06 UTC", "it": "04/03/2031 alle 04:06 UTC", "xx": "2031-03-04 04:06 UTC"} {
		if got := formatDateTime(locale, at); got != want {
			t.Errorf("datetime(%s) = %q, want %q", locale, got, want)
		}
	}
}

func TestEmailOverrideRenders(t *testing.T) {
	e, _ := newTestEmails(t)
	src := EmailSource{
		Subject: "Nouveau mot de passe – {{.Institution}}",
		HTML:    `<p>{{template "greeting" .}}</p><p><a href="{{.Link}}">Cliquez ici</a> ({{duration .ValidFor}})</p>`,
	}
	if err := e.Check(ClassPasswordReset, "fr", src); err != nil {
		t.Fatalf("check: %v", err)
	}
	doc := PasswordResetEmail{Link: "https://id.example.org/r?token=a&b", ValidFor: 48 * time.Hour}
	r, err := e.Render(sampleFrame("fr"), doc, &src)
	if err != nil {
		t.Fatal(err)
	}
	builtin, _ := e.Render(sampleFrame("fr"), doc, nil)
	if r.Subject != "Nouveau mot de passe – City Opera" {
		t.Errorf("subject: got %q", r.Subject)
	}
	if r.Text != builtin.Text {
		t.Errorf("text: an override without text must keep the built-in one, got:\n%s", r.Text)
	}
	for _, want := range []string{`<a href="https://id.example.org/r?token=a&amp;b">Cliquez ici</a> (2 jours)`,
		"Bonjour Ann Lee,", "<title>Nouveau mot de passe – City Opera</title>", "Cet e-mail a été envoyé automatiquement"} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("html: want %q in:\n%s", want, r.HTML)
		}
	}
}

// Render parses an override once, and a changed override is drawn as
// changed.
func TestEmailOverrideChanges(t *testing.T) {
	e, _ := newTestEmails(t)
	doc := SampleEmail(ClassTwoFactorEnabled, "https://id.example.org/institutions/city-opera")
	for _, subject := range []string{"first", "second", "first"} {
		for range 2 {
			r, err := e.Render(sampleFrame("en"), doc, &EmailSource{Subject: subject + " {{.Institution}}"})
			if err != nil || r.Subject != subject+" City Opera" {
				t.Fatalf("override %q: got %q, %v", subject, r.Subject, err)
			}
		}
	}
	if n := len(e.overrides); n != 2 {
		t.Errorf("parsed overrides kept: %d, want 2", n)
	}
	if _, err := e.Render(sampleFrame("en"), doc, &EmailSource{Subject: "{{.Nope"}); err == nil {
		t.Fatal("a broken override rendered")
	}
}

// A broken override is refused with the parser's message, naming its part.
func TestEmailOverrideRefused(t *testing.T) {
	e, _ := newTestEmails(t)
	cases := []struct {
		name string
		src  EmailSource
		part string
		want string
	}{
		{"unclosed action", EmailSource{Subject: "Hello {{.Institution"}, "subject", "unclosed action"},
		{"unknown field", EmailSource{Text: "{{.Password}}"}, "text", "can't evaluate field Password"},
		{"field of another class", EmailSource{HTML: "<a href='{{.Link}}'>x</a>"}, "html", "can't evaluate field Link"},
		{"unknown function", EmailSource{Text: "{{shout .Institution}}"}, "text", `function "shout" not defined`},
		{"unknown message", EmailSource{Subject: `{{t "email.nope" "a"}}`}, "subject", "pairs of key and value"},
		{"empty subject", EmailSource{Subject: "{{if false}}x{{end}}"}, "subject", "the subject is empty"},
		{"ambiguous html", EmailSource{HTML: `{{if .Institution}}<a href="{{end}}x">`}, "html", "branches end in different contexts"},
		{"unterminated html", EmailSource{HTML: `<a href="{{.Institution}}`}, "html", ""},
		{"not utf-8", EmailSource{Text: "\xff"}, "text", "UTF-8"},
		{"too long", EmailSource{Text: strings.Repeat("x", maxEmailPartSize+1)}, "text", "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := e.Check(ClassTwoFactorEnabled, "en", c.src)
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("want a *TemplateError, got %v", err)
			}
			if te.Part != c.part || !strings.Contains(te.Error(), c.want) {
				t.Fatalf("want an error of part %s mentioning %q, got %v", c.part, c.want, err)
			}
		})
	}
	for name, err := range map[string]error{
		"empty override":  e.Check(ClassTwoFactorEnabled, "en", EmailSource{}),
		"unknown class":   e.Check("nope", "en", EmailSource{Subject: "x"}),
		"unknown locale":  e.Check(ClassTwoFactorEnabled, "es", EmailSource{Subject: "x"}),
		"regional locale": e.Check(ClassTwoFactorEnabled, "fr-CH", EmailSource{Subject: "x"}),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// An override that uses an optional field without checking it still works
// when the field is empty: Check renders both variants of the sample.
func TestEmailOverrideCheckedWithEveryVariant(t *testing.T) {
	e, _ := newTestEmails(t)
	src := EmailSource{Text: `{{template "greeting" .}} {{index (slice .PointOfSaleURL 0 5) }}`}
	if err := e.Check(ClassAccountActivated, "en", src); err == nil {
		t.Fatal("an override that fails when PointOfSaleURL is empty was accepted")
	}
}

func TestEmailsStartupChecks(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	good := fstest.MapFS{}
	if err := copyFS(good, emailFiles); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(fs fstest.MapFS){
		"missing class": func(fs fstest.MapFS) { delete(fs, "emails/password_reset.html") },
		"unknown message": func(fs fstest.MapFS) {
			fs["emails/password_reset.txt"] = &fstest.MapFile{Data: []byte(`{{t "email.nope"}}`)}
		},
		"does not parse": func(fs fstest.MapFS) { fs["emails/password_reset.html"] = &fstest.MapFile{Data: []byte(`{{if}}`)} },
		"does not render": func(fs fstest.MapFS) {
			fs["emails/two_factor_enabled.txt"] = &fstest.MapFile{Data: []byte(`{{.Link}}`)}
		},
		"no greeting": func(fs fstest.MapFS) {
			fs["emails/layout.txt"] = &fstest.MapFile{Data: []byte(`{{define "layout"}}x{{end}}`)}
		},
	}
	if _, err := newEmails(c, good); err != nil {
		t.Fatalf("the embedded emails: %v", err)
	}
	for name, breakIt := range cases {
		fsys := fstest.MapFS{}
		for k, v := range good {
			fsys[k] = v
		}
		breakIt(fsys)
		if _, err := newEmails(c, fsys); err == nil {
			t.Errorf("%s: NewEmails succeeded", name)
		}
	}
}

func copyFS(dst fstest.MapFS, src interface {
	ReadDir(string) ([]os.DirEntry, error)
	ReadFile(string) ([]byte, error)
}) error {
	entries, err := src.ReadDir("emails")
	if err != nil {
		return err
	}
	for _, en := range entries {
		b, err := src.ReadFile("emails/" + en.Name())
		if err != nil {
			return err
		}
		dst["emails/"+en.Name()] = &fstest.MapFile{Data: b}
	}
	return nil
}
