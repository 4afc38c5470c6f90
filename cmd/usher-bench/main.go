// Command usher-bench measures a running Usher over HTTP: requests per
// second, latency percentiles, errors, the server's memory (RSS, read from
// /proc) and the database statements each operation costs (from the
// server's /metrics). It sets up what it needs itself (an institution,
// clients and accounts) through the storage layer, with the server's
// database URL and master secret.
//
//	usher-bench [flags] SCENARIO...
//	usher-bench seed [flags]
//
// See BENCHMARKS.md at the root of the repository for the commands that
// produced the published figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "usher-bench: "+strings.ReplaceAll(err.Error(), "\n", "\nusher-bench: "))
		os.Exit(1)
	}
}

const usage = `usage: usher-bench [flags] SCENARIO...
       usher-bench seed [flags]

Drives a running Usher over HTTP and prints, per scenario, complete
operations per second, p50/p90/p99 latency, errors, the server's RSS, the
database statements per operation (from the server's /metrics) and the CPU
per operation of the server, PostgreSQL and the load generator (from /proc).
It creates its own institution, clients and accounts in the server's database
(--database-url and --secret must be the server's). "seed" fills a database
with many accounts and token rows (usher-bench seed -h).

Scenarios:
  client-credentials  POST token, grant client_credentials
  client-credentials-jwt
                      the same for a client with JWT access tokens (RFC 9068,
                      ES256): no database write; each token checked to be a JWT
  introspect          POST introspect of pre-issued access tokens (resource server)
  refresh             POST token, grant refresh_token, scope without openid; each
                      worker rotates its own refresh chain
  refresh-openid      the same with openid (a new ID token each time)
  sso-code-flow       authorize with an existing browser session -> code -> token,
                      ID token verified (signature, nonce, at_hash)
  userinfo            GET userinfo with an access token
  discovery           GET the discovery document
  jwks                GET the JWKS
  healthz             GET /healthz, the liveness probe: no work of its own, so
                      its rate and latency are the floor of the HTTP stack and
                      of this machine for every other scenario
  forgot-known        POST the forgotten-password form with a worker's email (the
                      answer comes first; the link and its email follow it, within
                      the limits: 3 an hour per email, 30 per source address)
  forgot-unknown      the same with an email no account has
  reset-page          GET a reset link's page (the link read, not used: each
                      worker opens its own again and again)
  password-login      a new browser each time: authorize -> sign-in page -> POST
                      email+password (argon2id) -> authorize -> code -> token, ID
                      token verified; also measures this machine's argon2id hash
                      rate (server idle) and prints the ratio
  all                 every scenario above, in that order

Memory: "RSS start" is the server's VmRSS before the run, "RSS before" just
before a scenario's warm-up, "RSS peak" the highest of the samples taken every
100 ms during its measurement (VmHWM, the kernel's high-water mark, is in --json).

Flags:
`

// options are the flags of a benchmark run.
type options struct {
	target       string
	metrics      string // the server's /metrics, on its metrics listener
	databaseURL  string
	secret       string
	concurrency  int
	duration     time.Duration
	warmup       time.Duration
	json         bool
	pid          int
	institution  string
	hashDuration time.Duration
	idTokenAlg   string
	tokens       int
	during       string
	duringDelay  time.Duration
	pause        time.Duration
	cpuprofile   string
	jsonFile     string
	rate         float64 // operations due per second (an open loop); 0: a closed loop
	openLoop     float64 // a second, open-loop measurement at this fraction of the closed loop's rate
	openWorkers  int     // workers of that open loop
}

