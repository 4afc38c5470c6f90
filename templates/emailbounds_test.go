package templates

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// exponential defines n templates, each calling the next twice: few bytes,
// 2^n calls, and not a byte written.
func exponential(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{{define "t%d"}}{{template "t%d" .}}{{template "t%d" .}}{{end}}`, i, i+1, i+1)
	}
	fmt.Fprintf(&b, `{{define "t%d"}}{{end}}{{template "t0" .}}`, n)
	return b.String()
}

// An override that could run without bound is refused when it is checked,
// with the reason, whether it writes (the output cap) or not (no range, no
// recursion, a bounded number of steps, capped string functions).
func TestEmailOverrideBounded(t *testing.T) {
	e, _ := newTestEmails(t)
	huge := `{{printf "%0999999d" 1}}`
	cases := []struct {
		name string
		src  EmailSource
		part string
		want string
	}{
		{"range over an integer", EmailSource{Text: `{{range 1000000000000}}{{end}}`}, "text", "range is not allowed"},
		{"range over a duration", EmailSource{HTML: `{{range .ValidFor}}{{end}}`}, "html", "range is not allowed"},
		{"range in the subject", EmailSource{Subject: `{{range 5}}x{{end}}`}, "subject", "range is not allowed"},
		{"recursion", EmailSource{Text: `{{define "loop"}}{{template "loop" .}}{{end}}{{template "loop" .}}`},
			"text", `template "loop" calls itself`},
		{"recursion through the layout", EmailSource{HTML: `{{template "layout" .}}`}, "html", "calls itself"},
		{"recursion through a string", EmailSource{Text: `{{define "s"}}{{if .}}{{template "s" slice . 1}}{{template "s" slice . 1}}{{end}}{{end}}{{template "s" .Link}}`},
			"text", "calls itself"},
		{"exponential calls", EmailSource{Text: exponential(30)}, "text", "more than 10000 steps"},
		{"output too long", EmailSource{HTML: huge + huge}, "html", "too long (more than 1048576 bytes)"},
		{"subject too long", EmailSource{Subject: huge + huge}, "subject", "too long"},
		{"doubling without writing", EmailSource{Text: `{{$x := printf "%0600000d" 1}}{{$x = printf "%s%s" $x $x}}`},
			"text", "printf: the rendered part is too long"},
		{"escaping without writing", EmailSource{Text: `{{$x := printf "%0300000d" 1}}{{$x = urlquery (urlquery "%" $x) $x $x $x}}`},
			"text", "urlquery: the rendered part is too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := e.Check(ClassPasswordReset, "en", c.src)
			var te *TemplateError
			if !errors.As(err, &te) || te.Part != c.part || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error of part %s mentioning %q, got %v", c.part, c.want, err)
			}
			// Render refuses it too (an override stored before the check).
			if _, err := e.Render(sampleFrame("en"), SampleEmail(ClassPasswordReset, "https://x.example"), &c.src); err == nil {
				t.Fatal("Render drew it")
			}
		})
	}
	// What the built-in functions build below the cap still works.
	ok := EmailSource{Text: `{{printf "%s-%d" .Institution 3}} {{print "a" 1}} {{html "<"}} {{js "'"}} {{urlquery "a b"}}`}
	r, err := e.Render(sampleFrame("en"), SampleEmail(ClassPasswordReset, "https://x.example"), &ok)
	if err != nil || !strings.Contains(r.Text, "City Opera-3 a1 &lt; \\' a+b") {
		t.Fatalf("capped functions: %q, %v", r.Text, err)
	}
}

// A render that takes too long is abandoned at the time limit, and the
// goroutine drawing it stops at its next write.
func TestEmailOverrideTimeLimit(t *testing.T) {
	e, _ := newTestEmails(t)
	// Far above what the other parts take even on a loaded machine under
	// -race (20 ms was not), far below what the slow text takes.
	e.limits.time = 250 * time.Millisecond
	// Each step builds ~900 kB without writing: a thousand of them take
	// about a second, within the step limit.
	slow := EmailSource{Text: strings.Repeat(`{{$x := printf "%0900000d" 1}}`, 1000) + "x"}
	started := time.Now()
	_, err := e.Render(sampleFrame("en"), SampleEmail(ClassPasswordReset, "https://x.example"), &slow)
	var te *TemplateError
	if !errors.As(err, &te) || te.Part != "text" || !errors.Is(err, errRenderTooSlow) {
		t.Fatalf("want the text part refused as too slow, got %v", err)
	}
	if took := time.Since(started); took > 5*time.Second { // a guard, not a measure
		t.Fatalf("the caller waited %s", took)
	}
	if err := e.Check(ClassPasswordReset, "en", slow); !errors.Is(err, errRenderTooSlow) {
		t.Fatalf("check: want too slow, got %v", err)
	}
}

// The built-in templates keep far below the step limit.
func TestBuiltinEmailsWithinBounds(t *testing.T) {
	e, c := newTestEmails(t)
	for _, locale := range c.Locales() {
		for class, p := range e.builtin[locale] {
			if err := checkBounded(htmlTrees(p.html), maxEmailSteps/20); err != nil {
				t.Errorf("%s.%s html: %v", class, locale, err)
			}
			if err := checkBounded(textTrees(p.text), maxEmailSteps/20); err != nil {
				t.Errorf("%s.%s text: %v", class, locale, err)
			}
		}
	}
}
