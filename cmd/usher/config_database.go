package main

import (
	"time"

	"github.com/usher-idp/usher/storage/sqlstore"
)

// ConfigDatabase bounds the database calls: past its deadline, a call
// fails and the request is answered 503 with Retry-After, even when the
// server stalls.
type ConfigDatabase struct {
	Timeout     configDuration `yaml:"timeout"`      // a statement, a transaction's BEGIN and COMMIT
	ReadTimeout configDuration `yaml:"read_timeout"` // a read outside a transaction: the hot paths
}

// configMinDatabaseTimeout is the shortest deadline accepted: below it, a
// loaded but healthy database would look unavailable.
const configMinDatabaseTimeout = 100 * time.Millisecond

func configDefaultDatabase() ConfigDatabase {
	return ConfigDatabase{Timeout: configDuration(sqlstore.DefaultTimeout),
		ReadTimeout: configDuration(sqlstore.DefaultReadTimeout)}
}

// configValidateDatabase checks the database section.
func configValidateDatabase(c *ConfigDatabase, p *configProblems) {
	if d := c.Timeout.Duration(); d < configMinDatabaseTimeout {
		p.add("database.timeout", "must be at least %s, got %s", configMinDatabaseTimeout, d)
	}
	if d := c.ReadTimeout.Duration(); d < configMinDatabaseTimeout || d > c.Timeout.Duration() {
		p.add("database.read_timeout", "must be at least %s and at most database.timeout (%s), got %s",
			configMinDatabaseTimeout, c.Timeout.Duration(), d)
	}
}

// ConfigLimits bound what clients may hold of the server at once; beyond
// them, the answer is 503 with Retry-After.
type ConfigLimits struct {
	// Connections is the most open connections; 0 means no limit.
	Connections int `yaml:"connections"`
	// RequestsPerClient is the most requests in flight per client address
	// (as trusted_proxies tells it); 0 means no limit.
	RequestsPerClient int `yaml:"requests_per_client"`
}

const (
	configDefaultConnections       = 2048
	configDefaultRequestsPerClient = 128
)

func configDefaultLimits() ConfigLimits {
	return ConfigLimits{Connections: configDefaultConnections, RequestsPerClient: configDefaultRequestsPerClient}
}

// configValidateLimits checks the limits section.
func configValidateLimits(c *ConfigLimits, p *configProblems) {
	if c.Connections < 0 {
		p.add("limits.connections", "must be 0 (no limit) or more, got %d", c.Connections)
	}
	if c.RequestsPerClient < 0 {
		p.add("limits.requests_per_client", "must be 0 (no limit) or more, got %d", c.RequestsPerClient)
	}
}