// workers is how many workers a run prepares: the closed loop's, or the
// open loop's when it has more.
func (o options) workers() int {
	if o.openLoop > 0 {
		return max(o.concurrency, o.openWorkers)
	}
	return o.concurrency
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "seed" {
		return seedCommand(ctx, args[1:], stdout, stderr)
	}
	var o options
	fs := flag.NewFlagSet("usher-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8080", "base URL of the running Usher (its public_url)")
	fs.StringVar(&o.metrics, "metrics", "http://127.0.0.1:9464/metrics", "the server's /metrics, on its metrics.listen")
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("USHER_DATABASE_URL"),
		"the server's database URL, for setup only (default $USHER_DATABASE_URL)")
	fs.StringVar(&o.secret, "secret", os.Getenv("USHER_SECRET"),
		"the server's master secret, for setup only (default $USHER_SECRET)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "concurrent workers (each its own account and browser)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time per scenario before the measurement")
	fs.BoolVar(&o.json, "json", false, "print one JSON document instead of the table")
	fs.StringVar(&o.jsonFile, "json-file", "", "also write the JSON document to this file")
	fs.IntVar(&o.pid, "pid", 0, "the server's process ID (default: found by the target's listening port)")
	fs.StringVar(&o.institution, "institution", "",
		"run in this institution (created when missing); default: a new one, bench-<time>")
	fs.DurationVar(&o.hashDuration, "hash-duration", 3*time.Second, "how long password-login measures the argon2id hash rate")
	fs.StringVar(&o.idTokenAlg, "id-token-alg", "RS256", "ID token algorithm of the benchmark's shop client: RS256 or ES256")
	fs.IntVar(&o.tokens, "tokens", 1000, "access tokens the introspect scenario issues beforehand and cycles through")
	fs.StringVar(&o.during, "during", "",
		"a shell command (e.g. \"usher janitor\") started during each measurement; latency is then also "+
			"reported split into while it ran and outside, and the measurement lasts until it has ended")
	fs.DurationVar(&o.duringDelay, "during-delay", 5*time.Second,
		"with --during: measured time before the command starts and after it ends")
	fs.DurationVar(&o.pause, "pause", time.Second, "idle time between a scenario's preparation and its warm-up (RSS before is read after it)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the load generator (this process) to this file")
	fs.Float64Var(&o.rate, "rate", 0, "operations due per second, spread evenly (an open loop, as wrk2); latency counts "+
		"from when each was due; --concurrency bounds those in flight. 0: each worker starts its next as soon as "+
		"the last has ended (a closed loop)")
	fs.Float64Var(&o.openLoop, "open-loop", 0, "after each scenario's measurement, measure it again for --duration at this "+
		"fraction (e.g. 0.8) of the rate it reached, in an open loop (see --rate)")
	fs.IntVar(&o.openWorkers, "open-loop-workers", 0, "workers of the --open-loop measurement, the most operations in flight "+
		"(default: 4 × --concurrency). An operation arriving alone costs more than one of a closed loop's batches, so "+
		"with only the closed loop's workers the open loop's rate could be bounded by its workers, not by the server")
	scenarios, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(scenarios) == 0 {
		fs.Usage()
		return errors.New("name at least one scenario")
	}
	names, err := expandScenarios(scenarios)
	if err != nil {
		return err
	}
	if o.concurrency < 1 || o.duration <= 0 || o.warmup < 0 || o.tokens < 1 {
		return errors.New("--concurrency and --duration must be positive, --warmup not negative, --tokens at least 1")
	}
	if o.rate < 0 || o.openLoop < 0 || o.openLoop > 1 || (o.rate > 0 && o.openLoop > 0) {
		return errors.New("--rate must be positive, --open-loop a fraction between 0 and 1, and only one of them given")
	}
	switch {
	case o.openWorkers < 0:
		return errors.New("--open-loop-workers must not be negative")
	case o.openWorkers == 0:
		o.openWorkers = 4 * o.concurrency
	}
	if o.idTokenAlg != "RS256" && o.idTokenAlg != "ES256" {
		return errors.New("--id-token-alg: RS256 or ES256")
	}
	if o.databaseURL == "" || o.secret == "" {
		return errors.New("--database-url and --secret (or USHER_DATABASE_URL and USHER_SECRET) must be the server's")
	}
	o.target = strings.TrimSuffix(o.target, "/")
	stopProfile, err := startCPUProfile(o.cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	return bench(ctx, o, names, stdout, stderr)
}

// startCPUProfile profiles this process into the file path, unless path is
// empty; stop ends the profile and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// parseInterleaved parses flags wherever they appear among the positional
// arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
