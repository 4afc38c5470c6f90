package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/admin"
	"github.com/usher-idp/usher/storage"
)

// usher account create --institution SLUG --kind customer|operator --email EMAIL
//
//	[--external-ref REF] (--password-stdin | --invite --point-of-sale CLIENT_ID) [--json]
func (c *cli) accountCreate(ctx context.Context, args []string) error {
	var n flows.NewAccount
	fs := newFlags("account create").withInstitution()
	kind := fs.String("kind", "", "customer or operator (required)")
	fs.StringVar(&n.Email, "email", "", "email address (required)")
	fs.StringVar(&n.GivenName, "given-name", "", "given name")
	fs.StringVar(&n.FamilyName, "family-name", "", "family name")
	fs.StringVar(&n.Locale, "locale", "", "language: en, fr, de or it (default: the institution's)")
	fs.StringVar(&n.ExternalRef, "external-ref", "", "the box office's reference for the person (unique per kind)")
	password := addPasswordFlag(fs)
	invite := fs.Bool("invite", false, "no password: email an invitation whose link asks for the first one")
	pos := fs.String("point-of-sale", "", "with --invite: the client ID of the point of sale the link returns to")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	n.Kind = storage.AccountKind(*kind)
	switch {
	case *invite && *password.given:
		return usageErr("usher account create: --invite and --password-stdin exclude each other")
	case !*invite:
		var err error
		if n.Password, err = password.read(c, fs); err != nil {
			return err
		}
	}
	return c.inInstitution(ctx, fs, func(a *app, inst *storage.Institution) error {
		var acc *storage.Account
		var err error
		if *invite {
			acc, err = a.invitations.CreateInvited(ctx, inst, n, *pos, "", flows.ActorCLI)
		} else {
			acc, err = a.accounts.Create(ctx, inst, n, flows.ActorCLI)
		}
		if err != nil {
			return fmt.Errorf("account not created: %w", a.explain(err))
		}
		if *asJSON {
			return printJSON(c.stdout, map[string]string{"id": acc.ID})
		}
		_, err = fmt.Fprintf(c.stdout, "created %s %s (%s)\n", acc.Kind, acc.Email, acc.ID)
		return err
	})
}

// passwordFlag is --password-stdin: the password is the first line of
// standard input (never an argument, which other users of the machine see).
type passwordFlag struct{ given *bool }

func addPasswordFlag(fs *flags) passwordFlag {
	return passwordFlag{fs.Bool("password-stdin", false, "read the password from the first line of standard input")}
}

// read returns the password, or a usage error when --password-stdin is
// missing.
func (p passwordFlag) read(c *cli, fs *flags) (string, error) {
	if !*p.given {
		return "", usageErr("usher %s: --password-stdin is required", fs.Name())
	}
	return readPassword(c.stdin)
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("read password: standard input is empty")
	}
	return line, nil
}

// accountJSON is how account list prints an account (never its secrets):
// as the admin API shows it.
type accountJSON = admin.AccountView

// usher account list --institution SLUG [--kind K] [--status S] [--json]
func (c *cli) accountList(ctx context.Context, args []string) error {
	fs := newFlags("account list").withInstitution()
	kind := fs.String("kind", "", "only customers or operators")
	status := fs.String("status", "", "only pending, active or disabled accounts")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	return c.inInstitution(ctx, fs, func(a *app, inst *storage.Institution) error {
		list, err := listAllAccounts(ctx, a.accounts, inst, storage.AccountFilter{
			Kind: storage.AccountKind(*kind), Status: storage.AccountStatus(*status)})
		if err != nil {
			return a.explain(err)
		}
		return printAccounts(c, list, a.store.Now(), *asJSON)
	})
}

