package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/templates"
)

// app is what a command works with once the configuration is loaded: the
// one place where Usher's parts are built and wired together.
type app struct {
	cfg          Config
	dev          bool
	log          *slog.Logger
	store        *sqlstore.Store
	catalog      *templates.Catalog
	institutions *flows.Institutions
	accounts     *flows.Accounts
}

// open loads the configuration named by the shared flags, opens the database
// and builds the services. The schema is migrated by serve and, in
// development, by every command; otherwise a command on a schema that is
// behind stops and says to run usher migrate.
func (c *cli) open(ctx context.Context, fs *flags, migrate bool) (*app, error) {
	cfg, notes, err := loadConfig(fs.config, c.env, fs.dev)
	if err != nil {
		return nil, prefixLines("configuration: ", err)
	}
	log := newLogger(cfg.Log, c.stderr)
	if notes.DevSecretCreated {
		log.Warn("created a master secret for development; never use it in production", "file", cfg.SecretFile)
	}
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{Now: c.now})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, dev: fs.dev, log: log, store: store}
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

// build creates the services every command shares.
func (a *app) build() error {
	catalog, err := templates.NewCatalog()
	if err != nil {
		return err
	}
	hasher, err := password.NewHasher(password.Config{})
	if err != nil {
		return err
	}
	a.catalog = catalog
	a.institutions = &flows.Institutions{Store: a.store}
	a.accounts = &flows.Accounts{
		Store: a.store, Hasher: hasher, Policy: password.NewChecker(), Now: a.store.Now, Locales: catalog.Match,
	}
	return nil
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

// newLogger builds the process logger from the log settings.
func newLogger(c ConfigLog, w io.Writer) *slog.Logger {
	var level slog.Level
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
