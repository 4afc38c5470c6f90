package main

import (
	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/templates"
)

// buildPages wires the pages people go through: every flow's handler with
// the narrow view of the store it declares, and the browser sessions in
// which the sign-in state lives (the provider asks them who is signed in).
func (a *app) buildPages(pages *templates.Pages, catalog *templates.Catalog, hasher *password.Hasher,
	policy *password.Checker) {
	store := a.store
	browsers := &flows.BrowserSessions{In: func(id string) flows.SessionStore { return store.In(id) }, Tx: store,
		PublicURL: a.cfg.PublicURL, Now: a.now}
	a.sessions = &flows.Sessions{Browsers: browsers, Now: a.now}
	site := &flows.Site{Institutions: store, Pages: pages, Catalog: catalog, PublicURL: a.cfg.PublicURL,
		Now: a.now, Log: a.log}
	var metrics flows.Metrics
	if a.metrics != nil {
		metrics = a.metrics
	}
	signIn := &flows.SignIn{Site: site, Sessions: a.sessions, Tx: store, Hasher: hasher, Metrics: metrics,
		In: func(id string) flows.SignInStore { return store.In(id) }}
	a.pages = &flows.Handlers{
		Site:   site,
		SignIn: signIn,
		PasswordChange: &flows.PasswordChange{Site: site, SignIn: signIn, Tx: store, Hasher: hasher, Policy: policy,
			In: func(id string) flows.PasswordChangeStore { return store.In(id) }},
		Consent: &flows.Consent{Site: site, Sessions: a.sessions, Tx: store,
			In: func(id string) flows.ConsentStore { return store.In(id) }},
		Logout: &flows.Logout{Site: site, Sessions: a.sessions,
			In: func(id string) flows.LogoutStore { return store.In(id) }},
		Account: &flows.AccountPage{Site: site, Sessions: a.sessions,
			In: func(id string) flows.AccountGetter { return store.In(id) }},
		Recovery: &flows.Recovery{Site: site, Sessions: a.sessions, Tx: store, Hasher: hasher, Policy: policy,
			Mailer: a.outbox, In: func(id string) flows.RecoveryStore { return store.In(id) }},
	}
	a.institutions = &flows.Institutions{Store: store}
	a.accounts = &flows.Accounts{In: func(id string) flows.AccountsStore { return store.In(id) }, Tx: store,
		Hasher: hasher, Policy: policy, Now: store.Now, Locales: catalog.Match, Mailer: a.outbox}
}
