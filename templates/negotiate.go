package templates

import (
	"sort"
	"strconv"
	"strings"
)

// Bounds on the Accept-Language header that Negotiate reads: a longer header
// is cut, further entries are ignored.
const (
	maxAcceptLanguageBytes   = 1024
	maxAcceptLanguageEntries = 32
)

// Negotiate chooses the locale of a page: the first supported of the hints
// (each may be a space-separated list, such as the ui_locales parameter of
// an authorization request; then the account's locale), then the languages
// of the Accept-Language header by decreasing q-value (ties in the order
// given, q=0 meaning "not this one"), then DefaultLocale. Only supported
// locales are returned; a regional tag matches its language ("fr-CH" → "fr").
func (c *Catalog) Negotiate(acceptLanguage string, hints ...string) string {
	for _, hint := range hints {
		for _, tag := range strings.Fields(hint) {
			if locale := c.Match(tag); locale != "" {
				return locale
			}
		}
	}
	for _, tag := range acceptedLanguages(acceptLanguage) {
		if locale := c.Match(tag); locale != "" {
			return locale
		}
	}
	return DefaultLocale
}

// acceptedLanguages returns the tags of an Accept-Language header (RFC 9110
// §12.5.4) with a q-value above zero, best first. The wildcard and entries
// that do not parse are left out.
func acceptedLanguages(header string) []string {
	if len(header) > maxAcceptLanguageBytes {
		header = header[:maxAcceptLanguageBytes]
	}
	type entry struct {
		tag string
		q   float64
	}
	var entries []entry
	for i, part := range strings.Split(header, ",") {
		if i == maxAcceptLanguageEntries {
			break
		}
		tag, q, ok := parseLanguageRange(part)
		if ok && q > 0 && tag != "*" {
			entries = append(entries, entry{tag, q})
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].q > entries[j].q })
	tags := make([]string, len(entries))
	for i, e := range entries {
		tags[i] = e.tag
	}
	return tags
}

// parseLanguageRange parses "fr-CH" or "fr;q=0.8"; q defaults to 1.
func parseLanguageRange(s string) (tag string, q float64, ok bool) {
	tag, params, _ := strings.Cut(s, ";")
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return "", 0, false
	}
	q = 1
	params = strings.TrimSpace(params)
	if params == "" {
		return tag, q, true
	}
	name, value, found := strings.Cut(params, "=")
	if !found || strings.TrimSpace(strings.ToLower(name)) != "q" {
		return "", 0, false
	}
	q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || q < 0 || q > 1 {
		return "", 0, false
	}
	return tag, q, true
}
