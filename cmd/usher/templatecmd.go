package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// An email template file holds the parts of an override, each after a
// line that names it:
//
//	# Lines starting with # before the first part are comments.
//	[subject]
//	{{.Institution}}: choose a new password
//	[text]
//	{{template "greeting" .}}
//
//	Open {{.Link}} within {{duration .ValidFor}}.
//	[html]
//	{{template "greeting" .}}
//	<p><a href="{{.Link}}">Choose a new password</a></p>
//
// A part may be left out: the built-in one is kept. The subject is one line
// (text/template); the text and HTML parts (text/template and html/template)
// are the content drawn inside Usher's email layout; blank lines around a
// part are dropped. `usher template show` prints the templates in force in
// this format, to start from.
const (
	templateMarkSubject = "[subject]"
	templateMarkText    = "[text]"
	templateMarkHTML    = "[html]"
	maxTemplateFile     = 256 << 10
)

// parseTemplateFile reads an email template file.
func parseTemplateFile(r io.Reader) (templates.EmailSource, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxTemplateFile+1))
	if err != nil {
		return templates.EmailSource{}, err
	}
	if len(data) > maxTemplateFile {
		return templates.EmailSource{}, fmt.Errorf("longer than %d bytes", maxTemplateFile)
	}
	if !utf8.Valid(data) {
		return templates.EmailSource{}, errors.New("not UTF-8")
	}
	parts := map[string]*strings.Builder{}
	var current string
	for i, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		switch mark := strings.TrimSpace(line); mark {
		case templateMarkSubject, templateMarkText, templateMarkHTML:
			if parts[mark] != nil {
				return templates.EmailSource{}, fmt.Errorf("line %d: %s appears twice", i+1, mark)
			}
			current = mark
			parts[mark] = &strings.Builder{}
			continue
		}
		if current == "" {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				return templates.EmailSource{}, fmt.Errorf("line %d: text before the first part; start a part with %s, %s or %s",
					i+1, templateMarkSubject, templateMarkText, templateMarkHTML)
			}
			continue
		}
		parts[current].WriteString(line + "\n")
	}
	if len(parts) == 0 {
		return templates.EmailSource{}, fmt.Errorf("no part: write %s, %s or %s on a line of its own before each part",
			templateMarkSubject, templateMarkText, templateMarkHTML)
	}
	var src templates.EmailSource
	if b := parts[templateMarkSubject]; b != nil {
		src.Subject = strings.TrimSpace(b.String())
		if src.Subject == "" || strings.Contains(src.Subject, "\n") {
			return templates.EmailSource{}, errors.New("the subject must be one line that is not empty")
		}
	}
	for mark, dst := range map[string]*string{templateMarkText: &src.Text, templateMarkHTML: &src.HTML} {
		if b := parts[mark]; b != nil {
			*dst = strings.Trim(b.String(), "\n") + "\n"
			if strings.TrimSpace(*dst) == "" {
				return templates.EmailSource{}, fmt.Errorf("the %s part is empty (leave it out to keep the built-in one)", mark)
			}
		}
	}
	return src, nil
}

