package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// The fuzz targets of every other form and protocol endpoint: each sends
// a raw query, a raw body and an Authorization header, from a browser in
// one of the states of signing in (fzStates), and checks what every answer
// must satisfy (checkCommon: never a 5xx, never a stack trace, never a
// logged panic), and that a page answers HTML and a protocol endpoint
// JSON. Placeholders, besides those of fzUsher.fill: $RESET and $INVITE
// (the token of a fresh reset or invitation link), $ADMIN (an access token
// with every admin scope), $SUBJECT (the id of the account the admin API
// and the reset links act on: another than the known account, whose
// session the other placeholders need).
//
//	go test -run XXX -fuzz FuzzIntrospect -fuzztime 60s ./cmd/usher/

const (
	fzPosID       = "fuzz-pos" // the point of sale the links return to
	fzPosSecret   = "fuzz-pos-secret-0123456789-abcdefghijklmnopq"
	fzAdminID     = "fuzz-admin"
	fzAdminSecret = "fuzz-admin-secret-0123456789-abcdefghijklmno"
	fzTempEmail   = "temp@example.org"  // a temporary password: the change is pending
	fzTOTPEmail   = "totp@example.org"  // enrolled: the code is pending
	fzEnrolEmail  = "enrol@example.org" // asked for two factors: the enrolment is pending
	fzSubject     = "subject@example.org"
	fzForm        = "application/x-www-form-urlencoded"
)

// The browsers an input may come from.
const (
	fzNoCookie = iota
	fzSignedIn
	fzEnrolPending
	fzCodePending
	fzChangePending
	fzStateCount
)

// fzForms is fzUsher with what the form targets add: the accounts and
// clients of the states and links, and a cookie per state.
type fzForms struct {
	*fzUsher
	subject string // the id of fzSubject
	sealer  *seal.Sealer
	invites atomic.Uint64
	mu      sync.Mutex
	cookies map[int]*http.Cookie
}

var fzKeyField = regexp.MustCompile(`<code class="key">([A-Z2-7 ]+)</code>`)

// newFzForms builds Usher for the form targets.
func newFzForms(tb testing.TB) *fzForms {
	tb.Helper()
	u := &fzForms{fzUsher: newFzUsher(tb), cookies: map[int]*http.Cookie{}}
	ctx := context.Background()
	for _, spec := range []provider.ClientSpec{
		{ID: fzPosID, Secret: fzPosSecret, RedirectURIs: []string{"https://pos.example/cb"},
			FirstParty: true, PointOfSale: true, HomeURL: "https://pos.example/"},
		{ID: fzAdminID, Secret: fzAdminSecret, GrantTypes: []string{provider.GrantClientCredentials},
			Scopes: []string{issuer.ScopeAccountsRead, issuer.ScopeAccountsWrite, issuer.ScopeSettingsWrite}},
	} {
		spec.Name = "Fuzz " + spec.ID
		if _, _, err := u.a.clients.Register(ctx, u.inst, spec, string(flows.ActorCLI)); err != nil {
			tb.Fatal(err)
		}
	}
	var err error
	if u.sealer, err = u.a.outboxSealer(); err != nil {
		tb.Fatal(err)
	}
	for _, email := range []string{fzTempEmail, fzTOTPEmail, fzEnrolEmail, fzSubject} {
		a, err := u.a.accounts.Create(ctx, u.inst, flows.NewAccount{Kind: storage.Customer, Email: email,
			Password: testPassword, EmailVerified: true}, flows.ActorCLI)
		if err != nil {
			tb.Fatal(err)
		}
		if email == fzSubject {
			u.subject = a.ID
		}
		if email == fzTempEmail {
			if err := u.a.accounts.SetPassword(ctx, u.inst, a.ID, testPassword, true, flows.ActorCLI); err != nil {
				tb.Fatal(err)
			}
		}
	}
	u.enrol(tb)
	for s := range fzStateCount {
		u.cookie(tb, s)
	}
	u.logs.take()
	return u
}

// twoFactorReturn is an authorization request that asks for two factors.
func twoFactorReturn() string {
	q := fzAuthorizeQuery()
	q.Set("acr_values", issuer.ACRTwoFactors)
	return "/institutions/demo/oauth2/authorize?" + q.Encode()
}

