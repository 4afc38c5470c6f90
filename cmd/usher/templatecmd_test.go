package main

import (
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// usher template takes --document: an institution's named documents of a
// class, listed, shown and deleted apart from the default one.
func TestCLITemplateDocuments(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := newTestCLI(t, db)
		tc.ok("", "migrate")
		tc.ok("", "institution", "create", "opera", "--name", "Opera")
		set := func(document, subject string) string {
			return tc.ok("[subject]\n"+subject+"\n", "template", "set", "--institution", "opera", "--class", "password_reset",
				"--document", document, "--locale", "fr", "--file", "-")
		}
		if out := set("ballet", "Ballet : {{.Institution}}"); !strings.Contains(out, "template password_reset (fr, document ballet) of opera set: subject") {
			t.Errorf("template set --document: %s", out)
		}
		set("default", "Opéra : {{.Institution}}")
		var list []struct{ Class, Document, Locale string }
		tc.json(&list, "template", "list", "--institution", "opera", "--json")
		if len(list) != 2 || list[0].Document != "" || list[1].Document != "ballet" {
			t.Fatalf("template list: %+v", list)
		}
		table := tc.ok("", "template", "list", "--institution", "opera")
		if !strings.Contains(table, "DOCUMENT") || !strings.Contains(table, "(default)") || !strings.Contains(table, "ballet") {
			t.Errorf("template list:\n%s", table)
		}
		shown := tc.ok("", "template", "show", "--institution", "opera", "--class", "password_reset", "--document", "ballet",
			"--locale", "fr")
		if !strings.Contains(shown, "password_reset, fr, document ballet (overridden by opera)") ||
			!strings.Contains(shown, "Ballet : {{.Institution}}") {
			t.Errorf("template show --document:\n%s", shown)
		}
		if shown := tc.ok("", "template", "show", "--institution", "opera", "--class", "password_reset", "--locale", "fr"); !strings.Contains(shown, "Opéra : {{.Institution}}") {
			t.Errorf("template show of the default document:\n%s", shown)
		}
		// The document has no German version: the built-in one applies.
		if shown := tc.ok("", "template", "show", "--institution", "opera", "--class", "password_reset", "--document", "ballet",
			"--locale", "de"); !strings.Contains(shown, "(built-in)") {
			t.Errorf("template show of a missing locale:\n%s", shown)
		}
		tc.fails(`opera has no document "nope" of password_reset`, "", "template", "show", "--institution", "opera",
			"--class", "password_reset", "--document", "nope", "--locale", "fr")
		tc.fails("document name", "[subject]\nx\n", "template", "set", "--institution", "opera", "--class", "password_reset",
			"--document", "Brand B", "--locale", "fr", "--file", "-")
		tc.ok("", "template", "delete", "--institution", "opera", "--class", "password_reset", "--document", "ballet", "--locale", "fr")
		tc.fails("opera has no template for password_reset (fr, document ballet)", "", "template", "delete", "--institution", "opera",
			"--class", "password_reset", "--document", "ballet", "--locale", "fr")
		tc.json(&list, "template", "list", "--institution", "opera", "--json")
		if len(list) != 1 || list[0].Document != "" {
			t.Fatalf("after delete: %+v", list)
		}
	})
}

// usher template set refuses a template that would run without bound, and
// says why.
func TestCLITemplateRefusesRunaway(t *testing.T) {
	tc := newTestCLI(t, sqltest.SQLite(t))
	tc.ok("", "migrate")
	tc.ok("", "institution", "create", "opera", "--name", "Opera")
	for template, reason := range map[string]string{
		"[text]\n{{range 100000000000}}{{end}}\n":                  "text: content:1:8: range is not allowed in an email template",
		"[html]\n" + strings.Repeat(`{{printf "%0999999d" 1}}`, 2): "html: the rendered part is too long (more than 1048576 bytes)",
	} {
		tc.fails("template refused, nothing stored: "+reason, template, "template", "set", "--institution", "opera",
			"--class", "password_reset", "--locale", "en", "--file", "-")
	}
}
