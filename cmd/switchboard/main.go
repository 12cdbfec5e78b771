// Command switchboard is the Switchboard PBX control plane and its admin CLI.
//
//	switchboard serve        REST API, ARI app, FastAGI server, config generation (migrates first)
//	switchboard migrate      apply database migrations and exit
//	switchboard users ...    manage users through the REST API (add, list, show, passwd, rm)
//	switchboard rooms ...    manage conference rooms and the people in them through the REST API
//	switchboard groups ...   manage ring groups through the REST API (add, list, show, set, rm)
//	switchboard queues ...   manage call queues and their agents' logins through the REST API
//	switchboard trunks ...   manage trunks (SIP providers) through the REST API (add, list, get, set, rm)
//	switchboard routes ...   manage outbound routes through the REST API (add, list, get, set, rm)
//	switchboard dids ...     manage inbound numbers through the REST API (add, list, get, set, rm)
//	switchboard audit        list the audit trail of changes made through the REST API
//	switchboard healthcheck  exit 0 when the local server is ready (for container healthchecks)
//
// Configuration comes from the environment (see README.md); this package is the only place
// that reads it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

const usage = `usage: switchboard <command> [arguments]

commands:
  serve        run the control plane (REST API, ARI app, FastAGI, config generation)
  migrate      apply database migrations and exit
  users        manage users: add, list, show, passwd, rm (run "switchboard users" for help)
  rooms        manage conference rooms: add, list, show, set, rm, mute, unmute, kick, lock,
               unlock (run "switchboard rooms" for help)
  groups       manage ring groups: add, list, show, set, rm (run "switchboard groups" for help)
  queues       manage call queues: add, list, show, set, rm, login, logout (run
               "switchboard queues" for help)
  trunks       manage trunks (SIP providers): add, list, get, set, rm (run
               "switchboard trunks" for help)
  routes       manage outbound routes: add, list, get, set, rm (run "switchboard
               routes" for help)
  dids         manage inbound numbers: add, list, get, set, rm (run "switchboard
               dids" for help)
  voicemail    messages and greetings of a mailbox: list, get, heard, move, rm, greetings,
               greeting-set, greeting-get, greeting-rm (run "switchboard voicemail" for help)
  audit        the audit trail of every change made through the API, newest first
               (run "switchboard audit --help" for its flags)
  healthcheck  exit 0 when the local server answers /readyz with 200
`

func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx)
	case "migrate":
		err = migrate(ctx)
	case "users":
		return users(ctx, args[1:], os.Stdout, os.Stderr)
	case "rooms":
		return rooms(ctx, args[1:], os.Stdout, os.Stderr)
	case "groups":
		return groups(ctx, args[1:], os.Stdout, os.Stderr)
	case "voicemail":
		return voicemailCmd(ctx, args[1:], os.Stdout, os.Stderr)
	case "queues":
		return queues(ctx, args[1:], os.Stdout, os.Stderr)
	case "trunks":
		return trunks(ctx, args[1:], os.Stdout, os.Stderr)
	case "routes":
		return routes(ctx, args[1:], os.Stdout, os.Stderr)
	case "dids":
		return dids(ctx, args[1:], os.Stdout, os.Stderr)
	case "audit":
		return audit(ctx, args[1:], os.Stdout, os.Stderr)
	case "healthcheck":
		err = healthcheck(ctx)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "switchboard: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "switchboard %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