// signIn posts the sign-in form and returns the session cookie it set.
func (u *fzForms) signIn(tb testing.TB, email, returnTo string) *http.Cookie {
	tb.Helper()
	form := url.Values{"email": {email}, "password": {testPassword}}
	if returnTo != "" {
		form.Set("return_to", returnTo)
	}
	r := u.must(tb, fzRequest{method: http.MethodPost, path: "/institutions/demo/login", body: form.Encode(),
		header: http.Header{"Content-Type": {fzForm}}})
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == flows.CookieName && c.Value != "" {
			return c
		}
	}
	tb.Fatalf("signing in %s set no session: %v", email, r)
	return nil
}

// enrol confirms a second factor for fzTOTPEmail.
func (u *fzForms) enrol(tb testing.TB) {
	tb.Helper()
	c := u.signIn(tb, fzTOTPEmail, twoFactorReturn())
	h := http.Header{"Cookie": {c.String()}}
	page := u.must(tb, fzRequest{method: http.MethodGet, path: "/institutions/demo" + issuer.EnrolmentPath, header: h})
	m := fzKeyField.FindStringSubmatch(page.body)
	if m == nil {
		tb.Fatalf("no key on the enrolment page: %v", page)
	}
	code, err := totp.GenerateCodeCustom(strings.ReplaceAll(m[1], " ", ""), time.Now(),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		tb.Fatal(err)
	}
	h.Set("Content-Type", fzForm)
	r := u.must(tb, fzRequest{method: http.MethodPost, path: "/institutions/demo" + issuer.EnrolmentPath,
		body: url.Values{"code": {code}}.Encode(), header: h})
	if r.status != http.StatusOK || !strings.Contains(r.body, "<code>") {
		tb.Fatalf("enrolment: %v", r)
	}
}

// cookie is the session cookie of a browser in state s (nil: none).
func (u *fzForms) cookie(tb testing.TB, s int) *http.Cookie {
	tb.Helper()
	if s == fzSignedIn {
		return u.session(tb)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if c, ok := u.cookies[s]; ok {
		return c
	}
	var c *http.Cookie
	switch s {
	case fzEnrolPending:
		c = u.signIn(tb, fzEnrolEmail, twoFactorReturn())
	case fzCodePending:
		c = u.signIn(tb, fzTOTPEmail, "")
	case fzChangePending:
		c = u.signIn(tb, fzTempEmail, "")
	}
	u.cookies[s] = c
	return c
}

// admin is an access token with every admin scope.
func (u *fzForms) admin(tb testing.TB) string {
	tb.Helper()
	scope := strings.Join([]string{issuer.ScopeAccountsRead, issuer.ScopeAccountsWrite, issuer.ScopeSettingsWrite}, " ")
	r := u.must(tb, fzRequest{method: http.MethodPost, path: "/institutions/demo/oauth2/token",
		body:   "grant_type=client_credentials&scope=" + url.QueryEscape(scope),
		header: http.Header{"Content-Type": {fzForm}, "Authorization": {basic(fzAdminID, fzAdminSecret)}}})
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal([]byte(r.body), &out) != nil || out.AccessToken == "" {
		tb.Fatalf("admin token: %v", r)
	}
	return out.AccessToken
}

var fzLinkToken = regexp.MustCompile(`/(?:password/reset|activate)\?token=([A-Za-z0-9_-]+)`)

// link asks the admin API for a reset link of fzSubject (or an
// invitation of a new one) and returns the token of the email it queued.
func (u *fzForms) link(tb testing.TB, invite bool) string {
	tb.Helper()
	path, body := "/institutions/demo/admin/v1/accounts/"+u.subject+"/password-reset", `{"point_of_sale":"`+fzPosID+`"}`
	if invite {
		path = "/institutions/demo/admin/v1/accounts"
		body = `{"kind":"customer","email":"invited-` + strconv.FormatUint(u.invites.Add(1), 10) +
			`@example.org","invite":{"point_of_sale":"` + fzPosID + `"}}`
	}
	r := u.must(tb, fzRequest{method: http.MethodPost, path: path, body: body,
		header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + u.admin(tb)}}})
	if r.status >= 300 {
		tb.Fatalf("queue a link: %v", r)
	}
	emails, err := u.a.store.In(u.inst.ID).ListEmails(context.Background(), storage.OutboxFilter{Limit: 1})
	if err != nil || len(emails) == 0 {
		tb.Fatalf("no email queued: %v", err)
	}
	m := fzLinkToken.FindStringSubmatch(u.text(tb, &emails[0]))
	if m == nil {
		tb.Fatal("no link in the email")
	}
	return m[1]
}

