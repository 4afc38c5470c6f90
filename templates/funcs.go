package templates

import (
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"text/template/parse"
	"time"
)

// funcs returns the template functions of one locale:
//
//	t ID                    the message ID of the catalogue
//	t ID KEY VALUE ...      the same, each {KEY} replaced by VALUE
//	t ID MAP                the same, with a map[string]string of values
//	locale                  the locale the page is drawn in
//	asset NAME              the URL of a static file, with its content hash (pages only)
//
// Pages show text only through t: templates hold no words of their own.
func (c *Catalog) funcs(locale string) template.FuncMap {
	return template.FuncMap{
		"t": func(id string, args ...any) (string, error) {
			values, err := messageArgs(args)
			if err != nil {
				return "", fmt.Errorf("t %q: %w", id, err)
			}
			return c.Message(locale, id, values), nil
		},
		"locale":   func() string { return locale },
		"datetime": func(t time.Time) string { return formatDateTime(locale, t) },
	}
}

// placeholderFuncs declares the functions of funcs for parsing; each set is
// bound to a locale before it runs.
func placeholderFuncs() template.FuncMap {
	return template.FuncMap{
		"t":        func(string, ...any) (string, error) { return "", errors.New("templates: t is not bound to a locale") },
		"locale":   func() string { return DefaultLocale },
		"datetime": func(time.Time) string { return "" },
		"asset":    func(name string) string { return StaticPrefix + name },
	}
}

// messageArgs turns t's arguments into the values of a message.
func messageArgs(args []any) (map[string]string, error) {
	if len(args) == 1 {
		if m, ok := args[0].(map[string]string); ok {
			return m, nil
		}
	}
	if len(args)%2 != 0 {
		return nil, errors.New("arguments must be pairs of key and value")
	}
	values := make(map[string]string, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		key, ok := args[i].(string)
		if !ok {
			return nil, fmt.Errorf("key %v is not a string", args[i])
		}
		values[key] = fmt.Sprint(args[i+1])
	}
	return values, nil
}

// checkMessageIDs reports every literal message id that the templates of
// trees pass to the t function and that the catalogue does not know.
func checkMessageIDs(c *Catalog, trees []*parse.Tree) error {
	var unknown []string
	for _, tree := range trees {
		if tree == nil {
			continue
		}
		for _, id := range messageIDs(tree.Root) {
			if !c.Has(id) && !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("unknown message ids: %s", strings.Join(unknown, ", "))
}

// messageIDs returns the string literals passed as first argument to t in
// the tree under n.
func messageIDs(n parse.Node) []string {
	var ids []string
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, cmd := range n.Cmds {
					walk(cmd)
				}
			}
		case *parse.CommandNode:
			ids = append(ids, commandMessageID(n)...)
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.RangeNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.WithNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	walk(n)
	return ids
}

func walkBranch(walk func(parse.Node), b *parse.BranchNode) {
	walk(b.Pipe)
	walk(b.List)
	if b.ElseList != nil {
		walk(b.ElseList)
	}
}

// commandMessageID returns the id of a command `t "id" …`, if it is one.
func commandMessageID(n *parse.CommandNode) []string {
	if len(n.Args) < 2 {
		return nil
	}
	ident, ok := n.Args[0].(*parse.IdentifierNode)
	if !ok || ident.Ident != "t" {
		return nil
	}
	if s, ok := n.Args[1].(*parse.StringNode); ok {
		return []string{s.Text}
	}
	return nil
}
