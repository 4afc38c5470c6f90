package main

// Configuration of the usher binary.
//
// A configuration is built in four steps by loadConfig:
//
//  1. static defaults (production or --dev),
//  2. the YAML file, decoded strictly (unknown keys are errors),
//  3. environment variables USHER_<PATH> (they override the file),
//  4. derived defaults (values that depend on others, such as smtp.port on smtp.tls),
//
// then everything is validated and every problem is reported at once.
//
// The list of keys is derived by reflection from the yaml tags of Config, so a field added to
// Config is automatically settable from the environment and checked for in config.example.yaml
// by the tests.

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/usher-idp/usher/flows/mail"
)

// Names and default values of the configuration.
const (
	configEnvPrefix     = "USHER_"      // prefix of the environment variables
	configEnvTestPrefix = "USHER_TEST_" // reserved for the test suites, ignored by loadConfig

	configDefaultListen          = ":8080"
	configDefaultLogLevel        = "info"
	configDefaultLogFormat       = "text"
	configDefaultJanitor         = 10 * time.Minute
	configDefaultPendingAccounts = 30 * 24 * time.Hour
	configDefaultMetricsListen   = "127.0.0.1:9464"
	configDefaultKeyRotation     = 90 * 24 * time.Hour

	configDevListen      = "127.0.0.1:8080"
	configDevDatabaseURL = "sqlite:./usher-dev.db"
	configDevSecretFile  = "./usher-dev.secret"
	configDevSMTPFrom    = "Usher <no-reply@localhost>"
)

// Config is every setting of `usher serve` (and of the other commands that open the database).
// See config.example.yaml for the documentation of each key.
type Config struct {
	Listen    string `yaml:"listen"`     // address to listen on, host:port
	PublicURL string `yaml:"public_url"` // absolute http(s) URL, no trailing slash
	// TrustedProxies are the addresses (CIDRs or IPs, separated by commas or
	// spaces) of the load balancers in front of Usher, whose X-Forwarded-For
	// tells the client's address.
	TrustedProxies string         `yaml:"trusted_proxies"`
	DatabaseURL    string         `yaml:"database_url"` // postgres://…, postgresql://… or sqlite:PATH
	Database       ConfigDatabase `yaml:"database"`
	Limits         ConfigLimits   `yaml:"limits"`
	Secret         string         `yaml:"secret"`      // master secret, at least 32 bytes
	SecretFile     string         `yaml:"secret_file"` // or a file holding it; exactly one of the two
	SMTP           ConfigSMTP     `yaml:"smtp"`
	Log            ConfigLog      `yaml:"log"`
	Janitor        ConfigJanitor  `yaml:"janitor"`
	Outbox         ConfigOutbox   `yaml:"outbox"`
	Metrics        ConfigMetrics  `yaml:"metrics"`
	Keys           ConfigKeys     `yaml:"keys"`
	Tokens         ConfigTokens   `yaml:"tokens"`
}

// ConfigMetrics is where Prometheus scrapes the metrics.
type ConfigMetrics struct {
	Listen string `yaml:"listen"` // host:port of the metrics listener; "" serves no metrics
}

// ConfigJanitor is the periodic purge of expired records done by `usher serve`.
type ConfigJanitor struct {
	Interval configDuration `yaml:"interval"` // 0 disables the janitor in serve
	// PendingAccounts is how long an account may stay pending (never
	// activated) before the janitor removes it; 0 keeps them.
	PendingAccounts configDuration `yaml:"pending_accounts"`
}

// configNotes tells the caller of loadConfig what loadConfig did besides reading.
type configNotes struct {
	// DevSecretCreated is true when loadConfig (in --dev, with neither secret nor secret_file
	// set) created the development secret file Config.SecretFile. The caller should warn that
	// this secret is for development only.
	DevSecretCreated bool
}

