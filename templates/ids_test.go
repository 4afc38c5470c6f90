package templates

import (
	"go/ast"
	"go/parser"
	"go/token"
	htmltemplate "html/template"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	texttemplate "text/template"
	"text/template/parse"
)

// messageID is what a literal message id looks like in Go code.
var messageID = regexp.MustCompile(`^(error|signin|password_change|consent|scope|logout|signed_out|account|form|institution|admin)\.[a-z_.]+$`)

// Every message id that the Go code of the pages' users (flows, provider)
// names literally is in the catalogue: a missing one would show as its id.
func TestCodeUsesKnownMessageIDs(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"../flows", "../flows/admin", "../provider"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, name := range files {
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err == nil && messageID.MatchString(s) && !c.Has(s) {
					t.Errorf("%s: unknown message id %q", fset.Position(lit.Pos()), s)
				}
				return true
			})
		}
	}
}

// A template that names a message id the catalogue lacks is refused, with
// every unknown id named once, whichever kind of template names it.
func TestTemplatesRefuseUnknownMessageIDs(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	page := htmltemplate.Must(htmltemplate.New("p").Funcs(htmltemplate.FuncMap{"t": func(string) string { return "" }}).
		Parse(`{{t "signin.title"}}{{t "nope.b"}}{{t "nope.a"}}`))
	subject := texttemplate.Must(texttemplate.New("s").Funcs(texttemplate.FuncMap{"t": func(string) string { return "" }}).
		Parse(`{{t "nope.a"}}`))
	err = checkMessageIDs(c, []*parse.Tree{page.Tree, subject.Tree})
	if err == nil || err.Error() != "unknown message ids: nope.a, nope.b" {
		t.Errorf("want both unknown ids named once, got %v", err)
	}
	known := htmltemplate.Must(htmltemplate.New("k").Funcs(htmltemplate.FuncMap{"t": func(string) string { return "" }}).
		Parse(`{{t "signin.title"}}`))
	if err := checkMessageIDs(c, []*parse.Tree{known.Tree, nil}); err != nil {
		t.Errorf("known ids refused: %v", err)
	}
}
