package main

import (
	"context"

	"github.com/usher-idp/usher/storage"
)

// The preamble of the commands: each states its own flags and work, and
// these open the app, find the institution, and close the app.

// withApp opens the app for a command (open without migrating), runs fn with
// it, and closes it.
func (c *cli) withApp(ctx context.Context, fs *flags, fn func(a *app) error) error {
	a, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

// inInstitution is withApp for a command about one institution: fn also gets
// the institution that --institution names (see flags.withInstitution).
func (c *cli) inInstitution(ctx context.Context, fs *flags, fn func(a *app, inst *storage.Institution) error) error {
	return c.withApp(ctx, fs, func(a *app) error {
		inst, err := a.institution(ctx, fs.institution)
		if err != nil {
			return err
		}
		return fn(a, inst)
	})
}

// listIn is a command that lists records of the institution --institution
// names: list reads them, show prints them (as JSON with --json).
func listIn[T any](ctx context.Context, c *cli, name string, args []string,
	list func(a *app, inst *storage.Institution) ([]T, error), show func(c *cli, list []T, asJSON bool) error) error {
	fs := newFlags(name).withInstitution()
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	return c.inInstitution(ctx, fs, func(a *app, inst *storage.Institution) error {
		items, err := list(a, inst)
		if err != nil {
			return err
		}
		return show(c, items, *asJSON)
	})
}
