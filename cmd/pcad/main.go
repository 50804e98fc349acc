// Command pcad is the pcad private certificate authority.
//
//	pcad serve [--addr 127.0.0.1:8080] [--data ./pcad-data] [--db postgres://...] [--qps-per-user 10]
//	pcad migrate [--db postgres://...] [--data ./pcad-data]
//	pcad admin account|key|audit ... [--data ./pcad-data] [--db postgres://...]
//	pcad admin migrate-store|rotate-master-key [flags]
//	pcad bench issue|list|crl|ocsp [flags]
//	pcad ca create-root|create-sub|list [flags]
//	pcad cert issue|list|get|revoke [flags]
//	pcad crl fetch CA-IDENTIFIER [flags]
//	pcad call [flags] Action [Name=Value | --Name value ...]
//	pcad completion bash|zsh|fish|powershell
//
// Every flag of serve and migrate can also be set through a PCAD_*
// environment variable (for example PCAD_ADDR, PCAD_DATA, PCAD_QPS_PER_USER);
// a flag on the command line wins over the environment. Admin commands read
// PCAD_DATA, PCAD_DB and the master-key variables only; bench reads none, so
// that settings meant for a real server never reach a benchmark.
// The client commands (ca, cert, crl, call) take their endpoint from
// --endpoint or PCAD_ENDPOINT and their AccessKey as the Alibaba Cloud tools
// do (see internal/client). "pcad <command> --help" shows each command's
// flags and examples.
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

	"github.com/spf13/pflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) && !errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pcad:", err)
		}
		stop()
		os.Exit(exitCode(err))
	}
}

// run runs the command named by args.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
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
