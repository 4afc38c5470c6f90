package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/internal/metrics"
)

// Server limits: generous for people, tight for slow or oversized requests.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	maxBodyBytes      = 64 << 10
	shutdownTimeout   = 20 * time.Second
)

// usher serve [--config FILE] [--dev]
func (c *cli) serve(ctx context.Context, args []string) error {
	m := metrics.New() // first: it records the process start time
	fs := newFlags("serve")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	a, err := c.openWith(ctx, fs, true, m)
	if err != nil {
		return err
	}
	defer a.Close()
	var demo *demoData
	if a.dev {
		if demo, err = ensureDemo(ctx, a); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		demo.print(c.stdout, a.cfg.PublicURL)
	}
	m.CountStatements(a.store.Statements)
	a.warnAtStart()
	stopMail, err := a.startMail(ctx) // this replica's outbox worker
	if err != nil {
		return err
	}
	defer stopMail()          // before the store closes: the email being sent is recorded
	defer a.runAfterwards()() // after the server: what the last answers left to do is done, and its emails queued
	handler := newHandler(a, m, demo)
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ln = httpserver.LimitConnections(ln, a.cfg.Limits.Connections, a.log)
	stopMetrics, err := a.serveMetrics(m)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopMetrics()
	if c.listening != nil {
		c.listening(ln.Addr())
	}
	go runJanitorEvery(ctx, a, a.cfg.Janitor.Interval.Duration())
	go rotateKeysEvery(ctx, a, time.Hour, a.cfg.Keys.RotateEvery.Duration())
	go releaseMemoryWhenIdle(ctx, a.activity, memoryQuiet)
	a.gc.start(c.env)
	return serveUntilDone(ctx, a, ln, handler)
}

// warnAtStart logs what the configuration allows but should not be so in
// production.
func (a *app) warnAtStart() {
	if a.cfg.SMTP.Host != "" && a.cfg.SMTP.TLS == configTLSOpportunistic {
		a.log.Warn("smtp.tls is opportunistic: whoever is between Usher and the SMTP server can strip STARTTLS "+
			"silently and read every email, reset and activation links included; set smtp.tls to starttls or tls",
			"smtp_host", a.cfg.SMTP.Host)
	}
}

// serveUntilDone serves until ctx ends, then shuts down gracefully: requests
// in flight finish, new connections are refused.
func serveUntilDone(ctx context.Context, a *app, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slogErrorLog(a.log),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.log.Info("serving", "address", ln.Addr().String(), "public_url", a.cfg.PublicURL, "database", a.store.Dialect())
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// usher migrate
func (c *cli) migrate(ctx context.Context, args []string) error {
	fs := newFlags("migrate")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	a, err := c.open(ctx, fs, true)
	if err != nil {
		return err
	}
	defer a.Close()
	_, err = fmt.Fprintf(c.stdout, "database schema is up to date (%s)\n", a.store.Dialect())
	return err
}

// usher janitor
func (c *cli) janitor(ctx context.Context, args []string) error {
	fs := newFlags("janitor")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	a, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer a.Close()
	removed, err := janitorPass(ctx, a)
	var parts []string
	for _, r := range removed {
		parts = append(parts, fmt.Sprintf("%s %d", r.what, r.n))
	}
	fmt.Fprintf(c.stdout, "removed: %s\n", strings.Join(parts, ", "))
	return err
}

// serveMetrics serves /metrics on metrics.listen until stop is called;
// with no address it serves nothing.
func (a *app) serveMetrics(m *metrics.Metrics) (stop func(), err error) {
	if a.cfg.Metrics.Listen == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	srv := metricsServer(m)
	srv.ErrorLog = slogErrorLog(a.log)
	go func() { _ = srv.Serve(ln) }() // ErrServerClosed once stopped
	a.log.Info("serving metrics", "address", ln.Addr().String())
	return func() { srv.Close() }, nil
}
