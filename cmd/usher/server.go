package main

import (
	"log"
	"log/slog"
	"net/http"
	"strings"

	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/internal/metrics"
	"github.com/usher-idp/usher/templates"
)

// newHandler builds the whole HTTP handler graph: the same one in
// production and in the end-to-end tests.
// demo, when set (--dev), adds the demo relying party at /demo/.
func newHandler(a *app, m *metrics.Metrics, demo *demoData) http.Handler {
	trusted, _ := configTrustedProxies(a.cfg.TrustedProxies) // validated with the configuration
	warnings := httpserver.NewWarnings(a.log)
	clientAddress := httpserver.ClientAddress(trusted, warnings)
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", httpserver.Healthz())
	mux.Handle("GET /readyz", httpserver.Readyz(a.store, a.log, warnings))
	a.provider.Routes(mux)
	a.pages.Routes(mux)
	a.admin.Routes(mux)
	if demo != nil {
		newDemoRP(a.cfg.PublicURL, demo, a.pages.Site.Pages.Assets().URL("usher.css")).routes(mux)
	}
	https := strings.HasPrefix(a.cfg.PublicURL, "https://")
	return httpserver.Chain(a.pages.Site.RouterErrors(mux),
		a.activity.Count(isActivity),
		clientAddress, // without trusted proxies: the warning when X-Forwarded-For arrives anyway
		httpserver.Observe(a.log, m),
		httpserver.SecurityHeaders(templates.ContentSecurityPolicy, https),
		httpserver.LimitPerClient(a.cfg.Limits.RequestsPerClient),
		httpserver.Recover(a.log),
		httpserver.LimitBodyPer(maxBodyBytes, a.admin.BodyLimit), // the admin API's image uploads bound their own
	)
}

// metricsServer is the listener of /metrics: its own address
// (metrics.listen, loopback by default), never the public one, where the
// counts (sign-ins, statements) would tell strangers what happens.
func metricsServer(m *metrics.Metrics) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
}

// slogErrorLog routes net/http's own complaints (TLS handshakes, broken
// connections) to the structured log.
func slogErrorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelWarn)
}
