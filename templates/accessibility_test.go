package templates

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// contractFields are the form field names of DESIGN.md (Contracts), plus
// return_to (the authorization request to resume), consent (the choice of
// the consent page), token (the secret of an emailed link) and
// current_password (the account page's change of password).
var contractFields = map[string]bool{
	"email": true, "password": true, "password_confirm": true, "code": true, "recovery_code": true,
	"given_name": true, "family_name": true, "return_to": true, "consent": true, "token": true,
	"current_password": true, "locale": true,
}

// Every rendered page parses as HTML and follows the rules of the contract
// and of accessibility that a password manager, a screen reader and a test
// suite rely on.
func TestPagesAreAccessible(t *testing.T) {
	for _, r := range renderAll(t) {
		doc, err := html.Parse(strings.NewReader(r.rec.Body.String()))
		if err != nil {
			t.Fatalf("%s.%s: %v", r.page, r.locale, err)
		}
		c := &pageCheck{t: t, name: r.page + "." + r.locale, page: r.page, ids: map[string]bool{}, labels: map[string]bool{}}
		c.walk(doc)
		c.check(r.locale)
	}
}

type pageCheck struct {
	t          *testing.T
	name, page string
	lang       string
	ids        map[string]bool // every id attribute
	labels     map[string]bool // every label's for
	inputs     []*html.Node
	describeds []string // every id named by an aria-describedby
	mains, h1s int
	alertAt    int // order of the role=alert element, 0 when none
	formAt     int // order of the first form
	order      int
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func (c *pageCheck) walk(n *html.Node) {
	if n.Type == html.ElementNode {
		c.element(n)
	}
	for child := n.FirstChild; child != nil; child = child.NextSibling {
		c.walk(child)
	}
}

func (c *pageCheck) element(n *html.Node) {
	c.order++
	for _, a := range n.Attr {
		switch {
		case a.Key == "style":
			c.t.Errorf("%s: style attribute on <%s>", c.name, n.Data)
		case strings.HasPrefix(a.Key, "on"):
			c.t.Errorf("%s: event handler %s on <%s>", c.name, a.Key, n.Data)
		case a.Key == "id":
			if c.ids[a.Val] {
				c.t.Errorf("%s: duplicate id %q", c.name, a.Val)
			}
			c.ids[a.Val] = true
		case a.Key == "aria-describedby":
			c.describeds = append(c.describeds, strings.Fields(a.Val)...)
		case a.Key == "role" && a.Val == "alert" && c.alertAt == 0:
			c.alertAt = c.order
		}
	}
	switch n.DataAtom {
	case atom.Script, atom.Style:
		c.t.Errorf("%s: <%s> element", c.name, n.Data)
	case atom.Html:
		c.lang, _ = attr(n, "lang")
	case atom.Main:
		c.mains++
	case atom.H1:
		c.h1s++
	case atom.Label:
		if f, ok := attr(n, "for"); ok {
			c.labels[f] = true
		}
	case atom.Form:
		if c.formAt == 0 {
			c.formAt = c.order
		}
	case atom.Input, atom.Button, atom.Select, atom.Textarea:
		c.inputs = append(c.inputs, n)
	}
}

func (c *pageCheck) check(locale string) {
	if c.lang != locale {
		c.t.Errorf("%s: lang %q", c.name, c.lang)
	}
	if c.mains != 1 || c.h1s != 1 {
		c.t.Errorf("%s: %d main landmarks and %d h1, want one each", c.name, c.mains, c.h1s)
	}
	if c.alertAt != 0 && c.formAt != 0 && c.alertAt > c.formAt {
		c.t.Errorf("%s: the problems come after the form", c.name)
	}
	for _, id := range c.describeds {
		if !c.ids[id] {
			c.t.Errorf("%s: aria-describedby names a missing id %q", c.name, id)
		}
	}
	for _, in := range c.inputs {
		c.checkField(in)
	}
}

// checkField checks one form control: its name, its label, its autocomplete.
func (c *pageCheck) checkField(in *html.Node) {
	name, named := attr(in, "name")
	if named && !contractFields[name] {
		c.t.Errorf("%s: field name %q is not in the contract", c.name, name)
	}
	typ, _ := attr(in, "type")
	_, notRendered := attr(in, "hidden") // for password managers only: not in the accessibility tree
	if in.DataAtom == atom.Button || typ == "hidden" || typ == "submit" || notRendered {
		return
	}
	id, _ := attr(in, "id")
	if id == "" || !c.labels[id] {
		c.t.Errorf("%s: field %q has no label", c.name, name)
	}
	if _, invalid := attr(in, "aria-invalid"); invalid {
		if d, _ := attr(in, "aria-describedby"); d == "" {
			c.t.Errorf("%s: invalid field %q does not point at its problem", c.name, name)
		}
	}
	want := map[string]string{"email": "username", "password": "new-password", "password_confirm": "new-password",
		"current_password": "current-password"}
	if c.page == pageSignIn {
		want["password"] = "current-password"
	}
	if ac, _ := attr(in, "autocomplete"); want[name] != "" && ac != want[name] {
		c.t.Errorf("%s: field %q has autocomplete %q, want %q", c.name, name, ac, want[name])
	}
	if typ == "password" || typ == "email" {
		if _, ok := want[name]; !ok {
			c.t.Errorf("%s: %s field %q has no rule for its autocomplete", c.name, typ, name)
		}
	}
}

// The sign-in page focuses its first empty field; after an error, the
// summary of the problems (issue 15: the focus lands on the error summary,
// which is focusable and first).
func TestSignInAutofocus(t *testing.T) {
	p, _ := newTestPages(t)
	for _, tt := range []struct {
		name    string
		page    SignInPage
		focused string
	}{
		{"empty", SignInPage{Frame: frame("en")}, `<input id="email"`},
		{"login_hint", SignInPage{Frame: frame("en"), Email: "ann@example.org"}, `<input id="password"`},
		{"problems", SignInPage{Frame: frame("en"), Email: "ann@example.org",
			Form: Form{Problems: []Problem{{Field: "password", ID: "signin.failed"}}}}, `<div class="problems"`},
	} {
		rec := httptest.NewRecorder()
		if err := p.SignIn(rec, http.StatusOK, tt.page); err != nil {
			t.Fatal(err)
		}
		body := rec.Body.String()
		if n := strings.Count(body, "autofocus"); n != 1 {
			t.Errorf("%s: %d elements focused, want one", tt.name, n)
		}
		i := strings.Index(body, tt.focused)
		if i < 0 || !strings.Contains(body[i:i+strings.Index(body[i:], ">")], "autofocus") {
			t.Errorf("%s: %s is not focused", tt.name, tt.focused)
		}
	}
	for _, r := range renderAll(t) {
		body := r.rec.Body.String()
		if strings.Contains(body, `class="problems"`) && strings.Count(body, "autofocus") != 1 {
			t.Errorf("%s.%s: the error summary is not the one element focused", r.page, r.locale)
		}
	}
}
