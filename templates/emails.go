package templates

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	texttemplate "text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// The emails live in emails/:
//
//	layout.txt           the text part's frame ("layout") and "greeting"
//	layout.html          the HTML part's frame ("layout"), "greeting", "paragraph", "action"
//	CLASS.subject.txt    the subject (text/template)
//	CLASS.txt            the text part's "content" (text/template)
//	CLASS.html           the HTML part's "content" (html/template)
//
// An institution's override of a class in a locale replaces any of the last
// three, and is drawn the same way: a body is the "content" of the layout.
//
//go:embed emails/*.txt emails/*.html
var emailFiles embed.FS

// Limits of what an email template may produce.
const (
	maxSubjectRunes  = 200      // a longer subject is cut, with an ellipsis
	maxEmailPartSize = 64 << 10 // bytes of an override's part
)

// EmailSource is the source of an email's templates: the subject
// (text/template), the text body and the HTML body (html/template, escaped
// by context), each body being the "content" drawn inside the layout. In an
// override, an empty part keeps the built-in one.
type EmailSource struct {
	Subject string
	Text    string
	HTML    string
}

// RenderedEmail is an email drawn for one recipient.
type RenderedEmail struct {
	Locale  string
	Subject string // one line, without control characters
	Text    string // the text/plain part, lines ending in \n
	HTML    string // the text/html part
}

// TemplateError is a template that does not parse or does not render: Part
// is "subject", "text" or "html", Err the parser's or executor's message.
type TemplateError struct {
	Part string
	Err  error
}

func (e *TemplateError) Error() string { return e.Part + ": " + e.Err.Error() }

func (e *TemplateError) Unwrap() error { return e.Err }

// Emails renders the email documents. Build it once with NewEmails and
// share it: it is safe for concurrent use.
type Emails struct {
	catalog *Catalog
	limits  emailLimits
	sources map[EmailClass]EmailSource
	layouts map[string]emailLayouts                  // locale → layouts, never executed (cloned)
	builtin map[string]map[EmailClass]*emailPrepared // locale → class → parsed templates

	// overrides holds the overrides Render parsed, by locale and content: an
	// institution's override is drawn for every email of its class, and
	// parsing it (html/template escapes a set at its first execution) costs
	// more than drawing it. A changed override is another key.
	mu        sync.Mutex
	overrides map[overrideKey]*emailPrepared
}

type overrideKey struct {
	locale string
	src    EmailSource
}

// maxCachedOverrides bounds Emails.overrides; past it, the cache starts
// again.
const maxCachedOverrides = 100

type emailLayouts struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// emailPrepared is one class parsed in one locale.
type emailPrepared struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// NewEmails parses every built-in email in every locale of c and renders
// each with its sample document. A missing file, a template that does not
// parse or render, or a message id that the catalogue does not know is an
// error.
func NewEmails(c *Catalog) (*Emails, error) {
	return newEmails(c, emailFiles)
}

func newEmails(c *Catalog, fsys fs.FS) (*Emails, error) {
	e := &Emails{catalog: c, limits: defaultEmailLimits(), sources: map[EmailClass]EmailSource{},
		layouts: map[string]emailLayouts{}, builtin: map[string]map[EmailClass]*emailPrepared{},
		overrides: map[overrideKey]*emailPrepared{}}
	for _, class := range EmailClasses() {
		src, err := readEmailSource(fsys, class)
		if err != nil {
			return nil, err
		}
		e.sources[class] = src
	}
	textLayout, err := fs.ReadFile(fsys, "emails/layout.txt")
	if err != nil {
		return nil, fmt.Errorf("emails: %w", err)
	}
	htmlLayout, err := fs.ReadFile(fsys, "emails/layout.html")
	if err != nil {
		return nil, fmt.Errorf("emails: %w", err)
	}
	for _, locale := range c.Locales() {
		if err := e.prepareLocale(locale, string(textLayout), string(htmlLayout)); err != nil {
			return nil, err
		}
	}
	return e, e.checkBuiltin()
}

func readEmailSource(fsys fs.FS, class EmailClass) (EmailSource, error) {
	var parts [3]string
	for i, suffix := range []string{".subject.txt", ".txt", ".html"} {
		b, err := fs.ReadFile(fsys, "emails/"+string(class)+suffix)
		if err != nil {
			return EmailSource{}, fmt.Errorf("email %s: %w", class, err)
		}
		parts[i] = string(b)
	}
	return EmailSource{Subject: parts[0], Text: parts[1], HTML: parts[2]}, nil
}

