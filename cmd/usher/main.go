// Command usher is the Usher OpenID Connect provider: the server and the
// commands that operate it. main only wires: it reads the environment, and
// everything else happens in cli.run, which tests call directly.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{env: os.Environ(), stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, now: time.Now}
	if err := c.run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "usher: "+strings.ReplaceAll(err.Error(), "\n", "\nusher: "))
		os.Exit(1)
	}
}

// cli is one invocation of the binary: its environment and its streams.
type cli struct {
	env    []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
	// listening, when set, learns the address serve listens on (tests listen
	// on port 0).
	listening func(net.Addr)
}

// usage lists the commands; the README holds the full reference.
const usage = `usage: usher COMMAND [ARGS]

  serve [--config FILE] [--dev]       run the server
  migrate                             apply database migrations
  institution create|update|list      manage institutions
  client create|list|delete           manage relying applications
  account create|list|set-password|unlock
                                      manage accounts
  keys rotate                         rotate an institution's signing keys
  outbox list|retry                   see the emails of an institution, queue one again
  mail test                           queue a sample email (checks SMTP and templates)
  template set|list|show|delete       an institution's email templates
  janitor                             remove expired tokens, sessions, links and old emails

Every command takes --config FILE and --dev. Settings can also come from
USHER_* environment variables (see config.example.yaml).
`

// errUsage: the command line is wrong; the message says how.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usageErr(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

// run dispatches to a command.
func (c *cli) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return usageErr("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return c.serve(ctx, rest)
	case "migrate":
		return c.migrate(ctx, rest)
	case "institution":
		return c.sub(ctx, "institution", rest, map[string]command{
			"create": c.institutionCreate, "update": c.institutionUpdate, "list": c.institutionList,
		})
	case "client":
		return c.sub(ctx, "client", rest, map[string]command{
			"create": c.clientCreate, "list": c.clientList, "delete": c.clientDelete,
		})
	case "account":
		return c.sub(ctx, "account", rest, map[string]command{
			"create": c.accountCreate, "list": c.accountList, "set-password": c.accountSetPassword,
			"unlock": c.accountUnlock,
		})
	case "keys":
		return c.sub(ctx, "keys", rest, map[string]command{"rotate": c.keysRotate})
	case "outbox":
		return c.sub(ctx, "outbox", rest, map[string]command{"list": c.outboxList, "retry": c.outboxRetry})
	case "mail":
		return c.sub(ctx, "mail", rest, map[string]command{"test": c.mailTest})
	case "template":
		return c.sub(ctx, "template", rest, map[string]command{
			"set": c.templateSet, "list": c.templateList, "show": c.templateShow, "delete": c.templateDelete,
		})
	case "janitor":
		return c.janitor(ctx, rest)
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	}
	return usageErr("unknown command %q (try usher help)", cmd)
}

// prefixLines puts prefix before every line of err's message: a list of
// problems stays one line per problem, each saying what it concerns.
func prefixLines(prefix string, err error) error {
	return fmt.Errorf("%s%w", prefix, lineError{prefix, err})
}

type lineError struct {
	prefix string
	err    error
}

func (e lineError) Error() string {
	return strings.ReplaceAll(e.err.Error(), "\n", "\n"+e.prefix)
}

func (e lineError) Unwrap() error { return e.err }

// command is one subcommand, given the arguments after its name.
type command func(ctx context.Context, args []string) error

func (c *cli) sub(ctx context.Context, group string, args []string, cmds map[string]command) error {
	if len(args) == 0 {
		return usageErr("usher %s: which one? (%s)", group, names(cmds))
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		return usageErr("usher %s: unknown command %q (%s)", group, args[0], names(cmds))
	}
	return cmd(ctx, args[1:])
}

func names(cmds map[string]command) string {
	var list []string
	for name := range cmds {
		list = append(list, name)
	}
	sortStrings(list)
	return strings.Join(list, ", ")
}