// text is the text body of an outbox email, opened as the worker opens it
// (flows/mail/sealed.go).
func (u *fzForms) text(tb testing.TB, e *storage.OutboxEmail) string {
	tb.Helper()
	if len(e.Content) == 0 {
		return e.TextBody
	}
	ad := []byte(strings.Join([]string{"outbox", e.InstitutionID, e.AccountID, e.Class, e.Locale, e.Recipient, e.Sender}, "\x00"))
	plain, err := u.sealer.Open(e.Content, ad)
	if err != nil {
		tb.Fatal(err)
	}
	var parts []string
	for range 3 {
		n, k := binary.Uvarint(plain)
		if k <= 0 || n > uint64(len(plain)-k) {
			tb.Fatal("sealed content unreadable")
		}
		parts, plain = append(parts, string(plain[k:k+int(n)])), plain[k+int(n):]
	}
	return parts[1]
}

// fillForms replaces the placeholders of s.
func (u *fzForms) fillForms(tb testing.TB, s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	s = strings.ReplaceAll(s, "$SUBJECT", u.subject)
	if strings.Contains(s, "$RESET") {
		s = strings.ReplaceAll(s, "$RESET", u.link(tb, false))
	}
	if strings.Contains(s, "$INVITE") {
		s = strings.ReplaceAll(s, "$INVITE", u.link(tb, true))
	}
	if strings.Contains(s, "$ADMIN") {
		s = strings.ReplaceAll(s, "$ADMIN", u.admin(tb))
	}
	return u.fill(tb, s)
}

// fzSeed is one seed of a form target.
type fzSeed struct {
	query, body, auth string
	method            uint8 // an index in the endpoint's methods
}

// fzEndpoint is one fuzzed endpoint: its methods (the input chooses one)
// and its path under the demo institution, the content type of its
// bodies, and what its answers must satisfy beyond checkCommon.
type fzEndpoint struct {
	methods           []string
	path, contentType string
	check             func(t *testing.T, r fzResponse)
}

// fuzzEndpoint fuzzes e from the seeds, each sent from every state.
func fuzzEndpoint(f *testing.F, e fzEndpoint, seeds []fzSeed) {
	u := newFzForms(f)
	for _, s := range seeds {
		for st := range uint8(fzStateCount) {
			f.Add(s.query, s.body, s.auth, st, s.method)
		}
	}
	f.Fuzz(func(t *testing.T, query, body, auth string, state, m uint8) {
		if strings.ContainsAny(query, " #\t") || !fzValidHeaderValue(query) || !fzValidHeaderValue(auth) {
			t.Skip("not a request a server accepts")
		}
		method := e.methods[int(m)%len(e.methods)]
		query, body, auth = u.fillForms(t, query), u.fillForms(t, body), u.fillForms(t, auth)
		h := http.Header{}
		if e.contentType != "" && method != http.MethodGet {
			h.Set("Content-Type", e.contentType)
		}
		if auth != "" {
			h.Set("Authorization", auth)
		}
		if c := u.cookie(t, int(state)%fzStateCount); c != nil {
			h.Set("Cookie", c.String())
		}
		r, err := u.serve(fzRequest{method: method, path: "/institutions/demo" + e.path, rawQuery: query, body: body, header: h})
		if err != nil {
			t.Fatal(err)
		}
		checkCommon(t, method+" "+e.path, r, u.logs.take())
		if e.check != nil {
			e.check(t, r)
		}
	})
}

// checkJSONAnswer: a protocol endpoint answers JSON (or nothing).
func checkJSONAnswer(t *testing.T, r fzResponse) {
	t.Helper()
	if r.body == "" {
		return
	}
	var v any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Errorf("the body is not JSON (%v):\n%v", err, r)
	}
}