// prepareLocale parses the layouts and every built-in class bound to locale.
func (e *Emails) prepareLocale(locale, textLayout, htmlLayout string) error {
	funcs := e.funcs(locale)
	text, err := texttemplate.New("layout.txt").Funcs(funcs).Parse(textLayout)
	if err != nil {
		return fmt.Errorf("emails: layout.txt: %w", err)
	}
	html, err := htmltemplate.New("layout.html").Funcs(htmltemplate.FuncMap(funcs)).Parse(htmlLayout)
	if err != nil {
		return fmt.Errorf("emails: layout.html: %w", err)
	}
	for _, name := range []string{"layout", "greeting"} {
		if text.Lookup(name) == nil || html.Lookup(name) == nil {
			return fmt.Errorf("emails: the layouts must define %q", name)
		}
	}
	layouts := emailLayouts{text: text, html: html}
	e.layouts[locale] = layouts
	e.builtin[locale] = map[EmailClass]*emailPrepared{}
	for class, src := range e.sources {
		p, err := e.parse(locale, src)
		if err != nil {
			return fmt.Errorf("email %s (%s): %w", class, locale, err)
		}
		e.builtin[locale][class] = p
	}
	return nil
}

// parse parses the parts of src that are not empty, bound to locale.
func (e *Emails) parse(locale string, src EmailSource) (*emailPrepared, error) {
	layouts := e.layouts[locale]
	funcs := e.funcs(locale)
	p := &emailPrepared{}
	var err error
	if src.Subject != "" {
		if p.subject, err = texttemplate.New("subject").Funcs(funcs).Parse(src.Subject); err != nil {
			return nil, &TemplateError{"subject", err}
		}
		if err := checkBounded(textTrees(p.subject), e.limits.steps); err != nil {
			return nil, &TemplateError{"subject", err}
		}
	}
	if src.Text != "" {
		t, err := layouts.text.Clone()
		if err == nil {
			_, err = t.New("content").Parse(src.Text)
		}
		if err == nil {
			err = checkBounded(textTrees(t), e.limits.steps)
		}
		if err != nil {
			return nil, &TemplateError{"text", err}
		}
		p.text = t
	}
	if src.HTML != "" {
		t, err := layouts.html.Clone()
		if err == nil {
			_, err = t.New("content").Parse(src.HTML)
		}
		if err == nil {
			err = checkBounded(htmlTrees(t), e.limits.steps)
		}
		if err != nil {
			return nil, &TemplateError{"html", err}
		}
		p.html = t
	}
	return p, nil
}

// textTrees and htmlTrees return the parse trees of a set, by name.
func textTrees(t *texttemplate.Template) map[string]*parse.Tree {
	trees := map[string]*parse.Tree{}
	for _, x := range t.Templates() {
		trees[x.Name()] = x.Tree
	}
	return trees
}

func htmlTrees(t *htmltemplate.Template) map[string]*parse.Tree {
	trees := map[string]*parse.Tree{}
	for _, x := range t.Templates() {
		trees[x.Name()] = x.Tree
	}
	return trees
}

// checkBuiltin checks the message ids of the built-in templates and renders
// every class in every locale with its sample document.
func (e *Emails) checkBuiltin() error {
	for _, locale := range e.catalog.Locales() {
		for _, class := range EmailClasses() {
			p := e.builtin[locale][class]
			var trees []*parse.Tree
			for _, t := range append(p.subject.Templates(), p.text.Templates()...) {
				trees = append(trees, t.Tree)
			}
			for _, t := range p.html.Templates() {
				trees = append(trees, t.Tree)
			}
			if err := checkMessageIDs(e.catalog, trees); err != nil {
				return fmt.Errorf("email %s: %w", class, err)
			}
			if _, err := e.render(locale, sampleFrame(locale), SampleEmail(class, "https://id.example.org/institutions/sample"), p, time.Time{}, nil); err != nil {
				return fmt.Errorf("email %s (%s): %w", class, locale, err)
			}
		}
	}
	return nil
}

// Locale returns the first locale of tags (BCP 47: "fr-CH" gives "fr") that
// emails are written in, or DefaultLocale.
func (e *Emails) Locale(tags ...string) string {
	for _, tag := range tags {
		if l := e.catalog.Match(tag); l != "" {
			return l
		}
	}
	return DefaultLocale
}

// Source returns the built-in templates of a class: what an override
// replaces, and a start for writing one.
func (e *Emails) Source(class EmailClass) (EmailSource, bool) {
	src, ok := e.sources[class]
	return src, ok
}

