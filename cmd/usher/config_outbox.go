package main

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

// ConfigOutbox is what becomes of emails once they have been sent or have
// failed.
type ConfigOutbox struct {
	// Retention is how long sent and failed emails stay in the outbox (for
	// `usher outbox list`) before the janitor removes them; queued emails
	// are never removed.
	Retention configDuration `yaml:"retention"`
}

// configMinOutboxRetention is the shortest outbox.retention: a failed email
// stays long enough to be retried once its cause is fixed.
const configMinOutboxRetention = time.Hour

func configDefaultOutbox() ConfigOutbox {
	return ConfigOutbox{Retention: configDuration(storage.DefaultOutboxRetention)}
}

// configValidateOutbox checks the outbox section.
func configValidateOutbox(c *ConfigOutbox, p *configProblems) {
	if r := c.Retention.Duration(); r >= 0 && r < configMinOutboxRetention {
		p.add("outbox.retention", "must be at least %s, got %s", configMinOutboxRetention, r)
	}
}