// checkPageAnswer: a page answers HTML, or redirects.
func checkPageAnswer(t *testing.T, r fzResponse) {
	t.Helper()
	if r.status >= 300 && r.status < 400 {
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want an HTML page:\n%v", ct, r)
	}
}

// fzFormSeeds are what every form target gets: empty, garbled, many
// fields, a big one, invalid UTF-8, a bad return_to.
var fzFormSeeds = []fzSeed{
	{}, {body: "%%%&&==\xff", method: 1}, {body: strings.Repeat("a=b&", 5000), method: 1},
	{body: "x=" + strings.Repeat("y", 20000), method: 1}, {body: "email=\xff\xfe&password=\xc3\x28&code=\x00", method: 1},
	{query: "lang=fr&return_to=%zz"}, {query: "return_to=" + url.QueryEscape("//evil.example/"), method: 1},
}

// fzWith are the seeds with the common ones.
func fzWith(seeds ...fzSeed) []fzSeed { return append(seeds, fzFormSeeds...) }

// fzQuery is a query string (or form) of key, value pairs.
func fzQuery(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

var (
	fzPost      = []string{http.MethodPost}
	fzGetPost   = []string{http.MethodGet, http.MethodPost}
	fzShopAuth  = basic(fzShopID, fzShopSecret)
	fzService   = basic(fzServiceID, fzServiceSecret)
	fzNewPass   = url.QueryEscape("A-new-passw0rd-long")
	fzThisPass  = url.QueryEscape(testPassword)
	fzPosReturn = url.QueryEscape("/institutions/demo/oauth2/authorize?client_id=" + fzPosID)
)

// FuzzIntrospect: RFC 7662 introspection.
func FuzzIntrospect(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzPost, path: "/oauth2/introspect", contentType: fzForm, check: checkJSONAnswer},
		fzWith(fzSeed{body: "token=$ACCESS", auth: fzShopAuth}, fzSeed{body: "token=$REFRESH&token_type_hint=refresh_token", auth: fzShopAuth},
			fzSeed{body: "token=$ACCESS", auth: fzService}, fzSeed{body: "token=$IDTOKEN&token_type_hint=access_token", auth: fzService},
			fzSeed{body: "token=$ACCESS&client_id=" + fzShopID + "&client_secret=" + fzShopSecret},
			fzSeed{body: "token=$ACCESS&token=x", auth: fzShopAuth}, fzSeed{body: "token=$ACCESS", auth: "Bearer $ACCESS"},
			fzSeed{body: "token=" + strings.Repeat("A", 5000), auth: "Basic !!!"}))
}

// FuzzRevoke: RFC 7009 revocation.
func FuzzRevoke(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzPost, path: "/oauth2/revoke", contentType: fzForm, check: checkJSONAnswer},
		fzWith(fzSeed{body: "token=$REFRESH", auth: fzShopAuth}, fzSeed{body: "token=$ACCESS&token_type_hint=access_token", auth: fzShopAuth},
			fzSeed{body: "token=$REFRESH&token_type_hint=bogus", auth: fzService},
			fzSeed{body: "token=$REFRESH&client_id=" + fzPublicID}, fzSeed{body: "token=", auth: fzShopAuth},
			fzSeed{body: "token=$CODE", auth: fzShopAuth}))
}

// FuzzUserinfo: the userinfo endpoint, GET and POST, the token in the
// Authorization header (or, wrongly, elsewhere).
func FuzzUserinfo(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: "/oauth2/userinfo", contentType: fzForm, check: checkJSONAnswer},
		fzWith(fzSeed{auth: "Bearer $ACCESS"}, fzSeed{auth: "Bearer $ACCESS", method: 1}, fzSeed{auth: "Bearer $REFRESH"},
			fzSeed{auth: "Bearer $IDTOKEN"}, fzSeed{auth: "bearer $ACCESS"}, fzSeed{auth: "Bearer"},
			fzSeed{auth: "Bearer  $ACCESS "}, fzSeed{auth: fzShopAuth}, fzSeed{query: "access_token=$ACCESS"},
			fzSeed{body: "access_token=$ACCESS", method: 1}, fzSeed{auth: "Bearer a.b.c"},
			fzSeed{auth: "Bearer " + strings.Repeat("x", 9000)}, fzSeed{auth: "Bearer $ACCESS", query: "access_token=$ACCESS"}))
}

