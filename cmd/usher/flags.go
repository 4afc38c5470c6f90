package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// flags is a command's flag set plus the flags every command shares, and
// --institution for the commands about one institution.
type flags struct {
	*flag.FlagSet
	config      string
	dev         bool
	institution string
}

func newFlags(name string) *flags {
	fs := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(io.Discard) // errors are returned, not printed
	fs.StringVar(&fs.config, "config", "", "configuration file (YAML)")
	fs.BoolVar(&fs.dev, "dev", false, "development mode: SQLite in ./usher-dev.db, no configuration needed")
	return fs
}

// withInstitution declares --institution, the slug of the institution the
// command is about; cli.inInstitution finds it.
func (fs *flags) withInstitution() *flags {
	fs.StringVar(&fs.institution, "institution", "", "institution slug (required)")
	return fs
}

// parse parses args, allowing flags after positional arguments
// ("institution create demo --name Demo"), and returns the positional ones.
// want is how many positional arguments the command takes.
func (fs *flags) parse(args []string, want int) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usageErr("usher %s: flags: %s", fs.Name(), fs.describe())
			}
			return nil, usageErr("usher %s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if len(positional) != want {
		return nil, usageErr("usher %s: want %d argument(s), got %d", fs.Name(), want, len(positional))
	}
	return positional, nil
}

func (fs *flags) describe() string {
	var list []string
	fs.VisitAll(func(f *flag.Flag) { list = append(list, "--"+f.Name) })
	return strings.Join(list, " ")
}

// isSet reports whether the flag was given.
func (fs *flags) isSet(name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// strings is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// onOff is a flag taking "on" or "off"; it stays nil unless given.
type onOff struct{ v *bool }

func (o *onOff) String() string {
	if o.v == nil {
		return ""
	}
	if *o.v {
		return "on"
	}
	return "off"
}

func (o *onOff) Set(s string) error {
	switch s {
	case "on", "true", "yes":
		b := true
		o.v = &b
	case "off", "false", "no":
		b := false
		o.v = &b
	default:
		return fmt.Errorf("want on or off, got %q", s)
	}
	return nil
}

// optDuration is a duration flag that stays nil unless given.
type optDuration struct{ v *time.Duration }

func (o *optDuration) String() string {
	if o.v == nil {
		return ""
	}
	return o.v.String()
}

func (o *optDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 30m or 48h, got %q", s)
	}
	o.v = &d
	return nil
}

// optInt is an int flag that stays nil unless given.
type optInt struct{ v *int }

func (o *optInt) String() string {
	if o.v == nil {
		return ""
	}
	return fmt.Sprint(*o.v)
}

func (o *optInt) Set(s string) error {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		return fmt.Errorf("want a number, got %q", s)
	}
	o.v = &n
	return nil
}

func sortStrings(s []string) { sort.Strings(s) }
