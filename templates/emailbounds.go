package templates

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	texttemplate "text/template"
	"text/template/parse"
	"time"
)

// An institution's override is code that runs in Usher: what it may cost is
// bounded, so that no template exhausts the server or holds the transaction
// of the change that queues its email.
//
//   - Output: each rendered part (and each string a template function
//     returns) is at most maxEmailOutput bytes; the writer refuses more, which
//     stops any template that writes.
//   - Time: an override renders in its own goroutine and the caller waits at
//     most emailRenderTimeout; the writer refuses to write past that
//     deadline, which stops the goroutine at its next write.
//   - Work without writing: text/template has no step limit, so what could
//     loop without writing is refused when a template is parsed (at `usher
//     template set`, and again before an override renders): `range` (the
//     email models have no lists, and a range over an integer would loop),
//     a template that calls itself directly or through others, and a call
//     tree whose expansion exceeds maxEmailSteps nodes. Without loops or
//     recursion, execution visits at most that many nodes, each bounded by
//     the output cap, so an abandoned goroutine ends on its own.
const (
	maxEmailOutput     = 1 << 20 // bytes of a rendered part, or of one function's result
	emailRenderTimeout = time.Second
	maxEmailSteps      = 10000 // nodes a part may execute, through every template it calls
)

// emailLimits are the bounds in force: the constants above, smaller in
// tests.
type emailLimits struct {
	output int
	time   time.Duration
	steps  int
}

func defaultEmailLimits() emailLimits {
	return emailLimits{output: maxEmailOutput, time: emailRenderTimeout, steps: maxEmailSteps}
}

// errOutputTooLong and errRenderTooSlow stop a render.
var (
	errOutputTooLong = errors.New("the rendered part is too long")
	errRenderTooSlow = errors.New("rendering takes too long")
)

// boundedBuffer is the writer of a render: it refuses to grow past max, or
// to write past deadline (zero: none).
type boundedBuffer struct {
	bytes.Buffer
	max      int
	deadline time.Time
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, fmt.Errorf("%w (more than %d bytes)", errOutputTooLong, b.max)
	}
	if !b.deadline.IsZero() && time.Now().After(b.deadline) {
		return 0, errRenderTooSlow
	}
	return b.Buffer.Write(p)
}

// renderResult is what a render in a goroutine hands back.
type renderResult struct {
	email RenderedEmail
	err   error
}

// renderWithin renders p in a goroutine and waits for it at most the time
// limit: the goroutine's writes stop at the same deadline, and the parse
// checks bound what it does without writing.
func (e *Emails) renderWithin(locale string, frame EmailFrame, doc Email, p *emailPrepared) (RenderedEmail, error) {
	deadline := time.Now().Add(e.limits.time)
	var part atomic.Value
	part.Store("subject")
	done := make(chan renderResult, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil { // not on the caller's stack: a panic here would end the process
				done <- renderResult{err: &TemplateError{part.Load().(string), fmt.Errorf("rendering panicked: %v", v)}}
			}
		}()
		r, err := e.render(locale, frame, doc, p, deadline, &part)
		done <- renderResult{r, err}
	}()
	timer := time.NewTimer(e.limits.time)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.email, res.err
	case <-timer.C:
		return RenderedEmail{}, &TemplateError{part.Load().(string),
			fmt.Errorf("%w (more than %s)", errRenderTooSlow, e.limits.time)}
	}
}

// checkBounded refuses a template set that could work without bound: a
// range, a template that calls itself, or more than steps nodes executed
// through the calls of any one template.
func checkBounded(trees map[string]*parse.Tree, steps int) error {
	b := &boundsCheck{trees: trees, steps: steps, cost: map[string]int{}}
	names := make([]string, 0, len(trees))
	for name := range trees {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := b.costOf(name); err != nil {
			return err
		}
	}
	return nil
}

type boundsCheck struct {
	trees map[string]*parse.Tree
	steps int
	cost  map[string]int // -1 while being computed
}

// costOf returns the nodes executing the template name visits at most.
func (b *boundsCheck) costOf(name string) (int, error) {
	switch c, ok := b.cost[name]; {
	case ok && c < 0:
		return 0, fmt.Errorf("template %q calls itself: recursion is not allowed in an email template", name)
	case ok:
		return c, nil
	}
	tree := b.trees[name]
	if tree == nil || tree.Root == nil {
		return 0, nil // not defined: executing it fails
	}
	b.cost[name] = -1
	n, err := b.nodes(tree, tree.Root)
	if err != nil {
		return 0, err
	}
	b.cost[name] = n
	return n, nil
}

// nodes returns the cost of n in tree, or an error past the step limit.
func (b *boundsCheck) nodes(tree *parse.Tree, n parse.Node) (int, error) {
	total := 1
	var children []parse.Node
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				children = append(children, c)
			}
		}
	case *parse.ActionNode:
		children = append(children, n.Pipe)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				children = append(children, c)
			}
		}
	case *parse.CommandNode:
		children = append(children, n.Args...)
	case *parse.IfNode:
		children = branchNodes(&n.BranchNode)
	case *parse.WithNode:
		children = branchNodes(&n.BranchNode)
	case *parse.RangeNode:
		loc, _ := tree.ErrorContext(n)
		return 0, fmt.Errorf("%s: range is not allowed in an email template", loc)
	case *parse.TemplateNode:
		children = append(children, n.Pipe)
		called, err := b.costOf(n.Name)
		if err != nil {
			return 0, err
		}
		total += called
	}
	for _, c := range children {
		if c == nil {
			continue
		}
		k, err := b.nodes(tree, c)
		if err != nil {
			return 0, err
		}
		total += k
		if total > b.steps {
			break
		}
	}
	if total > b.steps {
		return 0, fmt.Errorf("template %q: more than %d steps (its own nodes and those of the templates it calls)",
			tree.ParseName, b.steps)
	}
	return total, nil
}

func branchNodes(br *parse.BranchNode) []parse.Node {
	out := []parse.Node{br.Pipe, br.List}
	if br.ElseList != nil {
		out = append(out, br.ElseList)
	}
	return out
}

// cappedFuncs replaces the built-in functions that build strings (print,
// printf, println, html, js, urlquery) with the same functions refusing a
// result longer than max: without them, a template could double a
// variable's length at each step without writing anything.
func cappedFuncs(max int) texttemplate.FuncMap {
	capped := func(name string, fn func(...any) string) func(...any) (string, error) {
		return func(args ...any) (string, error) {
			return capString(name, fn(args...), max)
		}
	}
	return texttemplate.FuncMap{
		"print":    capped("print", fmt.Sprint),
		"println":  capped("println", fmt.Sprintln),
		"html":     capped("html", texttemplate.HTMLEscaper),
		"js":       capped("js", texttemplate.JSEscaper),
		"urlquery": capped("urlquery", texttemplate.URLQueryEscaper),
		"printf": func(format string, args ...any) (string, error) {
			return capString("printf", fmt.Sprintf(format, args...), max)
		},
	}
}

// capString returns s, or an error when it is longer than max.
func capString(name, s string, max int) (string, error) {
	if len(s) > max {
		return "", fmt.Errorf("%s: %w (more than %d bytes)", name, errOutputTooLong, max)
	}
	return s, nil
}