// Render draws doc for the recipient of frame in frame.Locale (another
// supported locale is matched, anything else is DefaultLocale). Parts of
// override that are not empty replace the built-in ones; override may be
// nil.
//
// An override is bounded (see emailbounds.go): a part longer than 1 MiB, a
// render longer than a second, or a template that could loop without
// writing (range, recursion, too many steps) is a *TemplateError, returned
// within the second.
func (e *Emails) Render(frame EmailFrame, doc Email, override *EmailSource) (RenderedEmail, error) {
	if doc == nil || !doc.Class().Valid() {
		return RenderedEmail{}, errors.New("emails: render: not a document of a known class")
	}
	locale := e.Locale(frame.Locale)
	frame.Locale = locale
	p := e.builtin[locale][doc.Class()]
	if override == nil {
		return e.render(locale, frame, doc, p, time.Time{}, nil)
	}
	custom, err := e.parseOverride(locale, *override)
	if err != nil {
		return RenderedEmail{}, err
	}
	return e.renderWithin(locale, frame, doc, mergePrepared(custom, p))
}

// parseOverride is parse, done once for each override.
func (e *Emails) parseOverride(locale string, src EmailSource) (*emailPrepared, error) {
	key := overrideKey{locale, src}
	e.mu.Lock()
	p, ok := e.overrides[key]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := e.parse(locale, src)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.overrides) >= maxCachedOverrides {
		clear(e.overrides)
	}
	e.overrides[key] = p
	return p, nil
}

// Check parses the parts of src that are not empty, as an override of class
// in locale, and renders them with the class's sample document, within the
// bounds of Render: the *TemplateError says what is wrong. An override that
// passes renders for every document of the class.
func (e *Emails) Check(class EmailClass, locale string, src EmailSource) error {
	if !class.Valid() {
		return fmt.Errorf("unknown email class %q", class)
	}
	if e.catalog.Match(locale) != locale {
		return fmt.Errorf("unsupported locale %q (supported: %s)", locale, strings.Join(e.catalog.Locales(), ", "))
	}
	for part, s := range map[string]string{"subject": src.Subject, "text": src.Text, "html": src.HTML} {
		if len(s) > maxEmailPartSize {
			return &TemplateError{part, fmt.Errorf("longer than %d bytes", maxEmailPartSize)}
		}
		if !utf8.ValidString(s) {
			return &TemplateError{part, errors.New("not valid UTF-8")}
		}
	}
	if src == (EmailSource{}) {
		return errors.New("an override needs at least one of subject, text and html")
	}
	custom, err := e.parse(locale, src)
	if err != nil {
		return err
	}
	// Every variant of the sample: optional fields present and absent.
	p := mergePrepared(custom, e.builtin[locale][class])
	anonymous := sampleFrame(locale)
	anonymous.RecipientName = ""
	for _, doc := range sampleVariants(class) {
		for _, frame := range []EmailFrame{sampleFrame(locale), anonymous} {
			if _, err := e.renderWithin(locale, frame, doc, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergePrepared takes the parts of custom that are set, the others from base.
func mergePrepared(custom, base *emailPrepared) *emailPrepared {
	p := *base
	if custom.subject != nil {
		p.subject = custom.subject
	}
	if custom.text != nil {
		p.text = custom.text
	}
	if custom.html != nil {
		p.html = custom.html
	}
	return &p
}

// render executes p for doc, each part into a buffer of at most the output
// limit that refuses writes past deadline (zero: none). It records in part
// (nil: nowhere) the part it is drawing.
func (e *Emails) render(locale string, frame EmailFrame, doc Email, p *emailPrepared, deadline time.Time,
	part *atomic.Value) (RenderedEmail, error) {
	frame.Locale = locale
	buf := &boundedBuffer{max: e.limits.output, deadline: deadline}
	if err := p.subject.Execute(buf, doc.withFrame(frame)); err != nil {
		return RenderedEmail{}, &TemplateError{"subject", err}
	}
	subject := cleanSubject(buf.String())
	if subject == "" {
		return RenderedEmail{}, &TemplateError{"subject", errors.New("the subject is empty")}
	}
	frame.Subject = subject
	data := doc.withFrame(frame)
	buf.Reset()
	if part != nil {
		part.Store("text")
	}
	if err := p.text.ExecuteTemplate(buf, "layout", data); err != nil {
		return RenderedEmail{}, &TemplateError{"text", err}
	}
	text := cleanBody(buf.String())
	buf.Reset()
	if part != nil {
		part.Store("html")
	}
	if err := p.html.ExecuteTemplate(buf, "layout", data); err != nil {
		return RenderedEmail{}, &TemplateError{"html", err}
	}
	return RenderedEmail{Locale: locale, Subject: subject, Text: text, HTML: cleanBody(frame.Brand.paint(buf.String()))}, nil
}

// cleanSubject makes the subject one line of single spaces, without control
// characters, at most maxSubjectRunes long.
func cleanSubject(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029
	}), " ")
	if utf8.RuneCountInString(s) > maxSubjectRunes {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:maxSubjectRunes-1])) + "…"
	}
	return s
}