// FuzzLogout: RP-initiated logout, GET with a query and POST with a form.
func FuzzLogout(f *testing.F) {
	bye := "https://shop.example/bye"
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: "/oauth2/logout", contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{query: fzQuery("id_token_hint", "$IDTOKEN")},
			fzSeed{query: fzQuery("id_token_hint", "$IDTOKEN", "post_logout_redirect_uri", bye, "state", "s1")},
			fzSeed{query: fzQuery("post_logout_redirect_uri", bye, "client_id", fzShopID)},
			fzSeed{query: fzQuery("post_logout_redirect_uri", "https://evil.example/", "id_token_hint", "$IDTOKEN")},
			fzSeed{query: fzQuery("id_token_hint", "not.a.jwt", "ui_locales", "de")},
			fzSeed{body: fzQuery("id_token_hint", "$IDTOKEN", "post_logout_redirect_uri", bye), method: 1},
			fzSeed{body: fzQuery("client_id", fzShopID, "post_logout_redirect_uri", bye, "state", "x"), method: 1},
			fzSeed{body: fzQuery("logout_hint", "ann", "client_id", "unknown"), method: 1}))
}

// FuzzLogoutPage: the institution's own sign-out page.
func FuzzLogoutPage(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: issuer.LogoutPath, contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{method: 1}, fzSeed{body: "return_to=%2Finstitutions%2Fdemo%2Faccount", method: 1},
			fzSeed{body: "return_to=https%3A%2F%2Fevil.example%2F", method: 1}))
}

// FuzzConsent: the consent page of a third-party client.
func FuzzConsent(f *testing.F) {
	third := fzAuthorizeQuery()
	third.Set("client_id", fzThirdID)
	third.Set("redirect_uri", fzThirdRedirect)
	rt := url.QueryEscape("/institutions/demo/oauth2/authorize?" + third.Encode())
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: issuer.ConsentPath, contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{query: "return_to=" + rt}, fzSeed{body: "consent=allow&return_to=" + rt, method: 1},
			fzSeed{body: "consent=deny&return_to=" + rt, method: 1}, fzSeed{body: "consent=maybe&return_to=" + rt, method: 1},
			fzSeed{body: "consent=allow&return_to=%2Finstitutions%2Fdemo%2Foauth2%2Fauthorize%3Fclient_id%3Dnope", method: 1},
			fzSeed{body: "consent=allow", method: 1}))
}

// FuzzTwoFactorCode: the second factor's code (or a recovery code).
func FuzzTwoFactorCode(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: issuer.TwoFactorPath, contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{body: "code=123456", method: 1}, fzSeed{body: "code=12345678901234567890", method: 1},
			fzSeed{body: "code=+1e5", method: 1}, fzSeed{body: "recovery_code=abcd-efgh-ijkl", method: 1},
			fzSeed{body: "code=123456&recovery_code=x", method: 1}, fzSeed{body: "code=%EF%BC%91%EF%BC%92", method: 1}))
}

// FuzzTwoFactorSetup: the enrolment of a second factor.
func FuzzTwoFactorSetup(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: issuer.EnrolmentPath, contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{body: "code=123456", method: 1}, fzSeed{body: "code=", method: 1},
			fzSeed{body: "code=000000&code=111111", method: 1}, fzSeed{body: "code=-12345", method: 1}))
}

// FuzzPasswordForgot: the request of a reset link.
func FuzzPasswordForgot(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: "/password/forgot", contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{body: "email=" + url.QueryEscape(fzEmail), method: 1},
			fzSeed{body: "email=nobody%40example.org&return_to=" + fzPosReturn, method: 1},
			fzSeed{body: "email=" + strings.Repeat("a", 300) + "%40example.org", method: 1}, fzSeed{body: "email=a%00b", method: 1}))
}

// FuzzPasswordReset: the page of a reset link (GET with its token) and
// its form.
func FuzzPasswordReset(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: "/password/reset", contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{query: "token=$RESET"},
			fzSeed{body: "token=$RESET&password=" + fzNewPass + "&password_confirm=" + fzNewPass, method: 1},
			fzSeed{body: "token=$RESET&password=short&password_confirm=short", method: 1},
			fzSeed{body: "token=$RESET&password=" + fzNewPass + "&password_confirm=other", method: 1},
			fzSeed{query: "token=$INVITE"}, fzSeed{body: "token=$INVITE&password=" + fzNewPass + "&password_confirm=" + fzNewPass, method: 1},
			fzSeed{query: "token=" + strings.Repeat("A", 43)}, fzSeed{query: "token=%zz"},
			fzSeed{body: "token=x&token=y&password=" + fzNewPass, method: 1}))
}

