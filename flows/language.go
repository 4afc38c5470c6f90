package flows

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// The language switch: every page links to itself in the other languages
// with ?lang=TAG, keeping the request in progress (its return_to, or the
// token of its link). A page under an institution remembers the choice in
// a cookie for the institution's pages, so the pages that follow (after a
// form, a redirect) stay in it. No JavaScript is involved.
const (
	languageParam  = "lang"
	languageCookie = "usher_lang"
	languageMaxAge = 365 * 24 * 60 * 60
)

// languageNames are the languages in their own words.
var languageNames = map[string]string{"en": "English", "fr": "Français", "de": "Deutsch", "it": "Italiano"}

// chosenLanguage is the language the person chose: ?lang= on this request,
// else the cookie; "" when none (or not one Usher speaks).
func (s *Site) chosenLanguage(r *http.Request) string {
	if l := s.Catalog.Match(r.URL.Query().Get(languageParam)); l != "" {
		return l
	}
	if c, err := r.Cookie(languageCookie); err == nil {
		return s.Catalog.Match(c.Value)
	}
	return ""
}

// rememberLanguage keeps the language chosen with ?lang= for the
// institution's pages.
func (s *Site) rememberLanguage(w http.ResponseWriter, r *http.Request, inst *storage.Institution) {
	l := s.Catalog.Match(r.URL.Query().Get(languageParam))
	if l == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: languageCookie, Value: l, Path: issuer.Path(inst.Slug), MaxAge: languageMaxAge,
		HttpOnly: true, Secure: secureCookies(s.PublicURL), SameSite: http.SameSiteLaxMode})
}

// languages are the links to the page of r in each language the
// institution offers (every language, outside an institution). The
// protocol's endpoints (an authorization request refused with an error
// page) get none: the request is over, and is not echoed.
func (s *Site) languages(r *http.Request, inst *storage.Institution, current string) []templates.LanguageLink {
	if inst != nil && strings.HasPrefix(r.URL.Path, issuer.Path(inst.Slug)+"/oauth2/") {
		return nil
	}
	tags := s.Catalog.Locales()
	if inst != nil {
		tags = inst.Settings.Locales
	}
	path, q := pageAddress(r, inst)
	var links []templates.LanguageLink
	for _, tag := range tags {
		if s.Catalog.Match(tag) != tag {
			continue
		}
		q.Set(languageParam, tag)
		links = append(links, templates.LanguageLink{Tag: tag, Name: languageNames[tag],
			URL: path + "?" + q.Encode(), Current: tag == current})
	}
	if len(links) < 2 {
		return nil
	}
	return links
}

// pageAddress is the address of the page r shows, as a GET, with what
// keeps the request in progress: a valid return_to and the token of a link.
// A form's page is the page the form is on (the account page for its
// forms). Nothing else of the request is echoed.
func pageAddress(r *http.Request, inst *storage.Institution) (string, url.Values) {
	path, form := r.URL.Path, r.URL.Query()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		form = r.PostForm
		if before, _, ok := strings.Cut(path, "/account/"); ok {
			path = before + "/account"
		}
	}
	q := url.Values{}
	if inst == nil {
		return path, q
	}
	if rt, ok := parseReturnTo(inst.Slug, form.Get(issuer.ReturnToParam)); ok {
		q.Set(issuer.ReturnToParam, rt.raw)
	}
	if token := form.Get("token"); token != "" && len(token) <= 512 && printableASCII(token) {
		q.Set("token", token)
	}
	return path, q
}