// cleanBody normalises a body: \n line endings, no trailing spaces, at most
// one blank line in a row, no blank line at either end, a final newline.
func cleanBody(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := true // drop leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n") + "\n"
}

// emailAction is what the "action" template draws: a button and the link
// written out.
type emailAction struct {
	URL   string
	Label string
}

// funcs returns the template functions of one locale's emails:
//
//	t ID [KEY VALUE ...]    the message ID of the catalogue, as in pages
//	locale                  the locale the email is written in
//	duration D              a time.Duration in words: "48 hours", "7 days"
//	datetime T              a time.Time, in UTC, written the locale's way
//	action URL LABEL        the argument of the "action" template (HTML)
//
// The built-in functions that build strings are replaced by capped ones
// (cappedFuncs), and t's result is capped the same way.
func (e *Emails) funcs(locale string) texttemplate.FuncMap {
	f := cappedFuncs(e.limits.output)
	for name, fn := range e.catalog.funcs(locale) {
		f[name] = fn
	}
	if t, ok := f["t"].(func(string, ...any) (string, error)); ok {
		f["t"] = func(id string, args ...any) (string, error) {
			s, err := t(id, args...)
			if err != nil {
				return "", err
			}
			return capString("t", s, e.limits.output)
		}
	}
	f["duration"] = func(d time.Duration) string { return e.duration(locale, d) }
	f["datetime"] = func(t time.Time) string { return formatDateTime(locale, t) }
	f["action"] = func(url, label string) emailAction { return emailAction{URL: url, Label: label} }
	return f
}

// duration writes d in words, in the largest unit that divides it.
func (e *Emails) duration(locale string, d time.Duration) string {
	unit, n := "minute", int64(d/time.Minute)
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		unit, n = "day", int64(d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		unit, n = "hour", int64(d/time.Hour)
	}
	if n == 1 {
		return e.catalog.Message(locale, "email.duration."+unit, nil)
	}
	return e.catalog.Message(locale, "email.duration."+unit+"s", map[string]string{"n": strconv.FormatInt(n, 10)})
}

// dateTimeLayouts write a moment in UTC the way each locale does.
var dateTimeLayouts = map[string]string{
	"en": "2 Jan 2006, 15:04 UTC",
	"fr": "02/01/2006 à 15:04 UTC",
	"de": "02.01.2006 um 15:04 UTC",
	"it": "02/01/2006 alle 15:04 UTC",
}

func formatDateTime(locale string, t time.Time) string {
	layout, ok := dateTimeLayouts[locale]
	if !ok {
		layout = "2006-01-02 15:04 UTC"
	}
	return t.UTC().Format(layout)
}

// sampleFrame is the frame of the sample documents.
func sampleFrame(locale string) EmailFrame {
	return EmailFrame{Locale: locale, Institution: "City Opera", RecipientName: "Ann Lee",
		RecipientEmail: "ann.lee@example.org"}
}

// sampleVariants returns the sample of class with every optional field set,
// and with them all empty, so that a check sees both branches of an if.
func sampleVariants(class EmailClass) []Email {
	full := SampleEmail(class, "https://id.example.org/institutions/sample")
	switch d := full.(type) {
	case AccountActivationEmail:
		d.PointOfSale = ""
		return []Email{full, d}
	case AccountActivatedEmail:
		d.PointOfSale, d.PointOfSaleURL = "", ""
		return []Email{full, d}
	case AccountInvitationEmail:
		d.PointOfSale = ""
		return []Email{full, d}
	case PasswordResetEmail:
		d.PointOfSale, d.ByOperator = "", !d.ByOperator
		return []Email{full, d}
	case PasswordResetDoneEmail:
		d.PointOfSale, d.PointOfSaleURL = "", ""
		return []Email{full, d}
	case PasswordChangedEmail:
		d.Temporary, d.ValidFor = false, 0
		return []Email{full, d}
	case TwoFactorRemovedEmail:
		d.ByOperator = !d.ByOperator
		return []Email{full, d}
	}
	return []Email{full}
}