// FuzzPasswordChange: the forced change of a temporary password.
func FuzzPasswordChange(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: "/password/change", contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{body: "password=" + fzNewPass + "&password_confirm=" + fzNewPass, method: 1},
			fzSeed{body: "password=" + fzThisPass + "&password_confirm=" + fzThisPass, method: 1},
			fzSeed{body: "password=password&password_confirm=password", method: 1},
			fzSeed{body: "password=" + strings.Repeat("p", 1100) + "&password_confirm=x", method: 1}))
}

// FuzzRegister: self-registration.
func FuzzRegister(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: "/register", contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{body: "email=pat%40example.org&given_name=Pat&family_name=Lee&locale=en&password=" + fzNewPass +
			"&password_confirm=" + fzNewPass, method: 1},
			fzSeed{body: "email=" + url.QueryEscape(fzEmail) + "&given_name=A&family_name=B&password=" + fzNewPass +
				"&password_confirm=" + fzNewPass, method: 1},
			fzSeed{body: "email=x&given_name=%00&family_name=" + strings.Repeat("n", 500) +
				"&locale=xx&password=a&password_confirm=b", method: 1},
			fzSeed{body: "email=pat%40example.org&locale=fr&return_to=" + fzPosReturn, method: 1}))
}

// FuzzActivate: the page of an activation or invitation link and its form.
func FuzzActivate(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: "/activate", contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{query: "token=$INVITE"},
			fzSeed{body: "token=$INVITE&password=" + fzNewPass + "&password_confirm=" + fzNewPass, method: 1},
			fzSeed{body: "token=$INVITE", method: 1},
			fzSeed{body: "token=$RESET&password=" + fzNewPass + "&password_confirm=" + fzNewPass, method: 1},
			fzSeed{query: "token="}, fzSeed{body: "token=%FF&password=x", method: 1}))
}

// FuzzActivateResend: the page that sends an activation email again.
func FuzzActivateResend(f *testing.F) {
	fuzzEndpoint(f, fzEndpoint{methods: fzGetPost, path: "/activate/resend", contentType: fzForm, check: checkPageAnswer},
		fzWith(fzSeed{method: 1}, fzSeed{body: "return_to=%2Fx", method: 1}))
}

