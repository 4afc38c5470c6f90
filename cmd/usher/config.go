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
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/usher-idp/usher/flows/mail"
)

// Names and default values of the configuration.
const (
	configEnvPrefix      = "USHER_"      // prefix of the environment variables
	configEnvTestPrefix  = "USHER_TEST_" // reserved for the test suites, ignored by loadConfig
	configMinSecretBytes = 32            // minimum length of the master secret

	configDefaultListen      = ":8080"
	configDefaultLogLevel    = "info"
	configDefaultLogFormat   = "text"
	configDefaultJanitor     = 10 * time.Minute
	configDefaultKeyRotation = 90 * 24 * time.Hour

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
	TrustedProxies string        `yaml:"trusted_proxies"`
	DatabaseURL    string        `yaml:"database_url"` // postgres://…, postgresql://… or sqlite:PATH
	Secret         string        `yaml:"secret"`       // master secret, at least 32 bytes
	SecretFile     string        `yaml:"secret_file"`  // or a file holding it; exactly one of the two
	SMTP           ConfigSMTP    `yaml:"smtp"`
	Log            ConfigLog     `yaml:"log"`
	Janitor        ConfigJanitor `yaml:"janitor"`
	Outbox         ConfigOutbox  `yaml:"outbox"`
	Keys           ConfigKeys    `yaml:"keys"`
	Tokens         ConfigTokens  `yaml:"tokens"`
}

// ConfigTokens are the lifetimes of what the token endpoint issues.
type ConfigTokens struct {
	AccessTTL    configDuration `yaml:"access_ttl"`    // access tokens
	IDTokenTTL   configDuration `yaml:"id_token_ttl"`  // ID tokens
	RefreshTTL   configDuration `yaml:"refresh_ttl"`   // refresh tokens, renewed at each use
	RefreshGrace configDuration `yaml:"refresh_grace"` // a rotated refresh token still works this long; 0 is strict
}

// ConfigKeys is the scheduled rotation of the institutions' signing keys.
type ConfigKeys struct {
	RotateEvery configDuration `yaml:"rotate_every"` // 0 disables scheduled rotation
}

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

// ConfigLog is how the binary logs.
type ConfigLog struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// ConfigJanitor is the periodic purge of expired records done by `usher serve`.
type ConfigJanitor struct {
	Interval configDuration `yaml:"interval"` // 0 disables the janitor in serve
}

// The values accepted by the enumerated keys, in the order they are documented.
const (
	configTLSNone          = "none"          // plain text, never STARTTLS
	configTLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	configTLSStartTLS      = "starttls"      // STARTTLS required
	configTLSImplicit      = "tls"           // implicit TLS (usually port 465)
)

// configDuration is a time.Duration written as a Go duration string ("30s", "10m", "24h") in
// YAML and in the environment. "0" is accepted without a unit.
type configDuration time.Duration

// Duration returns d as a time.Duration.
func (d configDuration) Duration() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does.
func (d configDuration) String() string { return time.Duration(d).String() }

// UnmarshalYAML decodes a duration string. A bad value is reported as a *yaml.TypeError so that
// the decoder goes on and the other problems of the file are reported too.
func (d *configDuration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: must be a duration like 30s, 10m or 24h", n.Line)}}
	}
	v, err := configParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML encodes d as a duration string, so that a Config round-trips.
func (d configDuration) MarshalYAML() (any, error) { return d.String(), nil }

// configParseDuration parses a duration as written in the file or the environment.
func configParseDuration(s string) (configDuration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("must be a duration like 30s, 10m or 24h, got %q", s)
	}
	return configDuration(v), nil
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
		Log:     ConfigLog{Level: configDefaultLogLevel, Format: configDefaultLogFormat},
		Janitor: ConfigJanitor{Interval: configDuration(configDefaultJanitor)},
		Outbox:  configDefaultOutbox(),
		Keys:    ConfigKeys{RotateEvery: configDuration(configDefaultKeyRotation)},
		Tokens: ConfigTokens{AccessTTL: configDuration(time.Hour), IDTokenTTL: configDuration(time.Hour),
			RefreshTTL: configDuration(30 * 24 * time.Hour), RefreshGrace: configDuration(15 * time.Second)},
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

