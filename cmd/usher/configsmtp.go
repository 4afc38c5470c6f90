package main

import netmail "net/mail"

// ConfigSMTP is how emails are sent.
type ConfigSMTP struct {
	Host     string         `yaml:"host"`      // empty only in --dev: emails are printed to the console
	Port     int            `yaml:"port"`      // 0 means the default: 465 when TLS is "tls", else 587
	TLS      string         `yaml:"tls"`       // none, opportunistic, starttls or tls
	Username string         `yaml:"username"`  // empty: no authentication
	Password string         `yaml:"password"`  // password of Username
	From     string         `yaml:"from"`      // default sender, RFC 5322 address
	Timeout  configDuration `yaml:"timeout"`   // dial and per-command timeout
	RetryFor configDuration `yaml:"retry_for"` // how long a temporarily failing email is retried
}

// The values accepted by the enumerated keys, in the order they are documented.
const (
	configTLSNone          = "none"          // plain text, never STARTTLS
	configTLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	configTLSStartTLS      = "starttls"      // STARTTLS required
	configTLSImplicit      = "tls"           // implicit TLS (usually port 465)
)

// configValidateSMTP checks the smtp section. In dev mode, an empty host is allowed (emails are
// printed to the console).
func configValidateSMTP(s *ConfigSMTP, dev bool, p *configProblems) {
	if s.Host == "" && !dev {
		p.add("smtp.host", "required: the SMTP server that sends the emails (only --dev may leave it empty)")
	}
	switch s.TLS {
	case configTLSNone, configTLSOpportunistic, configTLSStartTLS, configTLSImplicit:
	default:
		p.add("smtp.tls", "must be one of %s, %s, %s, %s, got %q",
			configTLSNone, configTLSOpportunistic, configTLSStartTLS, configTLSImplicit, s.TLS)
	}
	if s.Port < 1 || s.Port > 65535 {
		p.add("smtp.port", "must be between 1 and 65535, got %d", s.Port)
	}
	if s.Password != "" && s.Username == "" {
		p.add("smtp.username", "required when smtp.password is set")
	}
	switch {
	case s.From == "" && s.Host != "":
		p.add("smtp.from", "required when smtp.host is set, e.g. Usher <no-reply@example.org>")
	case s.From != "":
		if _, err := netmail.ParseAddress(s.From); err != nil {
			p.add("smtp.from", "not an RFC 5322 address like Usher <no-reply@example.org> (%v), got %q", err, s.From)
		}
	}
	if s.Timeout == 0 {
		p.add("smtp.timeout", "must be positive, e.g. 10s")
	}
}
