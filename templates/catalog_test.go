package templates

import (
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

func TestCatalogLoadsEveryLocale(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"de", "en", "fr", "it"}
	if got := c.Locales(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("locales = %v, want %v", got, want)
	}
}

func TestCatalogRefusesIncompleteLocales(t *testing.T) {
	fsys := fstest.MapFS{
		"locales/en.json": {Data: []byte(`{"a": "A", "b": "B"}`)},
		"locales/fr.json": {Data: []byte(`{"a": "A", "c": "C"}`)},
	}
	_, err := loadCatalog(fsys)
	if err == nil {
		t.Fatal("loadCatalog accepted a locale missing an id")
	}
	for _, want := range []string{`fr: missing "b"`, `fr: unknown "c"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestMessage(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{"min_length": "12"}
	tests := []struct{ locale, want string }{
		{"en", "Use at least 12 characters."},
		{"fr-CH", "Utilisez au moins 12 caractères."},
		{"DE", "Verwenden Sie mindestens 12 Zeichen."},
		{"it", "Usa almeno 12 caratteri."},
		{"pt-BR", "Use at least 12 characters."}, // unsupported: English
		{"", "Use at least 12 characters."},
	}
	for _, tt := range tests {
		if got := c.Message(tt.locale, "password.too_short", args); got != tt.want {
			t.Errorf("Message(%q) = %q, want %q", tt.locale, got, tt.want)
		}
	}
	if got := c.Message("en", "no.such.id", nil); got != "no.such.id" {
		t.Errorf("unknown id gave %q", got)
	}
}

// Placeholders must be the same in every translation, or a value goes missing.
func TestTranslationsKeepPlaceholders(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for id, en := range c.messages[DefaultLocale] {
		for _, locale := range c.locales {
			if got, want := placeholders(c.messages[locale][id]), placeholders(en); got != want {
				t.Errorf("%s %s: placeholders %q, want %q", locale, id, got, want)
			}
		}
	}
}

func placeholders(s string) string {
	var out []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		out = append(out, s[i:i+j+1])
		s = s[i+j+1:]
	}
	sort.Strings(out) // a translation may reorder them
	return strings.Join(out, " ")
}
