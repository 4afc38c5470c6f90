package main

import (
	"github.com/usher-idp/usher/flows/admin"
)

// buildAdmin wires the admin API: a thin layer over the accounts and
// institutions services the command line uses too, whose bearer tokens the
// provider checks, and whose documents are the outbox's.
func (a *app) buildAdmin() error {
	var err error
	a.admin, err = admin.New(admin.Config{Institutions: a.store, Tokens: a.provider, Accounts: a.accounts, Invitations: a.invitations,
		Settings: a.institutions, Documents: a.outbox, Catalog: a.catalog, PublicURL: a.cfg.PublicURL,
		Now: a.now, Log: a.log})
	return err
}
