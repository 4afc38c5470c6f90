package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
)

// usher client create --institution SLUG --name NAME …
func (c *cli) clientCreate(ctx context.Context, args []string) error {
	fs := newFlags("client create").withInstitution()
	var spec provider.ClientSpec
	var redirects, postLogout, grants, audiences stringList
	fs.StringVar(&spec.Name, "name", "", "display name (required)")
	fs.Var(&redirects, "redirect-uri", "redirect URI (repeatable)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&grants, "grant", "authorization_code, refresh_token or client_credentials (repeatable)")
	scope := fs.String("scope", "", `scopes, space-separated (default "openid email profile offline_access")`)
	fs.BoolVar(&spec.Public, "public", false, "public client: no secret, PKCE required")
	fs.BoolVar(&spec.FirstParty, "first-party", false, "no consent screen")
	fs.BoolVar(&spec.PointOfSale, "point-of-sale", false, "a ticket shop customers return to after activation or reset")
	fs.StringVar(&spec.HomeURL, "home-url", "", "home URL of the point of sale")
	accounts := fs.String("accounts", "customer", "who signs in: customer or operator")
	fs.BoolVar(&spec.RequireTwoFactor, "require-two-factor", false, "everyone signing in needs two-factor")
	fs.BoolVar(&spec.Introspection, "introspection", false, "resource server: may introspect every token of the institution")
	fs.BoolVar(&spec.DisablePKCE, "no-pkce", false, "do not require PKCE (confidential clients that cannot send it)")
	fs.StringVar(&spec.IDTokenAlg, "id-token-alg", "RS256", "ID token (and JWT access token) signature: RS256 or ES256")
	fs.StringVar(&spec.AccessTokenFormat, "access-token-format", "opaque", "access tokens: opaque, or jwt (RFC 9068, verified by resource servers against the JWKS)")
	fs.Var(&audiences, "audience", "resource server URI a JWT access token names in aud (repeatable; default: the client ID)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	spec.RedirectURIs, spec.PostLogoutRedirectURIs, spec.Audiences = redirects, postLogout, audiences
	spec.AccountKind = storage.AccountKind(*accounts)
	if len(grants) > 0 {
		spec.GrantTypes = grants
	}
	if fs.isSet("scope") {
		spec.Scopes = strings.Fields(*scope)
	}
	return c.inInstitution(ctx, fs, func(a *app, inst *storage.Institution) error {
		client, secret, err := a.clients.Register(ctx, inst, spec, string(flows.ActorCLI))
		if errors.Is(err, provider.ErrInvalidClient) {
			return prefixLines("client not created: ", err)
		}
		if err != nil {
			return err
		}
		return printClientSecret(c, client, secret, *asJSON)
	})
}

func printClientSecret(c *cli, client *storage.Client, secret string, asJSON bool) error {
	if asJSON {
		out := map[string]string{"client_id": client.ID}
		if secret != "" {
			out["client_secret"] = secret
		}
		return printJSON(c.stdout, out)
	}
	fmt.Fprintf(c.stdout, "client_id:     %s\n", client.ID)
	if secret == "" {
		_, err := fmt.Fprintln(c.stdout, "public client: no secret, PKCE required")
		return err
	}
	_, err := fmt.Fprintf(c.stdout, "client_secret: %s\n(shown this once: Usher keeps only a hash)\n", secret)
	return err
}

// clientJSON is how client list prints a client (never its secret hash).
type clientJSON struct {
	ID                     string   `json:"client_id"`
	Name                   string   `json:"name"`
	Public                 bool     `json:"public"`
	Accounts               string   `json:"accounts"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	GrantTypes             []string `json:"grant_types"`
	Scopes                 []string `json:"scopes"`
	FirstParty             bool     `json:"first_party"`
	PointOfSale            bool     `json:"point_of_sale"`
	HomeURL                string   `json:"home_url,omitempty"`
	RequireTwoFactor       bool     `json:"require_two_factor"`
	RequirePKCE            bool     `json:"require_pkce"`
	Introspection          bool     `json:"introspection"`
	IDTokenAlg             string   `json:"id_token_alg"`
	AccessTokenFormat      string   `json:"access_token_format"`
	Audiences              []string `json:"audiences"`
}

// usher client list --institution SLUG [--json]
func (c *cli) clientList(ctx context.Context, args []string) error {
	return listIn(ctx, c, "client list", args, func(a *app, inst *storage.Institution) ([]storage.Client, error) {
		return a.store.In(inst.ID).ListClients(ctx)
	}, printClients)
}

func toClientJSON(cl *storage.Client) clientJSON {
	return clientJSON{cl.ID, cl.Name, cl.Public, string(cl.AccountKind), cl.RedirectURIs,
		cl.PostLogoutRedirectURIs, cl.GrantTypes, cl.Scopes, cl.FirstParty, cl.PointOfSale, cl.HomeURL,
		cl.RequireTwoFactor, cl.RequirePKCE, cl.Introspection, cl.IDTokenAlg, cl.AccessTokenFormat, cl.Audiences}
}

// printClients prints the clients as JSON or as a table.
func printClients(c *cli, list []storage.Client, asJSON bool) error {
	header := []any{"CLIENT_ID", "NAME", "TYPE", "ACCOUNTS", "GRANTS", "ACCESS TOKENS", "REDIRECT URIS"}
	return printList(c.stdout, asJSON, list, toClientJSON, header, func(cl *storage.Client) []any {
		kind := "confidential"
		if cl.Public {
			kind = "public"
		}
		tokens := cl.AccessTokenFormat
		if len(cl.Audiences) > 0 {
			tokens += " (aud " + strings.Join(cl.Audiences, " ") + ")"
		}
		return []any{cl.ID, cl.Name, kind, cl.AccountKind, strings.Join(cl.GrantTypes, ","), tokens, strings.Join(cl.RedirectURIs, " ")}
	})
}

// usher client delete --institution SLUG CLIENT_ID
func (c *cli) clientDelete(ctx context.Context, args []string) error {
	fs := newFlags("client delete").withInstitution()
	pos, err := fs.parse(args, 1)
	if err != nil {
		return err
	}
	return c.inInstitution(ctx, fs, func(a *app, inst *storage.Institution) error {
		err := a.clients.Delete(ctx, inst, pos[0], string(flows.ActorCLI))
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no client %q in institution %s", pos[0], inst.Slug)
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "deleted client %s\n", pos[0])
		return err
	})
}