// configKey is one leaf setting of Config.
type configKey struct {
	Path  string       // dotted YAML path, e.g. "smtp.port"
	Env   string       // environment variable, e.g. "USHER_SMTP_PORT"
	Index []int        // field index for reflect.Value.FieldByIndex
	Type  reflect.Type // type of the field
}

// configKeys derives the leaf settings from the yaml tags of Config, in declaration order.
func configKeys() []configKey {
	return configCollectKeys(reflect.TypeFor[Config](), "", nil)
}

// configCollectKeys walks the struct type t; prefix is the dotted path of t and index its field
// index. Nested structs are sections; every other field is a leaf.
func configCollectKeys(t reflect.Type, prefix string, index []int) []configKey {
	var keys []configKey
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // what yaml.v3 does
		}
		path := prefix + name
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, configCollectKeys(f.Type, path+".", idx)...)
			continue
		}
		keys = append(keys, configKey{
			Path:  path,
			Env:   configEnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_")),
			Index: idx,
			Type:  f.Type,
		})
	}
	return keys
}

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

// configDecodeFile decodes the YAML file at path into c, strictly. Unknown keys and bad values
// are added to p (they do not stop the decoding); an unreadable file or a syntax error is
// returned.
func configDecodeFile(path string, c *Config, p *configProblems) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err) // the *PathError names the path
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("config file %s: %w", path, err) // "yaml: line N: …"
	}
	lines := configLineIndex(&root, "", map[int][]string{}, p, path)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err = dec.Decode(c)
	var typeErr *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF): // io.EOF: empty file, or only comments
	case errors.As(err, &typeErr):
		for _, msg := range typeErr.Errors {
			p.addErr(configFileProblem(path, msg, lines))
		}
	default:
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		p.addErr(fmt.Errorf("config file %s: must hold a single YAML document", path))
	}
	return nil
}

// configLineIndex walks the mapping nodes under n and returns, for each line, the dotted paths
// of the keys and values on that line (parents first). It also records in p.sources where each
// key is set, so that validation problems can point at the line.
func configLineIndex(n *yaml.Node, prefix string, lines map[int][]string, p *configProblems, file string) map[int][]string {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return configLineIndex(n.Content[0], prefix, lines, p, file)
	}
	if n.Kind != yaml.MappingNode {
		return lines
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := prefix + k.Value
		lines[k.Line] = append(lines[k.Line], path)
		if v.Line != k.Line {
			lines[v.Line] = append(lines[v.Line], path)
		}
		p.sources[path] = fmt.Sprintf("line %d of %s", k.Line, file)
		configLineIndex(v, path+".", lines, p, file)
	}
	return lines
}

// configFileProblem rewrites one message of a *yaml.TypeError ("line N: …") as a problem that
// starts with the key: `smtp.hsot: unknown setting (line 3 of usher.yaml)`.
func configFileProblem(file, msg string, lines map[int][]string) error {
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err != nil {
		return fmt.Errorf("config file %s: %s", file, msg)
	}
	_, rest, _ := strings.Cut(msg, ": ")
	paths := lines[line]
	if name, ok := configUnknownFieldName(rest); ok {
		for _, path := range paths {
			if path == name || strings.HasSuffix(path, "."+name) {
				return fmt.Errorf("%s: unknown setting (line %d of %s)", path, line, file)
			}
		}
		return fmt.Errorf("%s: unknown setting (line %d of %s)", name, line, file)
	}
	if len(paths) == 0 {
		return fmt.Errorf("config file %s: %s", file, msg)
	}
	return fmt.Errorf("%s: %s (line %d of %s)", paths[len(paths)-1], rest, line, file)
}

// configUnknownFieldName extracts the key from the message of yaml.v3 for an unknown key,
// "field NAME not found in type T".
func configUnknownFieldName(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "field ")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, " not found in type ")
	return name, ok
}

