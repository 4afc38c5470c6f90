package flows_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/usher-idp/usher/flows"
)

// TestCookiesSecureUnderHTTPS checks that behind an https public URL every
// cookie the pages set is Secure: the session and the device cookie of a
// sign-in, the chosen language, and the session cleared at logout (a
// browser keeps a Secure cookie only when the clearing one is Secure too).
// Over http, as in the other tests, they are not (TestSignInSucceeds).
func TestCookiesSecureUnderHTTPS(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newWebEnvAt(t, f, "https://usher.test")
		e.customer(t, e.opera, "ann@example.org")
		b := e.browser(t)
		set := map[string]*http.Cookie{}
		keep := func(r response) {
			for _, c := range r.cookies {
				set[c.Name] = c
			}
		}

		keep(b.get("/institutions/opera/login?lang=fr&return_to=" + url.QueryEscape(returnTo("opera", shopID))))
		signedIn := b.signIn("opera", "ann@example.org", goodPassword, returnTo("opera", shopID))
		if signedIn.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d\n%s", signedIn.status, signedIn.body)
		}
		keep(signedIn)
		for _, name := range []string{flows.CookieName, flows.DeviceCookieName, "usher_lang"} {
			if c := set[name]; c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie %s: %+v, want Secure, HttpOnly, SameSite=Lax", name, c)
			}
		}

		// The jar keeps Secure cookies from an http server; the cookie is
		// sent by hand, as a browser would over https.
		session := set[flows.CookieName]
		out := b.do(http.MethodPost, "/institutions/opera/logout", url.Values{},
			http.Header{"Cookie": {session.Name + "=" + session.Value}})
		var cleared *http.Cookie
		for _, c := range out.cookies {
			if c.Name == flows.CookieName {
				cleared = c
			}
		}
		if cleared == nil || cleared.MaxAge >= 0 || !cleared.Secure {
			t.Errorf("logout: %d, the cleared session cookie %+v, want Secure with MaxAge < 0", out.status, cleared)
		}
	})
}
