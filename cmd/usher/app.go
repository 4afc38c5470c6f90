package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/admin"
	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/internal/metrics"
	"github.com/usher-idp/usher/internal/outage"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/templates"
)

// app is what a command works with once the configuration is loaded: the
// one place where Usher's parts are built and wired together.
type app struct {
	cfg          Config
	dev          bool
	now          func() time.Time
	log          *slog.Logger
	store        *sqlstore.Store
	metrics      *metrics.Metrics     // nil outside serve: counts nothing
	activity     *httpserver.InFlight // requests in flight, for releaseMemoryWhenIdle
	gc           *gcTuning
	catalog      *templates.Catalog
	institutions *flows.Institutions
	accounts     *flows.Accounts
	invitations  *flows.Invitations
	pages        *flows.Handlers   // every flow's pages (pages.go)
	sessions     *flows.Sessions   // who is signed in, for the provider
	afterwards   *flows.Afterwards // what pages do after they answer
	provider     *provider.Provider
	clients      *provider.Clients
	admin        *admin.API // the admin API (admin.go)
	// Email: the outbox (queued in the transaction of their cause), the
	// institutions' template overrides, and where the log sender prints
	// (--dev without smtp.host). See mailcmd.go.
	outbox        *mail.Outbox
	mailTemplates *mail.Templates
	console       io.Writer
}

// open loads the configuration named by the shared flags, opens the database
// and builds the services. The schema is migrated by serve and, in
// development, by every command; otherwise a command on a schema that is
// behind stops and says to run usher migrate.
func (c *cli) open(ctx context.Context, fs *flags, migrate bool) (*app, error) {
	return c.openWith(ctx, fs, migrate, nil)
}

// openWith is open with the metrics serve records.
func (c *cli) openWith(ctx context.Context, fs *flags, migrate bool, m *metrics.Metrics) (*app, error) {
	cfg, notes, err := loadConfig(fs.config, c.env, fs.dev)
	if err != nil {
		return nil, prefixLines("configuration: ", err)
	}
	console := &lockedWriter{w: c.stderr} // the log and the emails printed in --dev share it
	log := newLogger(cfg.Log, console)
	if notes.DevSecretCreated {
		log.Warn("created a master secret for development; never use it in production", "file", cfg.SecretFile)
	}
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{Now: c.now, OutboxRetention: cfg.Outbox.Retention.Duration(),
		Timeout: cfg.Database.Timeout.Duration(), ReadTimeout: cfg.Database.ReadTimeout.Duration(),
		Outages: outage.New(log, "database", 0, nil)})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, dev: fs.dev, now: c.now, log: log, store: store, metrics: m, console: console,
		activity: &httpserver.InFlight{}, gc: &gcTuning{}}
	if err := a.prepareSchema(ctx, migrate || fs.dev); err != nil {
		store.Close()
		return nil, err
	}
	if err := a.build(); err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) prepareSchema(ctx context.Context, migrate bool) error {
	if !migrate {
		return a.store.Ready(ctx)
	}
	applied, err := a.store.Migrate(ctx)
	if err != nil {
		return err
	}
	for _, name := range applied {
		a.log.Info("applied migration", "migration", name)
	}
	return nil
}

// build creates the services every command shares: the flows people go
// through and the protocol, which meet through the browser sessions.
func (a *app) build() error {
	catalog, err := templates.NewCatalog()
	if err != nil {
		return err
	}
	pages, err := templates.NewPages(catalog)
	if err != nil {
		return err
	}
	hasher, err := password.NewHasher(password.Config{Busy: a.gc.hashing})
	if err != nil {
		return err
	}
	master, err := a.cfg.masterSecret()
	if err != nil {
		return err
	}
	policy := password.NewChecker()
	a.catalog = catalog
	if err := a.buildMail(catalog); err != nil {
		return err
	}
	if err := a.buildPages(pages, catalog, hasher, policy, master); err != nil {
		return err
	}
	a.provider, err = provider.New(provider.Config{
		PublicURL: a.cfg.PublicURL, MasterSecret: master, Institutions: a.store, Transactor: a.store,
		In:       func(id string) provider.InstitutionStore { return a.store.In(id) },
		Sessions: a.sessions, Pages: a.pages.Site, Metrics: a.metrics, Log: a.log, Now: a.now, Lifespans: a.cfg.lifespans(),
	})
	if err != nil {
		return err
	}
	a.clients, err = provider.NewClients(provider.ClientsConfig{Transactor: a.store,
		In: func(id string) provider.ClientStore { return a.store.In(id) }})
	if err != nil {
		return err
	}
	return a.buildAdmin()
}

func (a *app) Close() { a.store.Close() }

// institution finds an institution by slug, with an error that says so.
func (a *app) institution(ctx context.Context, slug string) (*storage.Institution, error) {
	if slug == "" {
		return nil, usageErr("--institution is required")
	}
	inst, err := a.store.GetInstitutionBySlug(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no institution %q (usher institution list shows them)", slug)
	}
	return inst, err
}

// explain renders the problems of a refused input in English, on one line.
func (a *app) explain(err error) error {
	problems := flows.Problems(err)
	if problems == nil {
		return err
	}
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = p.Field + ": " + a.catalog.Message("en", p.ID, p.Args)
	}
	return errors.New(strings.Join(parts, " "))
}