// configApplyEnv sets the keys given by USHER_* variables of env. Unknown USHER_* variables and
// bad values are added to p; USHER_TEST_* variables are ignored. When a variable appears twice,
// the first one wins, as with os.Getenv.
func configApplyEnv(c *Config, env []string, keys []configKey, p *configProblems) {
	byEnv := make(map[string]configKey, len(keys))
	for _, k := range keys {
		byEnv[k.Env] = k
	}
	seen := map[string]bool{}
	root := reflect.ValueOf(c).Elem()
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, configEnvPrefix) || strings.HasPrefix(name, configEnvTestPrefix) || seen[name] {
			continue
		}
		seen[name] = true
		k, known := byEnv[name]
		if !known {
			p.addErr(fmt.Errorf("%s: unknown setting", name))
			continue
		}
		if err := configSetValue(root.FieldByIndex(k.Index), value); err != nil {
			p.addErr(fmt.Errorf("%s: %w", name, err))
			continue
		}
		p.sources[k.Path] = "from " + name
	}
}

// configSetValue sets the leaf v from its textual form, as found in the environment.
func configSetValue(v reflect.Value, raw string) error {
	if v.Type() == reflect.TypeFor[configDuration]() {
		d, err := configParseDuration(raw)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be an integer, got %q", raw)
		}
		v.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", raw)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("settings of type %s cannot be set from the environment", v.Type())
	}
	return nil
}

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
	configValidateDurations(c, keys, p)
}

// configTrustedProxies parses trusted_proxies: CIDRs or single addresses.
func configTrustedProxies(raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' }) {
		if pfx, err := netip.ParsePrefix(f); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		addr, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR", f)
		}
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}

// configValidateListen checks that listen is host:port with a numeric port.
func configValidateListen(listen string, p *configProblems) {
	if listen == "" {
		p.add("listen", "required, e.g. :8080 or 127.0.0.1:8080")
		return
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		p.add("listen", "must be host:port, e.g. :8080 or 127.0.0.1:8080, got %q", listen)
		return
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		p.add("listen", "port must be a number between 0 and 65535, got %q", port)
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

// configValidateSecret checks that exactly one of secret and secret_file is set and that the
// secret is long enough. A missing development secret file is not a problem: loadConfig creates
// it.
func configValidateSecret(c *Config, devSecret bool, p *configProblems) {
	_, key, err := configLoadSecret(c.Secret, c.SecretFile)
	if err == nil || (devSecret && errors.Is(err, fs.ErrNotExist)) {
		return
	}
	p.add(key, "%v", err)
}

// masterSecret returns the master secret: the bytes of secret, or the content of secret_file
// without its trailing newline. Keys and encrypted data are derived from it.
func (c Config) masterSecret() ([]byte, error) {
	b, key, err := configLoadSecret(c.Secret, c.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return b, nil
}

// configLoadSecret returns the master secret given by secret or file. On error, key names the
// setting at fault.
func configLoadSecret(secret, file string) (b []byte, key string, err error) {
	switch {
	case secret == "" && file == "":
		return nil, "secret", errors.New("set secret or secret_file")
	case secret != "" && file != "":
		return nil, "secret", errors.New("set only one of secret and secret_file")
	case secret != "":
		if len(secret) < configMinSecretBytes {
			return nil, "secret", fmt.Errorf("must be at least %d bytes, got %d", configMinSecretBytes, len(secret))
		}
		return []byte(secret), "", nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, "secret_file", fmt.Errorf("cannot read: %w", err)
	}
	b = bytes.TrimRight(data, "\r\n")
	if len(b) < configMinSecretBytes {
		return nil, "secret_file", fmt.Errorf("%s holds %d bytes, at least %d are needed", file, len(b), configMinSecretBytes)
	}
	return b, "", nil
}

// configEnsureDevSecret creates the development secret file at path, if it does not exist, with
// 32 random bytes hex-encoded (64 characters) and mode 0600. It reports whether it created it;
// an existing file is left untouched.
func configEnsureDevSecret(path string) (created bool, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return false, fmt.Errorf("generating a development secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("creating the development secret: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(raw))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // never leave a truncated secret behind
		return false, fmt.Errorf("writing the development secret: %w", err)
	}
	return true, nil
}

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

// configValidateLog checks the log section.
func configValidateLog(l *ConfigLog, p *configProblems) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level", "must be one of debug, info, warn, error, got %q", l.Level)
	}
	switch l.Format {
	case "text", "json":
	default:
		p.add("log.format", "must be text or json, got %q", l.Format)
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