// FuzzAccountPage: the account page and each of its forms (the input
// chooses one).
func FuzzAccountPage(f *testing.F) {
	u := newFzForms(f)
	paths := []string{"/account", "/account/password", "/account/recovery-codes", "/account/2fa/disable", "/account/sessions/end"}
	for _, s := range fzWith(fzSeed{body: "current_password=" + fzThisPass + "&password=" + fzNewPass + "&password_confirm=" + fzNewPass},
		fzSeed{body: "current_password=wrong&password=" + fzNewPass + "&password_confirm=" + fzNewPass},
		fzSeed{body: "current_password=" + fzThisPass + "&password=x&password_confirm=y"}, fzSeed{body: "code=123456"}) {
		for p := range uint8(len(paths)) {
			for st := range uint8(fzStateCount) {
				f.Add(s.body, st, p)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body string, state, p uint8) {
		path := paths[int(p)%len(paths)]
		method := http.MethodPost
		if path == "/account" {
			method = http.MethodGet
		}
		h := http.Header{"Content-Type": {fzForm}}
		if c := u.cookie(t, int(state)%fzStateCount); c != nil {
			h.Set("Cookie", c.String())
		}
		r, err := u.serve(fzRequest{method: method, path: "/institutions/demo" + path, body: u.fillForms(t, body), header: h})
		if err != nil {
			t.Fatal(err)
		}
		checkCommon(t, method+" "+path, r, u.logs.take())
		checkPageAnswer(t, r)
	})
}

// fzAdminOps are the operations of the admin API.
var fzAdminOps = []struct{ method, path string }{
	{http.MethodGet, "/accounts"}, {http.MethodPost, "/accounts"}, {http.MethodGet, "/accounts/$SUBJECT"},
	{http.MethodPatch, "/accounts/$SUBJECT"}, {http.MethodPost, "/accounts/$SUBJECT/disable"}, {http.MethodPost, "/accounts/$SUBJECT/enable"},
	{http.MethodPost, "/accounts/$SUBJECT/unlock"}, {http.MethodPost, "/accounts/$SUBJECT/password-reset"},
	{http.MethodPost, "/accounts/$SUBJECT/invitation"}, {http.MethodPut, "/accounts/$SUBJECT/password"},
	{http.MethodPut, "/accounts/$SUBJECT/two-factor"}, {http.MethodDelete, "/accounts/$SUBJECT/two-factor"},
	{http.MethodGet, "/accounts/$SUBJECT/events"}, {http.MethodGet, "/settings"}, {http.MethodPatch, "/settings"},
	{http.MethodGet, "/documents"}, {http.MethodGet, "/accounts/nope"}, {http.MethodPatch, "/accounts/%00"},
}

// FuzzAdminAPI sends a query and a JSON body to each operation of the admin
// API (the input chooses it) with a token that has every admin scope (or
// another Authorization): never a 5xx, always JSON.
func FuzzAdminAPI(f *testing.F) {
	u := newFzForms(f)
	bodies := []string{"", "{}", "null", "[]", `{"kind":`, `{"kind": "customer", "email": "x@example.org"}`,
		`{"kind": "customer", "email": "y@example.org", "invite": {"point_of_sale": "` + fzPosID + `"}}`,
		`{"kind": 1, "email": true, "email_verified": "yes"}`, `{"external_ref": "a\u0007b"}`, `{"external_ref": "x"}`,
		`{"given_name": "` + strings.Repeat("g", 300) + `"}`, `{"point_of_sale": "` + fzPosID + `"}`, `{"point_of_sale": 5}`,
		`{"password": "Another-passw0rd!"}`, `{"password": 5, "temporary": "no"}`, `{"required": true}`, `{"required": "yes"}`,
		`{"two_factor": true}`, `{"reset_link_lifetime_minutes": 9223372036854775807}`, `{"password_policy": [], "manual_password": 1}`,
		`{"temporary_password_lifetime_minutes": 0, "password_policy": {"min_length": 4}}`, `{"invitation_email": "welcome"}`,
		`{"a":1,"a":2}`, `{"email": "\ud800@example.org"}`, "\xff\xfe", `{"kind":"customer","email":"z@example.org"}garbage`,
		`{"password_policy": {"min_length": 1e308}}`, `{"status": "disabled"}`}
	queries := []string{"", "limit=1", "limit=-1", "limit=99999999999999999999", "cursor=%zz", "email=ann%40example.org",
		"external_ref=x", "status=locked", "before=x&limit=0"}
	for i, b := range bodies {
		for op := range uint8(len(fzAdminOps)) {
			f.Add(queries[i%len(queries)], b, "Bearer $ADMIN", op)
		}
	}
	f.Add("", "{}", "Bearer not-a-token", uint8(1))
	f.Add("", "{}", "Basic !!!", uint8(3))
	f.Add("", "{}", "", uint8(0))
	f.Fuzz(func(t *testing.T, query, body, auth string, op uint8) {
		if strings.ContainsAny(query, " #\t") || !fzValidHeaderValue(query) || !fzValidHeaderValue(auth) {
			t.Skip("not a request a server accepts")
		}
		o := fzAdminOps[int(op)%len(fzAdminOps)]
		h := http.Header{"Content-Type": {"application/json"}}
		if auth = u.fillForms(t, auth); auth != "" {
			h.Set("Authorization", auth)
		}
		path := "/institutions/demo/admin/v1" + strings.ReplaceAll(o.path, "$SUBJECT", u.subject)
		r, err := u.serve(fzRequest{method: o.method, path: path, rawQuery: u.fillForms(t, query), body: u.fillForms(t, body), header: h})
		if err != nil {
			t.Fatal(err)
		}
		checkCommon(t, o.method+" "+o.path, r, u.logs.take())
		checkJSONAnswer(t, r)
	})
}
