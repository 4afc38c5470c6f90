package templates_test

import (
	"net/http"
	"testing"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// discard is a ResponseWriter that keeps nothing: the benchmark measures
// the rendering, not a recorder's copying.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkSignInPage renders the sign-in page as GET /login does for an
// authorization request: the institution's frame, the client's name, the
// return_to of the request, no problem.
//
//	go test -run '^$' -bench . -benchmem ./templates/
func BenchmarkSignInPage(b *testing.B) {
	catalog, err := templates.NewCatalog()
	if err != nil {
		b.Fatal(err)
	}
	pages, err := templates.NewPages(catalog)
	if err != nil {
		b.Fatal(err)
	}
	inst := &storage.Institution{Slug: "city-opera", Name: "City Opera", Version: 3, Settings: storage.DefaultSettings()}
	inst.Settings.DisplayName = "City Opera"
	inst.Settings.LogoURL = "https://cdn.example/opera.png"
	inst.Settings.Colour = "#7a1f3d"
	returnTo := "/institutions/city-opera/oauth2/authorize?client_id=shop&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" +
		"&code_challenge_method=S256&nonce=n-0S6_WzA2Mj&redirect_uri=https%3A%2F%2Fshop.example%2Fcallback" +
		"&response_type=code&scope=openid+email+profile&state=af0ifjsldkj&usher_resume=1764151200.x"
	for _, locale := range []string{"en", "de"} {
		b.Run(locale, func(b *testing.B) {
			page := templates.SignInPage{Frame: templates.FrameFor(inst, locale), ClientName: "Ticket Shop",
				Form: templates.Form{ReturnTo: returnTo}}
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				if err := pages.SignIn(w, http.StatusOK, page); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
