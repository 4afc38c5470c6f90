// Package templates holds everything Usher shows to people: the message
// catalogues of every locale (en, fr, de, it), and, embedded with them, the
// pages and emails that use those messages.
package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed locales/*.json
var localeFiles embed.FS

// DefaultLocale is used when nothing better matches.
const DefaultLocale = "en"

// Catalog holds every message of every locale. Build it once with
// NewCatalog and share it; it is read-only afterwards.
type Catalog struct {
	messages map[string]map[string]string // locale → id → text
	locales  []string
}

// NewCatalog loads the embedded catalogues and checks them: every locale
// must define exactly the ids of the default locale.
func NewCatalog() (*Catalog, error) {
	return loadCatalog(localeFiles)
}

func loadCatalog(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{messages: map[string]map[string]string{}}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		locale := strings.TrimSuffix(path.Base(name), ".json")
		c.messages[locale] = m
		c.locales = append(c.locales, locale)
	}
	sort.Strings(c.locales)
	return c, c.check()
}

// check reports every id missing from, or unknown to, a locale.
func (c *Catalog) check() error {
	base, ok := c.messages[DefaultLocale]
	if !ok {
		return fmt.Errorf("catalog: no %q locale", DefaultLocale)
	}
	var problems []string
	for _, locale := range c.locales {
		for id := range base {
			if _, ok := c.messages[locale][id]; !ok {
				problems = append(problems, fmt.Sprintf("%s: missing %q", locale, id))
			}
		}
		for id := range c.messages[locale] {
			if _, ok := base[id]; !ok {
				problems = append(problems, fmt.Sprintf("%s: unknown %q", locale, id))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("catalog: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Locales returns the supported locales, sorted.
func (c *Catalog) Locales() []string { return append([]string(nil), c.locales...) }

// Has reports whether id is a known message.
func (c *Catalog) Has(id string) bool {
	_, ok := c.messages[DefaultLocale][id]
	return ok
}

// Match returns the supported locale for a BCP 47 tag ("fr-CH" → "fr"), or
// "" when there is none.
func (c *Catalog) Match(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if _, ok := c.messages[tag]; ok {
		return tag
	}
	base, _, _ := strings.Cut(tag, "-")
	if _, ok := c.messages[base]; ok {
		return base
	}
	return ""
}

// Message returns the text of id in locale (falling back to the default
// locale), with each {name} replaced by args[name]. An unknown id is
// returned as it is, so a mistake shows instead of vanishing.
func (c *Catalog) Message(locale, id string, args map[string]string) string {
	text, ok := c.messages[c.Match(locale)][id]
	if !ok {
		if text, ok = c.messages[DefaultLocale][id]; !ok {
			return id
		}
	}
	for k, v := range args {
		text = strings.ReplaceAll(text, "{"+k+"}", v)
	}
	return text
}
