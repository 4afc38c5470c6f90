package main

import (
	"context"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/templates"
)

// What pages do after they answer (the recovery form): a queue of this
// many jobs, each started this long after its answer.
const (
	afterwardsQueue   = 1024
	afterwardsDelay   = 5 * time.Millisecond
	afterwardsWorkers = 2
)

// buildPages wires the pages people go through: every flow's handler with
// the narrow view of the store it declares, and the browser sessions in
// which the sign-in state lives (the provider asks them who is signed in).
func (a *app) buildPages(pages *templates.Pages, catalog *templates.Catalog, hasher *password.Hasher,
	policy *password.Checker, master []byte) error {
	totpSecrets, err := seal.New(master, "totp")
	if err != nil {
		return err
	}
	recoveryKey := seal.Derive(master, "recovery-codes", 32)
	store := a.store
	a.afterwards = flows.NewAfterwards(afterwardsQueue, afterwardsDelay)
	browsers := &flows.BrowserSessions{In: func(id string) flows.SessionStore { return store.In(id) }, Tx: store,
		PublicURL: a.cfg.PublicURL, Now: a.now}
	a.sessions = &flows.Sessions{Browsers: browsers, Now: a.now}
	throttleKey := seal.Derive(master, "throttle-keys", 32)
	site := &flows.Site{Institutions: store, Pages: pages, Catalog: catalog, PublicURL: a.cfg.PublicURL, ThrottleKey: throttleKey,
		Now: a.now, Log: a.log, In: func(id string) flows.SiteStore { return store.In(id) }}
	var metrics flows.Metrics
	if a.metrics != nil {
		metrics = a.metrics
	}
	signIn := &flows.SignIn{Site: site, Sessions: a.sessions, Tx: store, Hasher: hasher, Metrics: metrics,
		DeviceKey: seal.Derive(master, "device-cookies", 32), In: func(id string) flows.SignInStore { return store.In(id) }}
	a.pages = &flows.Handlers{
		Site:   site,
		SignIn: signIn,
		PasswordChange: &flows.PasswordChange{Site: site, SignIn: signIn, Tx: store, Hasher: hasher, Policy: policy,
			In: func(id string) flows.PasswordChangeStore { return store.In(id) }},
		Consent: &flows.Consent{Site: site, Sessions: a.sessions, Tx: store,
			In: func(id string) flows.ConsentStore { return store.In(id) }},
		Logout: &flows.Logout{Site: site, Sessions: a.sessions,
			In: func(id string) flows.LogoutStore { return store.In(id) }},
		Account: &flows.AccountPage{Site: site, SignIn: signIn, Tx: store, Hasher: hasher, Policy: policy,
			RecoveryKey: recoveryKey, Mailer: a.outbox,
			In: func(id string) flows.AccountPageStore { return store.In(id) }},
		Recovery: &flows.Recovery{Site: site, Sessions: a.sessions, Tx: store, Hasher: hasher, Policy: policy,
			Mailer: a.outbox, Afterwards: a.afterwards, In: func(id string) flows.RecoveryStore { return store.In(id) }},
		Registration: &flows.Registration{Site: site, Sessions: a.sessions, Tx: store, Hasher: hasher, Policy: policy,
			Mailer: a.outbox, Afterwards: a.afterwards, In: func(id string) flows.RegistrationStore { return store.In(id) }},
		Activation: &flows.Activation{Site: site, SignIn: signIn, Tx: store, Hasher: hasher, Policy: policy, Mailer: a.outbox,
			In: func(id string) flows.ActivationStore { return store.In(id) }},
		TwoFactor: &flows.TwoFactor{Site: site, SignIn: signIn, Tx: store, Secrets: totpSecrets, Mailer: a.outbox,
			RecoveryKey: recoveryKey,
			In:          func(id string) flows.TwoFactorStore { return store.In(id) }},
	}
	a.institutions = &flows.Institutions{Store: store, Tx: store,
		In: func(id string) flows.InstitutionRecords { return store.In(id) }}
	a.accounts = &flows.Accounts{In: func(id string) flows.AccountsStore { return store.In(id) }, Tx: store,
		Hasher: hasher, Policy: policy, Now: store.Now, Locales: catalog.Match, Mailer: a.outbox, PublicURL: a.cfg.PublicURL,
		ThrottleKey: throttleKey}
	a.invitations = &flows.Invitations{Accounts: a.accounts}
	return nil
}

// runAfterwards runs the work pages do after their answer until stop is
// called, which finishes the work queued: call it once the HTTP server has
// shut down.
func (a *app) runAfterwards() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.afterwards.Run(ctx, afterwardsWorkers)
	}()
	return func() { cancel(); <-done }
}