// loadConfig reads the YAML file at path (path may be "": no file), then applies the environment
// variables of env (os.Environ()-shaped), then the defaults (dev or production), then validates.
//
// All problems are reported at once: the error is an errors.Join of one error per problem, each a
// single line naming the key, e.g. `smtp.port: must be between 1 and 65535, got 70000 (from
// USHER_SMTP_PORT)`. A missing or syntactically broken file is reported alone.
//
// In dev mode, when neither secret nor secret_file is set, secret_file defaults to
// ./usher-dev.secret, and loadConfig creates that file with configEnsureDevSecret if it does not
// exist yet (only once everything else is valid); notes.DevSecretCreated tells whether it did.
// On error, the returned Config is the zero value.
func loadConfig(path string, env []string, dev bool) (Config, configNotes, error) {
	keys := configKeys()
	c := configDefaults(dev)
	p := &configProblems{sources: map[string]string{}}
	if path != "" {
		if err := configDecodeFile(path, &c, p); err != nil {
			return Config{}, configNotes{}, err
		}
	}
	configApplyEnv(&c, env, keys, p)
	devSecret := configApplyDerived(&c, dev)
	configValidate(&c, keys, dev, devSecret, p)
	if err := p.err(); err != nil {
		return Config{}, configNotes{}, err
	}
	var notes configNotes
	if devSecret {
		created, err := configEnsureDevSecret(c.SecretFile)
		if err != nil {
			return Config{}, configNotes{}, fmt.Errorf("secret_file: %w", err)
		}
		notes.DevSecretCreated = created
	}
	return c, notes, nil
}

// configDefaults returns the defaults that do not depend on other settings.
func configDefaults(dev bool) Config {
	c := Config{
		Listen: configDefaultListen,
		SMTP: ConfigSMTP{
			TLS:      configTLSStartTLS,
			Timeout:  configDuration(mail.DefaultTimeout),
			RetryFor: configDuration(mail.DefaultRetryFor),
		},
		Log: ConfigLog{Level: configDefaultLogLevel, Format: configDefaultLogFormat},
		Janitor: ConfigJanitor{Interval: configDuration(configDefaultJanitor),
			PendingAccounts: configDuration(configDefaultPendingAccounts)},
		Outbox:   configDefaultOutbox(),
		Database: configDefaultDatabase(),
		Limits:   configDefaultLimits(),
		Metrics:  ConfigMetrics{Listen: configDefaultMetricsListen},
		Keys:     ConfigKeys{RotateEvery: configDuration(configDefaultKeyRotation)},
		Tokens: ConfigTokens{AccessTTL: configDuration(time.Hour), JWTAccessTTL: configDuration(5 * time.Minute),
			IDTokenTTL: configDuration(time.Hour),
			RefreshTTL: configDuration(30 * 24 * time.Hour), RefreshGrace: configDuration(15 * time.Second),
			GrantTTL: configDuration(90 * 24 * time.Hour)},
	}
	if dev {
		c.Listen = configDevListen
		c.DatabaseURL = configDevDatabaseURL
	}
	return c
}

// configApplyDerived fills the defaults that depend on other settings, after the file and the
// environment. It reports whether secret_file was defaulted to the development secret file.
func configApplyDerived(c *Config, dev bool) (devSecret bool) {
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.SMTP.TLS = strings.ToLower(c.SMTP.TLS)
	c.Log.Level = strings.ToLower(c.Log.Level)
	c.Log.Format = strings.ToLower(c.Log.Format)
	if c.SMTP.Port == 0 {
		c.SMTP.Port = 587
		if c.SMTP.TLS == configTLSImplicit {
			c.SMTP.Port = 465
		}
	}
	if !dev {
		return false
	}
	if c.PublicURL == "" {
		c.PublicURL = configDevPublicURL(c.Listen)
	}
	if c.SMTP.From == "" {
		c.SMTP.From = configDevSMTPFrom
	}
	if c.Secret == "" && c.SecretFile == "" {
		c.SecretFile = configDevSecretFile
		return true
	}
	return false
}

// configDevPublicURL derives the public URL of dev mode from the listen address: http, with
// 127.0.0.1 when the host is empty or unspecified (0.0.0.0, ::). It returns "" when listen is
// not host:port (validation reports it).
func configDevPublicURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
