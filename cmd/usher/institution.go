package main

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// institutionJSON is how the commands print an institution.
type institutionJSON struct {
	ID       string           `json:"id"`
	Slug     string           `json:"slug"`
	Name     string           `json:"name"`
	Version  int64            `json:"version"`
	Settings storage.Settings `json:"settings"`
}

func toInstitutionJSON(i *storage.Institution) institutionJSON {
	return institutionJSON{ID: i.ID, Slug: i.Slug, Name: i.Name, Version: i.Version, Settings: i.Settings}
}

// usher institution create SLUG --name NAME [--json]
func (c *cli) institutionCreate(ctx context.Context, args []string) error {
	fs := newFlags("institution create")
	name := fs.String("name", "", "display name (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args, 1)
	if err != nil {
		return err
	}
	return c.withApp(ctx, fs, func(a *app) error {
		inst, err := a.institutions.Create(ctx, pos[0], *name)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(c.stdout, map[string]string{"id": inst.ID, "slug": inst.Slug})
		}
		_, err = fmt.Fprintf(c.stdout, "created institution %s (%s), issuer %s\n",
			inst.Slug, inst.ID, issuer.URL(a.cfg.PublicURL, inst.Slug))
		return err
	})
}

// usher institution update SLUG [--two-factor on|off] … [--display-name NAME]
// [--logo-url URL | --logo-file FILE] [--accent-color '#RRGGBB'] …
func (c *cli) institutionUpdate(ctx context.Context, args []string) error {
	fs := newFlags("institution update")
	var ch flows.InstitutionChanges
	var twoFactor, customerTwoFactor, manual, registration, upper, digit, special, common onOff
	var tempTTL, resetTTL, activationTTL optDuration
	var minLength optInt
	name := fs.String("name", "", "the institution's name")
	brand := brandFlags(fs)
	fs.Var(&twoFactor, "two-factor", "operators must use TOTP: on|off")
	fs.Var(&customerTwoFactor, "customer-two-factor", "customers may turn TOTP on from their account page: on|off")
	fs.Var(&manual, "manual-password", "operators may set customers' passwords: on|off")
	fs.Var(&registration, "registration", "customers may register themselves: on|off")
	fs.Var(&tempTTL, "temporary-password-ttl", "lifetime of a temporary password, e.g. 30m")
	fs.Var(&resetTTL, "reset-link-ttl", "lifetime of a reset link, e.g. 48h")
	fs.Var(&activationTTL, "activation-link-ttl", "lifetime of activation and invitation links, e.g. 168h")
	fs.Var(&minLength, "password-min-length", "minimum password length (8-128)")
	fs.Var(&upper, "password-require-upper", "passwords need a capital letter: on|off")
	fs.Var(&digit, "password-require-digit", "passwords need a digit: on|off")
	fs.Var(&special, "password-require-special", "passwords need a special character: on|off")
	fs.Var(&common, "password-refuse-common", "refuse the 10,000 most common passwords: on|off")
	invitationEmail := fs.String("invitation-email", "", "the email of invitations: account_invitation|password_reset")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := fs.parse(args, 1)
	if err != nil {
		return err
	}
	if fs.isSet("name") {
		ch.Name = name
	}
	if fs.isSet("invitation-email") {
		ch.InvitationEmail = invitationEmail
	}
	if err := brand.changes(fs, &ch); err != nil {
		return err
	}
	ch.TwoFactor, ch.CustomerTwoFactor, ch.ManualPassword, ch.Registration = twoFactor.v, customerTwoFactor.v, manual.v, registration.v
	ch.TemporaryPasswordTTL, ch.ResetLinkTTL, ch.ActivationLinkTTL = tempTTL.v, resetTTL.v, activationTTL.v
	ch.PasswordMinLength, ch.PasswordUpper, ch.PasswordDigit = minLength.v, upper.v, digit.v
	ch.PasswordSpecial, ch.PasswordRefuseCommon = special.v, common.v
	return c.withApp(ctx, fs, func(a *app) error {
		if _, err := a.institution(ctx, pos[0]); err != nil {
			return err
		}
		inst, err := a.institutions.Update(ctx, pos[0], ch, flows.ActorCLI)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(c.stdout, toInstitutionJSON(inst))
		}
		_, err = fmt.Fprintf(c.stdout, "updated institution %s (version %d)\n", inst.Slug, inst.Version)
		return err
	})
}

// usher institution list [--json]
func (c *cli) institutionList(ctx context.Context, args []string) error {
	fs := newFlags("institution list")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	return c.withApp(ctx, fs, func(a *app) error {
		list, err := a.store.ListInstitutions(ctx)
		if err != nil {
			return err
		}
		return printInstitutions(c, list, *asJSON)
	})
}

// printInstitutions prints the institutions as JSON or as a table.
func printInstitutions(c *cli, list []storage.Institution, asJSON bool) error {
	return printList(c.stdout, asJSON, list, toInstitutionJSON, []any{"SLUG", "NAME", "TWO-FACTOR", "REGISTRATION", "ID"},
		func(i *storage.Institution) []any {
			return []any{i.Slug, i.Name, onOffText(i.Settings.TwoFactor), onOffText(i.Settings.Registration), i.ID}
		})
}

func onOffText(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
