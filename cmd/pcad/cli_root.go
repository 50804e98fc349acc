package main

// The command tree. The client commands (ca, cert, crl, completion) are
// cobra commands; serve, migrate, admin, bench and call keep their own flag
// parsing and receive their arguments untouched (DisableFlagParsing).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pcad-dev/pcad/internal/client"
)

// Command groups of the help text.
const (
	groupClient = "client"
	groupServer = "server"
)

// newRootCommand returns the pcad command tree writing to stdout and stderr.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "pcad",
		Short: "pcad is a private certificate authority with the Alibaba Cloud cas 2020-06-30 API",
		Long: `pcad is a private certificate authority whose HTTP API is wire-compatible with the
private-CA API of Alibaba Cloud's Certificate Management Service (cas 2020-06-30).

Run "pcad serve" to start the service, then use the client commands against it. They find
their AccessKey in --access-key-id/--access-key-secret, --credentials/--profile,
ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_CREDENTIALS_FILE,
or ./pcad-data/credentials.ini (written by "pcad serve"), and the endpoint in --endpoint,
PCAD_ENDPOINT or http://127.0.0.1:8080.`,
		Example: `  pcad serve
  pcad ca create-root --cn "Acme Root" --org Acme --ou PKI --locality Hangzhou --state Zhejiang
  pcad cert list --status ISSUE`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q (run \"pcad --help\")", args[0])
			}
			cmd.SetOut(stderr)
			_ = cmd.Usage()
			return errors.New("no command given")
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddGroup(
		&cobra.Group{ID: groupClient, Title: "Client commands (call a running server):"},
		&cobra.Group{ID: groupServer, Title: "Server and offline commands:"},
	)
	root.AddCommand(
		passthrough("serve", "Run the service", `  pcad serve --addr 127.0.0.1:8080 --data ./pcad-data
  PCAD_DB=postgres://pcad@db/pcad pcad serve`, serveCommand, stdout, stderr),
		passthrough("migrate", "Apply pending schema migrations and print the version",
			`  pcad migrate --db postgres://pcad@db/pcad`, migrateCommand, stdout, stderr),
		passthrough("admin", "Offline administration of the store (accounts, keys, audit, migrate-store, rotate-master-key)",
			`  pcad admin account create --credentials-out team-b.ini
  pcad admin audit verify`, adminCommand, stdout, stderr),
		passthrough("bench", "Measure a fresh local server (issuance, ListCert, CRL, OCSP)",
			`  pcad bench issue --clients 4 --duration 15s`, benchCommand, stdout, stderr),
		newCallCommand(stdout, stderr),
		newCACommand(),
		newCertCommand(),
		newCRLCommand(),
		newCompletionCommand(),
	)
	return root
}

// passthrough wraps a command that parses its own flags.
func passthrough(name, short, example string, run func(context.Context, []string, io.Writer, io.Writer) error, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:                name + " [flags]",
		Short:              short,
		Long:               short + `. Run "pcad ` + name + ` -h" for its flags.`,
		Example:            example,
		GroupID:            groupServer,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), args, stdout, stderr)
		},
	}
}

// clientOpts are the flags every client command shares.
type clientOpts struct {
	endpoint    string
	credentials string
	profile     string
	keyID       string
	keySecret   string
	v1          bool
	output      string
	timeout     time.Duration
	version     string // API version; "" means the cas version (call sets it)
}

// addClientFlags adds the shared flags to fs, bound to a fresh clientOpts.
func addClientFlags(fs *pflag.FlagSet) *clientOpts {
	o := &clientOpts{}
	fs.StringVar(&o.endpoint, "endpoint", "", "service endpoint (default $"+client.EnvEndpoint+", else "+client.DefaultEndpoint+")")
	fs.StringVar(&o.credentials, "credentials", "", "credentials file (default $"+client.EnvCredentialsFile+", else ./"+client.DefaultCredentialsFile+")")
	fs.StringVar(&o.profile, "profile", "", "section of the credentials file (default $"+client.EnvProfile+", else default)")
	fs.StringVar(&o.keyID, "access-key-id", "", "AccessKey id (default $"+client.EnvAccessKeyID+")")
	fs.StringVar(&o.keySecret, "access-key-secret", "", "AccessKey secret; prefer $"+client.EnvAccessKeySecret+", which other users cannot see")
	fs.BoolVar(&o.v1, "v1", false, "sign with HMAC-SHA1 (signature version 1.0) instead of ACS3-HMAC-SHA256")
	fs.StringVarP(&o.output, "output", "o", outTable, "output format: table, json or yaml")
	fs.DurationVar(&o.timeout, "timeout", time.Minute, "time limit of each HTTP request")
	return o
}

// registerOutputCompletion completes -o values on cmd (which holds the flag).
func registerOutputCompletion(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
}

// newClient checks -o and returns a client for the endpoint and AccessKey
// the flags and environment name.
func (o *clientOpts) newClient() (*client.Client, error) {
	if err := checkOutput(o.output); err != nil {
		return nil, err
	}
	cred, err := client.ResolveCredentials(client.CredentialOptions{
		AccessKeyID: o.keyID, AccessKeySecret: o.keySecret, File: o.credentials, Profile: o.profile,
	})
	if err != nil {
		return nil, err
	}
	cfg := client.Config{Endpoint: client.ResolveEndpoint(o.endpoint, os.Getenv), Credentials: cred, Version: o.version}
	if o.v1 {
		cfg.Signature = client.V1
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	if o.timeout > 0 {
		c.HTTPClient().Timeout = o.timeout
	}
	return c, nil
}

// withClientFlags makes cmd a client command: shared flags and -o
// completion on it, and its group.
func withClientFlags(cmd *cobra.Command) *clientOpts {
	o := addClientFlags(cmd.PersistentFlags())
	registerOutputCompletion(cmd)
	cmd.GroupID = groupClient
	return o
}

// params is url.Values with a chainable setter that skips empty values.
type params url.Values

func (p params) set(k, v string) params {
	if v != "" {
		url.Values(p).Set(k, v)
	}
	return p
}

// tagParams adds Tags.N.Key/Value from "key=value" flags.
func tagParams(p params, prefix string, tags []string) error {
	for i, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return fmt.Errorf("--tag %q: want key=value", t)
		}
		url.Values(p).Set(fmt.Sprintf("%s.%d.Key", prefix, i+1), k)
		url.Values(p).Set(fmt.Sprintf("%s.%d.Value", prefix, i+1), v)
	}
	return nil
}

// exitCode is the process status for an error: 1 for an error answer of
// the API, 2 for anything else (usage, files, network).
func exitCode(err error) int {
	var e *client.Error
	if errors.As(err, &e) {
		return 1
	}
	return 2
}
