package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// configProblems collects the problems of a configuration.
type configProblems struct {
	list    []error
	sources map[string]string // key path -> where its value comes from, e.g. "from USHER_LISTEN"
}

// add records a problem of the key path. The source of the value, when known, is appended.
func (p *configProblems) add(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if src := p.sources[path]; src != "" {
		msg += " (" + src + ")"
	}
	p.list = append(p.list, fmt.Errorf("%s: %s", path, msg))
}

// addErr records a problem already formatted.
func (p *configProblems) addErr(err error) { p.list = append(p.list, err) }

// err returns the problems joined, or nil.
func (p *configProblems) err() error { return errors.Join(p.list...) }

// configValidate adds to p every problem of c. devSecret tells that secret_file is the
// development default, which loadConfig creates when it is missing.
func configValidate(c *Config, keys []configKey, dev, devSecret bool, p *configProblems) {
	configValidateListen(c.Listen, p)
	if _, err := configTrustedProxies(c.TrustedProxies); err != nil {
		p.add("trusted_proxies", "%v", err)
	}
	configValidatePublicURL(c.PublicURL, p)
	configValidateDatabaseURL(c.DatabaseURL, p)
	configValidateSecret(c, devSecret, p)
	configValidateSMTP(&c.SMTP, dev, p)
	configValidateLog(&c.Log, p)
	configValidateOutbox(&c.Outbox, p)
	configValidateDatabase(&c.Database, p)
	configValidateLimits(&c.Limits, p)
	if c.Metrics.Listen != "" {
		configValidateAddress("metrics.listen", c.Metrics.Listen, "127.0.0.1:9464, or empty for no metrics", p)
	}
	configValidateDurations(c, keys, p)
	if dev {
		configValidateDev(c, p)
	}
}

// configValidateDev keeps --dev to what it is for, a machine of one's own:
// its master secret and demo passwords are not secret, so it refuses a
// database other than SQLite and an address other people could reach.
func configValidateDev(c *Config, p *configProblems) {
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		p.add("database_url", "--dev runs only on SQLite (sqlite:PATH): its secret and demo passwords are not secret")
	}
	for _, l := range []struct{ path, addr, example string }{
		{"listen", c.Listen, "127.0.0.1:8080"}, {"metrics.listen", c.Metrics.Listen, "127.0.0.1:9464"},
	} {
		if host, _, err := net.SplitHostPort(l.addr); err == nil && !configLoopbackHost(host) {
			p.add(l.path, "--dev listens only on a loopback address, such as %s, got %q", l.example, l.addr)
		}
	}
	if u, err := url.Parse(c.PublicURL); err == nil && !configLoopbackHost(u.Hostname()) {
		p.add("public_url", "--dev serves only a loopback URL, such as http://127.0.0.1:8080, got %q", c.PublicURL)
	}
}

// configLoopbackHost reports whether host is localhost or a loopback IP.
func configLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// configValidateListen checks that listen is host:port with a numeric port.
func configValidateListen(listen string, p *configProblems) {
	if listen == "" {
		p.add("listen", "required, e.g. :8080 or 127.0.0.1:8080")
		return
	}
	configValidateAddress("listen", listen, ":8080 or 127.0.0.1:8080", p)
}

// configValidateAddress checks that the address of the setting at path is
// host:port with a numeric port; example shows a good one.
func configValidateAddress(path, addr, example string, p *configProblems) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add(path, "must be host:port, e.g. %s, got %q", example, addr)
		return
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		p.add(path, "port must be a number between 0 and 65535, got %q", port)
	}
}

// configValidatePublicURL checks that public_url is an absolute http(s) URL without query or
// fragment, and https unless its host is localhost or a loopback address.
func configValidatePublicURL(raw string, p *configProblems) {
	const key = "public_url"
	if raw == "" {
		p.add(key, "required: the URL the users' browsers reach Usher at, e.g. https://id.example.org")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.add(key, "not a valid URL: %q", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		p.add(key, "must be an absolute http or https URL, got %q", raw)
	case u.Host == "":
		p.add(key, "must have a host, got %q", raw)
	case u.User != nil:
		p.add(key, "must not hold user information, got %q", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		p.add(key, "must not have a query or a fragment, got %q", raw)
	case u.Scheme == "http" && !configIsLoopback(u.Hostname()):
		p.add(key, "must use https (http is only allowed for localhost and loopback addresses), got %q", raw)
	}
}

// configIsLoopback reports whether host is localhost or a loopback IP address.
func configIsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// configValidateDatabaseURL checks the scheme of database_url. The URL itself is never echoed:
// it may hold a password.
func configValidateDatabaseURL(raw string, p *configProblems) {
	const key = "database_url"
	if raw == "" {
		p.add(key, "required: postgres://USER@HOST/DB or sqlite:PATH")
		return
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		p.add(key, "must be postgres://… or sqlite:PATH")
		return
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if _, err := url.Parse(raw); err != nil || !strings.HasPrefix(rest, "//") {
			p.add(key, "not a valid postgres:// URL (special characters of the password must be %%-encoded)")
		}
	case "sqlite":
		if strings.TrimPrefix(rest, "//") == "" {
			p.add(key, "sqlite: needs a path, e.g. sqlite:./usher.db")
		}
	default:
		p.add(key, "unsupported scheme %q (use postgres://… or sqlite:PATH)", scheme)
	}
}

// configValidateDurations checks that no duration setting is negative.
func configValidateDurations(c *Config, keys []configKey, p *configProblems) {
	root := reflect.ValueOf(c).Elem()
	for _, k := range keys {
		if k.Type != reflect.TypeFor[configDuration]() {
			continue
		}
		if d := root.FieldByIndex(k.Index).Interface().(configDuration); d < 0 {
			p.add(k.Path, "must not be negative, got %s", d)
		}
	}
}