// formatTemplateFile writes src in the template file format.
func formatTemplateFile(w io.Writer, comment string, src templates.EmailSource) error {
	var b strings.Builder
	for _, line := range strings.Split(comment, "\n") {
		b.WriteString("# " + line + "\n")
	}
	for _, p := range []struct{ mark, body string }{
		{templateMarkSubject, src.Subject}, {templateMarkText, src.Text}, {templateMarkHTML, src.HTML}} {
		if p.body == "" {
			continue
		}
		b.WriteString(p.mark + "\n" + strings.Trim(p.body, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// templateFlags are the flags that name an override.
type templateFlags struct {
	institution, class, document, locale *string
}

func addTemplateFlags(fs *flags) templateFlags {
	fs.withInstitution()
	return templateFlags{
		institution: &fs.institution,
		class:       fs.String("class", "", "document class (required): "+classNames()),
		document: fs.String("document", "", "the institution's named document of the class, a document type "+
			"(default: the default document)"),
		locale: fs.String("locale", "", "language (required): en, fr, de or it"),
	}
}

// check validates the class and locale flags.
func (f templateFlags) check(a *app, cmd string) error {
	if !templates.EmailClass(*f.class).Valid() {
		return usageErr("usher template %s: --class: want one of %s, got %q", cmd, classNames(), *f.class)
	}
	if a.catalog.Match(*f.locale) != *f.locale || *f.locale == "" {
		return usageErr("usher template %s: --locale: want one of %s, got %q", cmd, strings.Join(a.catalog.Locales(), ", "), *f.locale)
	}
	return nil
}

// find checks the class and locale flags and returns the institution.
func (f templateFlags) find(ctx context.Context, a *app, cmd string) (*storage.Institution, error) {
	if err := f.check(a, cmd); err != nil {
		return nil, err
	}
	return a.institution(ctx, *f.institution)
}

// what names the override the flags select: "password_reset (fr)", or
// "password_reset (fr, document brand-b)".
func (f templateFlags) what() string {
	if *f.document == "" || *f.document == mail.DefaultDocument {
		return fmt.Sprintf("%s (%s)", *f.class, *f.locale)
	}
	return fmt.Sprintf("%s (%s, document %s)", *f.class, *f.locale, *f.document)
}

// usher template set --institution SLUG --class C [--document NAME] --locale L --file F
func (c *cli) templateSet(ctx context.Context, args []string) error {
	fs := newFlags("template set")
	tf := addTemplateFlags(fs)
	file := fs.String("file", "", "the template file (required; - reads standard input)")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	if *file == "" {
		return usageErr("usher template set: --file is required")
	}
	src, err := c.readTemplateFile(*file)
	if err != nil {
		return err
	}
	return c.withApp(ctx, fs, func(a *app) error {
		inst, err := tf.find(ctx, a, "set")
		if err != nil {
			return err
		}
		if err := a.mailTemplates.Set(ctx, inst, templates.EmailClass(*tf.class), *tf.document, *tf.locale, src); err != nil {
			return fmt.Errorf("template refused, nothing stored: %w", err)
		}
		_, err = fmt.Fprintf(c.stdout, "template %s of %s set: %s\n", tf.what(), inst.Slug,
			strings.Join(sourceParts(src.Subject, src.Text, src.HTML), ", "))
		return err
	})
}

func (c *cli) readTemplateFile(name string) (templates.EmailSource, error) {
	r := c.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return templates.EmailSource{}, fmt.Errorf("template file: %w", err)
		}
		defer f.Close()
		r = f
	}
	src, err := parseTemplateFile(r)
	if err != nil {
		return src, fmt.Errorf("template file %s: %w", name, err)
	}
	return src, nil
}

// sourceParts names the parts that are set.
func sourceParts(subject, text, html string) []string {
	var parts []string
	for _, p := range [][2]string{{"subject", subject}, {"text", text}, {"html", html}} {
		if p[1] != "" {
			parts = append(parts, p[0])
		}
	}
	return parts
}

// usher template list --institution SLUG [--json]
func (c *cli) templateList(ctx context.Context, args []string) error {
	return listIn(ctx, c, "template list", args, func(a *app, inst *storage.Institution) ([]storage.EmailTemplate, error) {
		return a.mailTemplates.List(ctx, inst)
	}, printOverrides)
}

// overrideJSON is how template list prints an institution's template.
type overrideJSON struct {
	Class     string    `json:"class"`
	Document  string    `json:"document"` // "" for the default document
	Locale    string    `json:"locale"`
	Parts     []string  `json:"parts"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toOverrideJSON(t *storage.EmailTemplate) overrideJSON {
	return overrideJSON{t.Class, t.Document, t.Locale, sourceParts(t.Subject, t.TextBody, t.HTMLBody), t.UpdatedAt}
}

// printOverrides prints an institution's templates as JSON or as a table.
func printOverrides(c *cli, list []storage.EmailTemplate, asJSON bool) error {
	return printList(c.stdout, asJSON, list, toOverrideJSON, []any{"CLASS", "DOCUMENT", "LOCALE", "PARTS", "UPDATED"},
		func(t *storage.EmailTemplate) []any {
			o := toOverrideJSON(t)
			document := o.Document
			if document == "" {
				document = "(default)"
			}
			return []any{o.Class, document, o.Locale, strings.Join(o.Parts, ","), o.UpdatedAt.Format(time.RFC3339)}
		})
}

// usher template show --institution SLUG --class C [--document NAME] --locale L [--builtin]
func (c *cli) templateShow(ctx context.Context, args []string) error {
	fs := newFlags("template show")
	tf := addTemplateFlags(fs)
	builtin := fs.Bool("builtin", false, "show the built-in templates, not the institution's")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	return c.withApp(ctx, fs, func(a *app) error {
		if err := tf.check(a, "show"); err != nil {
			return err
		}
		class := templates.EmailClass(*tf.class)
		src, _ := a.mailTemplates.Emails.Source(class)
		what := "built-in"
		if !*builtin {
			inst, err := a.institution(ctx, *tf.institution)
			if err != nil {
				return err
			}
			var overridden bool
			src, overridden, err = a.mailTemplates.Effective(ctx, inst, class, *tf.document, *tf.locale)
			if errors.Is(err, mail.ErrUnknownDocument) {
				return fmt.Errorf("%s has no document %q of %s (usher template list shows them)", inst.Slug, *tf.document, class)
			}
			if err != nil {
				return err
			}
			if overridden {
				what = "overridden by " + inst.Slug
			}
		}
		name := fmt.Sprintf("%s, %s", class, *tf.locale)
		if d := *tf.document; d != "" && d != mail.DefaultDocument && !*builtin {
			name += ", document " + d
		}
		return formatTemplateFile(c.stdout, fmt.Sprintf("usher email template: %s (%s)\n"+
			"Messages in {{t \"…\"}} are the catalogue's, in the email's language.", name, what), src)
	})
}

// usher template delete --institution SLUG --class C [--document NAME] --locale L
func (c *cli) templateDelete(ctx context.Context, args []string) error {
	fs := newFlags("template delete")
	tf := addTemplateFlags(fs)
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	return c.withApp(ctx, fs, func(a *app) error {
		inst, err := tf.find(ctx, a, "delete")
		if err != nil {
			return err
		}
		err = a.mailTemplates.Delete(ctx, inst, templates.EmailClass(*tf.class), *tf.document, *tf.locale)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%s has no template for %s", inst.Slug, tf.what())
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "template %s of %s deleted: the built-in one applies\n", tf.what(), inst.Slug)
		return err
	})
}
