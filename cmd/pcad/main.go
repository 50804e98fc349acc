// Command pcad is the pcad private certificate authority.
//
//	pcad serve [--addr 127.0.0.1:8080] [--data ./pcad-data] [--db postgres://...] [--qps-per-user 10]
//	pcad migrate [--db postgres://...] [--data ./pcad-data]
//	pcad call [--endpoint URL] Action [Name=Value ...]
//	pcad admin account|key|audit ... [--data ./pcad-data]
//
// Every flag can also be set through a PCAD_* environment variable (for
// example PCAD_ADDR, PCAD_DATA, PCAD_QPS_PER_USER); a flag on the command line
// wins over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pcad:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage:
  pcad serve [flags]                   run the service
  pcad call [flags] Action [Name=Value ...]   call the API, signed with your AccessKey
  pcad migrate [--db URL] [--data DIR] apply pending schema migrations and print the version
  pcad admin account|key|audit ...     offline administration of the data directory
Run "pcad <command> -h" for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, args[1:], stdout, stderr)
	case "call":
		return callCommand(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrateCommand(ctx, args[1:], stdout, stderr)
	case "admin":
		return adminCommand(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// envDefaults sets each flag that was not given on the command line from its
// PCAD_* environment variable (name upper-cased, dashes as underscores).
func envDefaults(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "PCAD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("environment %s=%q: %w", name, v, e)
			}
		}
	})
	return err
}
