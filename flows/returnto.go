package flows

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/usher-idp/usher/internal/issuer"
)

// returnTo is the authorization request a page resumes when it is done
// (the contract of package issuer): a relative URL of this server, exactly the path of
// the institution's authorization endpoint followed by its query. Nothing
// else is accepted — no scheme, no host, no "//" or "\", no other path, no
// other institution — so the pages cannot be made to redirect elsewhere.
// The zero value is "no return_to".
type returnTo struct {
	raw   string // as given, and as redirected to
	query url.Values
}

// parseReturnTo validates raw for the institution with this slug; ok is
// false (and the zero returnTo returned) for anything but a valid one.
func parseReturnTo(slug, raw string) (rt returnTo, ok bool) {
	endpoint := issuer.AuthorizeURL(slug)
	if len(raw) > issuer.MaxReturnTo || !strings.HasPrefix(raw, endpoint+"?") || !printableASCII(raw) ||
		strings.ContainsAny(raw, `\#`) {
		return returnTo{}, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		u.Path != endpoint || u.RawPath != "" {
		return returnTo{}, false
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return returnTo{}, false
	}
	return returnTo{raw: raw, query: q}, true
}

// printableASCII reports whether s has only visible ASCII characters (a
// URL's own; no spaces, controls or raw Unicode).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func (rt returnTo) valid() bool       { return rt.raw != "" }
func (rt returnTo) loginHint() string { return rt.query.Get("login_hint") }
func (rt returnTo) uiLocales() string { return rt.query.Get("ui_locales") }

// clientID is the request's client_id, or "" when it cannot be the id of any
// client: a NUL byte or invalid UTF-8 (which PostgreSQL refuses to compare)
// is answered like an unknown client, not with a database error.
func (rt returnTo) clientID() string {
	if id := rt.query.Get("client_id"); storableText(id) {
		return id
	}
	return ""
}

// storableText reports whether s can be compared with stored text on every
// database: valid UTF-8 without NUL bytes. Input that is not matches no
// record.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// scopes are the scopes the request asks for, each once, in its order.
func (rt returnTo) scopes() []string {
	var out []string
	for _, s := range strings.Fields(rt.query.Get("scope")) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// asksTwoFactors reports whether the request's acr_values accept only the
// class of two factors (issuer.ACRTwoFactors): "2" asks for a second
// factor, "1 2" accepts a password.
func (rt returnTo) asksTwoFactors() bool {
	acr := strings.Fields(rt.query.Get("acr_values"))
	return slices.Contains(acr, issuer.ACRTwoFactors) && !slices.Contains(acr, issuer.ACROnePassword)
}

// denied is where to send the browser when the person denies consent.
func (rt returnTo) denied() string { return issuer.DeniedReturn(rt.raw) }

// after is where to go once signed in: the request, or the account page.
func (rt returnTo) after(slug string) string {
	if rt.valid() {
		return rt.raw
	}
	return pagePath(slug, "/account")
}

// loginURL is the sign-in page that resumes rt.
func loginURL(slug string, rt returnTo) string {
	if !rt.valid() {
		return pagePath(slug, issuer.LoginPath)
	}
	return pagePath(slug, issuer.LoginPath) + "?" + issuer.ReturnToParam + "=" + url.QueryEscape(rt.raw)
}
