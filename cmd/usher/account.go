package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// usher account create --institution SLUG --kind customer|operator --email EMAIL --password-stdin [--json]
func (c *cli) accountCreate(ctx context.Context, args []string) error {
	fs := newFlags("account create")
	var n flows.NewAccount
	institution := fs.String("institution", "", "institution slug (required)")
	kind := fs.String("kind", "", "customer or operator (required)")
	fs.StringVar(&n.Email, "email", "", "email address (required)")
	fs.StringVar(&n.GivenName, "given-name", "", "given name")
	fs.StringVar(&n.FamilyName, "family-name", "", "family name")
	fs.StringVar(&n.Locale, "locale", "", "language: en, fr, de or it (default: the institution's)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	if !*fromStdin {
		return usageErr("usher account create: --password-stdin is required")
	}
	n.Kind = storage.AccountKind(*kind)
	pw, err := readPassword(c.stdin)
	if err != nil {
		return err
	}
	n.Password = pw
	a, inst, err := c.openIn(ctx, fs, *institution)
	if err != nil {
		return err
	}
	defer a.Close()
	acc, err := a.accounts.Create(ctx, inst, n, flows.ActorCLI)
	if err != nil {
		return fmt.Errorf("account not created: %w", a.explain(err))
	}
	if *asJSON {
		return printJSON(c.stdout, map[string]string{"id": acc.ID})
	}
	_, err = fmt.Fprintf(c.stdout, "created %s %s (%s)\n", acc.Kind, acc.Email, acc.ID)
	return err
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

// accountJSON is how account list prints an account (never its secrets).
type accountJSON struct {
	ID                 string `json:"id"`
	Kind               string `json:"kind"`
	Email              string `json:"email"`
	EmailVerified      bool   `json:"email_verified"`
	GivenName          string `json:"given_name"`
	FamilyName         string `json:"family_name"`
	Locale             string `json:"locale"`
	Status             string `json:"status"`
	HasPassword        bool   `json:"has_password"`
	MustChangePassword bool   `json:"must_change_password"`
	TwoFactorRequired  bool   `json:"two_factor_required"`
	TwoFactorEnrolled  bool   `json:"two_factor_enrolled"`
	FailedSignIns      int    `json:"failed_sign_ins"`
	Locked             bool   `json:"locked"`
}

// usher account list --institution SLUG [--kind K] [--status S] [--json]
func (c *cli) accountList(ctx context.Context, args []string) error {
	fs := newFlags("account list")
	institution := fs.String("institution", "", "institution slug (required)")
	kind := fs.String("kind", "", "only customers or operators")
	status := fs.String("status", "", "only pending, active or disabled accounts")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	a, inst, err := c.openIn(ctx, fs, *institution)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := listAllAccounts(ctx, a.store.In(inst.ID), storage.AccountFilter{
		Kind: storage.AccountKind(*kind), Status: storage.AccountStatus(*status)})
	if err != nil {
		return err
	}
	now := a.store.Now()
	out := make([]accountJSON, len(list))
	for i, acc := range list {
		out[i] = accountJSON{acc.ID, string(acc.Kind), acc.Email, acc.EmailVerified, acc.GivenName, acc.FamilyName,
			acc.Locale, string(acc.Status), acc.PasswordHash != "", acc.MustChangePassword, acc.TwoFactorRequired,
			acc.TOTPConfirmedAt != nil, acc.FailedSignIns, acc.LockedUntil != nil && acc.LockedUntil.After(now)}
	}
	if *asJSON {
		return printJSON(c.stdout, out)
	}
	t := newTable(c.stdout, "EMAIL", "KIND", "STATUS", "NAME", "LOCKED", "ID")
	for i, acc := range list {
		t.row(acc.Email, acc.Kind, acc.Status, acc.Name(), out[i].Locked, acc.ID)
	}
	return t.flush()
}

// listAllAccounts pages through every account the filter selects.
func listAllAccounts(ctx context.Context, s storage.AccountStore, f storage.AccountFilter) ([]storage.Account, error) {
	var all []storage.Account
	f.Limit = 500
	for {
		page, err := s.ListAccounts(ctx, f)
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

// accountFlags are the flags that name one account.
type accountFlags struct {
	institution, email, kind, id *string
}

func addAccountFlags(fs *flags) accountFlags {
	return accountFlags{
		institution: fs.String("institution", "", "institution slug (required)"),
		email:       fs.String("email", "", "the account's email"),
		kind:        fs.String("kind", "customer", "with --email: customer or operator"),
		id:          fs.String("id", "", "the account's ID (instead of --email)"),
	}
}

// find returns the institution and the account the flags name.
func (f accountFlags) find(ctx context.Context, a *app) (*storage.Institution, *storage.Account, error) {
	inst, err := a.institution(ctx, *f.institution)
	if err != nil {
		return nil, nil, err
	}
	s := a.store.In(inst.ID)
	var acc *storage.Account
	switch {
	case *f.id != "":
		acc, err = s.GetAccount(ctx, *f.id)
	case *f.email != "":
		acc, err = s.GetAccountByEmail(ctx, storage.AccountKind(*f.kind), *f.email)
	default:
		return nil, nil, usageErr("give --email or --id")
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, fmt.Errorf("no such account in institution %s", inst.Slug)
	}
	return inst, acc, err
}

// usher account set-password --institution SLUG (--email E [--kind K] | --id ID) --password-stdin [--temporary]
func (c *cli) accountSetPassword(ctx context.Context, args []string) error {
	fs := newFlags("account set-password")
	who := addAccountFlags(fs)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	temporary := fs.Bool("temporary", false, "the password expires after the institution's temporary-password lifetime and must be changed at the next sign-in")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	if !*fromStdin {
		return usageErr("usher account set-password: --password-stdin is required")
	}
	pw, err := readPassword(c.stdin)
	if err != nil {
		return err
	}
	a, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer a.Close()
	inst, acc, err := who.find(ctx, a)
	if err != nil {
		return err
	}
	if err := a.accounts.SetPassword(ctx, inst, acc.ID, pw, *temporary, flows.ActorCLI); err != nil {
		return fmt.Errorf("password not set: %w", a.explain(err))
	}
	_, err = fmt.Fprintf(c.stdout, "password set for %s; its sessions and tokens have ended\n", acc.Email)
	return err
}

// usher account unlock --institution SLUG (--email E [--kind K] | --id ID)
func (c *cli) accountUnlock(ctx context.Context, args []string) error {
	fs := newFlags("account unlock")
	who := addAccountFlags(fs)
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	a, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer a.Close()
	inst, acc, err := who.find(ctx, a)
	if err != nil {
		return err
	}
	if err := a.accounts.Unlock(ctx, inst, acc.ID, flows.ActorCLI); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "unlocked %s\n", acc.Email)
	return err
}
