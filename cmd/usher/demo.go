package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
)

// The demo data of `usher serve --dev`: an institution with a shop, a box
// office, a customer and an operator, so a newcomer can sign in at once.
const (
	demoSlug          = "demo"
	demoShopID        = "demo-shop"
	demoBoxOfficeID   = "demo-box-office"
	demoPartnerID     = "demo-partner" // a third-party application: its users see the consent page
	demoCustomerEmail = "customer@example.org"
	demoOperatorEmail = "operator@example.org"
)

// demoData is what ensureDemo prints.
type demoData struct {
	issuer                       string
	shopSecret, boxOfficeSecret  string
	partnerSecret                string
	customerPassword, operatorPw string
}

// ensureDemo creates whatever part of the demo data is missing. Secrets and
// passwords are derived from the (development) master secret, so every start
// prints the same ones without storing them in clear.
func ensureDemo(ctx context.Context, a *app) (*demoData, error) {
	master, err := a.cfg.masterSecret()
	if err != nil {
		return nil, err
	}
	derive := func(label string, n int) string {
		mac := hmac.New(sha256.New, master)
		mac.Write([]byte("usher demo " + label))
		return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))[:n]
	}
	d := &demoData{
		issuer:     issuer.URL(a.cfg.PublicURL, demoSlug),
		shopSecret: derive("shop", 43), boxOfficeSecret: derive("box office", 43), partnerSecret: derive("partner", 43),
		customerPassword: derive("customer", 16), operatorPw: derive("operator", 16),
	}
	inst, err := ensureDemoInstitution(ctx, a)
	if err != nil {
		return nil, err
	}
	home := a.cfg.PublicURL + "/demo/"
	clients := []provider.ClientSpec{
		{ID: demoShopID, Name: "Demo Shop", Secret: d.shopSecret, PointOfSale: true, HomeURL: home,
			FirstParty: true, RedirectURIs: []string{home + "callback"}, PostLogoutRedirectURIs: []string{home}},
		{ID: demoBoxOfficeID, Name: "Demo Box Office", Secret: d.boxOfficeSecret, AccountKind: storage.Operator,
			FirstParty: true, RedirectURIs: []string{home + "callback"}, PostLogoutRedirectURIs: []string{home}},
		{ID: demoPartnerID, Name: "Demo Partner App", Secret: d.partnerSecret,
			RedirectURIs: []string{home + "callback"}, PostLogoutRedirectURIs: []string{home}},
	}
	for _, spec := range clients {
		if err := a.clients.Ensure(ctx, inst, spec, string(flows.ActorSystem)); err != nil {
			return nil, err
		}
	}
	accounts := []flows.NewAccount{
		{Kind: storage.Customer, Email: demoCustomerEmail, GivenName: "Carla", FamilyName: "Customer",
			Password: d.customerPassword, EmailVerified: true},
		{Kind: storage.Operator, Email: demoOperatorEmail, GivenName: "Otto", FamilyName: "Operator",
			Password: d.operatorPw, EmailVerified: true},
	}
	for _, n := range accounts {
		if err := ensureDemoAccount(ctx, a, inst, n); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// ensureDemoInstitution finds the demo institution that dev mode created,
// or creates and marks it. An institution with the demo's slug that dev
// mode did not create is refused: demo accounts with published passwords
// are never put into it.
func ensureDemoInstitution(ctx context.Context, a *app) (*storage.Institution, error) {
	inst, err := a.store.GetInstitutionBySlug(ctx, demoSlug)
	if errors.Is(err, storage.ErrNotFound) {
		if inst, err = a.institutions.Create(ctx, demoSlug, "Demo Theatre"); err != nil {
			return nil, err
		}
		inst.Settings.DevDemo = true
		return inst, a.store.UpdateInstitution(ctx, inst)
	}
	if err != nil {
		return nil, err
	}
	if !inst.Settings.DevDemo {
		return nil, fmt.Errorf("an institution %q exists that --dev did not create: refusing to add demo accounts to it "+
			"(use another database, or remove ./usher-dev.db to start the demo afresh)", demoSlug)
	}
	return inst, nil
}

func ensureDemoAccount(ctx context.Context, a *app, inst *storage.Institution, n flows.NewAccount) error {
	_, err := a.store.In(inst.ID).GetAccountByEmail(ctx, n.Kind, n.Email)
	if errors.Is(err, storage.ErrNotFound) {
		_, err = a.accounts.Create(ctx, inst, n, flows.ActorSystem)
		return a.explain(err)
	}
	return err
}

func (d *demoData) print(w io.Writer, publicURL string) {
	fmt.Fprintf(w, `
  Usher is running in development mode, on a local SQLite database.
  Never use --dev in production: its master secret and demo passwords are not secret.

  Demo institution   issuer %s
  Shop client        client_id %s  client_secret %s
  Box-office client  client_id %s  client_secret %s
  Third-party client client_id %s  client_secret %s  (asks the customer's consent)
  Demo customer      %s  password %s
  Demo operator      %s  password %s

  Try it: %s/demo/

`, d.issuer, demoShopID, d.shopSecret, demoBoxOfficeID, d.boxOfficeSecret, demoPartnerID, d.partnerSecret,
		demoCustomerEmail, d.customerPassword, demoOperatorEmail, d.operatorPw, publicURL)
}