// printAccounts prints the accounts as JSON or as a table; an account is
// locked when its lock lasts beyond now.
func printAccounts(c *cli, list []storage.Account, now time.Time, asJSON bool) error {
	toJSON := func(acc *storage.Account) accountJSON { return admin.ViewAccount(acc, now) }
	return printList(c.stdout, asJSON, list, toJSON, []any{"EMAIL", "KIND", "STATUS", "NAME", "LOCKED", "EXTERNAL REF", "ID"},
		func(acc *storage.Account) []any {
			return []any{acc.Email, acc.Kind, acc.Status, acc.Name(), toJSON(acc).Locked, cmp.Or(acc.ExternalRef, "-"), acc.ID}
		})
}

// listAllAccounts pages through every account of inst the filter selects.
func listAllAccounts(ctx context.Context, accounts *flows.Accounts, inst *storage.Institution, f storage.AccountFilter) ([]storage.Account, error) {
	var all []storage.Account
	f.Limit = 500
	for {
		page, err := accounts.List(ctx, inst, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
		f.After = page[len(page)-1].ID
	}
}

// accountFlags are the flags that name one account of the institution.
type accountFlags struct {
	email, kind, id *string
}

func addAccountFlags(fs *flags) accountFlags {
	fs.withInstitution()
	return accountFlags{
		email: fs.String("email", "", "the account's email"),
		kind:  fs.String("kind", "customer", "with --email: customer or operator"),
		id:    fs.String("id", "", "the account's ID (instead of --email)"),
	}
}

// find returns the account the flags name in inst.
func (f accountFlags) find(ctx context.Context, a *app, inst *storage.Institution) (*storage.Account, error) {
	s := a.store.In(inst.ID)
	var acc *storage.Account
	var err error
	switch {
	case *f.id != "":
		acc, err = s.GetAccount(ctx, *f.id)
	case *f.email != "":
		acc, err = s.GetAccountByEmail(ctx, storage.AccountKind(*f.kind), *f.email)
	default:
		return nil, usageErr("give --email or --id")
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no such account in institution %s", inst.Slug)
	}
	return acc, err
}

// onAccount is inInstitution for a command about one account: fn also gets
// the account that who names.
func (c *cli) onAccount(ctx context.Context, fs *flags, who accountFlags, fn func(a *app, inst *storage.Institution, acc *storage.Account) error) error {
	return c.inInstitution(ctx, fs, func(a *app, inst *storage.Institution) error {
		acc, err := who.find(ctx, a, inst)
		if err != nil {
			return err
		}
		return fn(a, inst, acc)
	})
}

// usher account set-password --institution SLUG (--email E [--kind K] | --id ID) --password-stdin [--temporary]
func (c *cli) accountSetPassword(ctx context.Context, args []string) error {
	fs := newFlags("account set-password")
	who := addAccountFlags(fs)
	password := addPasswordFlag(fs)
	temporary := fs.Bool("temporary", false, "the password expires after the institution's temporary-password lifetime and must be changed at the next sign-in")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	pw, err := password.read(c, fs)
	if err != nil {
		return err
	}
	return c.onAccount(ctx, fs, who, func(a *app, inst *storage.Institution, acc *storage.Account) error {
		if err := a.accounts.SetPassword(ctx, inst, acc.ID, pw, *temporary, flows.ActorCLI); err != nil {
			return fmt.Errorf("password not set: %w", a.explain(err))
		}
		_, err := fmt.Fprintf(c.stdout, "password set for %s; its sessions and tokens have ended\n", acc.Email)
		return err
	})
}

// usher account unlock --institution SLUG (--email E [--kind K] | --id ID)
func (c *cli) accountUnlock(ctx context.Context, args []string) error {
	fs := newFlags("account unlock")
	who := addAccountFlags(fs)
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	return c.onAccount(ctx, fs, who, func(a *app, inst *storage.Institution, acc *storage.Account) error {
		if err := a.accounts.Unlock(ctx, inst, acc.ID, flows.ActorCLI); err != nil {
			return err
		}
		_, err := fmt.Fprintf(c.stdout, "unlocked %s\n", acc.Email)
		return err
	})
}
