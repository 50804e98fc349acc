package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pcad-dev/pcad/internal/casapi"
	"github.com/pcad-dev/pcad/internal/client"
)

const callExample = `  pcad call ListCert Status=ISSUE MaxResults=20
  pcad call ListCert --Status ISSUE --MaxResults 20          # the aliyun CLI's spelling
  pcad call CreateSubCACertificate --ParentIdentifier=<root> CommonName="Acme Issuing" \
      Organization=Acme OrganizationUnit=PKI Locality=Hangzhou State=Zhejiang Years=5 \
      Algorithm=ECC_256 ExtendedKeyUsages.1=serverAuth ExtendedKeyUsages.2=clientAuth
  pcad call --v1 -o yaml DescribeCACertificateCount`

const callLong = `Call any action of the API, signed with your AccessKey (ACS3-HMAC-SHA256, or HMAC-SHA1 with
--v1), and print the JSON answer (or YAML with -o yaml). Parameters are Name=Value, --Name value
or --Name=Value; lists and objects use the API's flattened names (ExtendedKeyUsages.1=serverAuth,
Tags.1.Key=env). Parameter names start with an upper-case letter; the lower-case flags below are
the command's own. An error answer prints its JSON envelope on standard error, then its Code and
Message, and exits with status 1.`

// newCallCommand wraps callCommand, which parses its own arguments (API
// parameters look like flags: --Name value).
func newCallCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:                "call [flags] Action [Name=Value | --Name value ...]",
		Short:              "Call any API action, signed with your AccessKey, and print the answer",
		Long:               callLong,
		Example:            callExample,
		GroupID:            groupClient,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// A help request (pflag.ErrHelp) makes cobra print this
			// command's help.
			return callCommand(cmd.Context(), args, stdout, stderr)
		},
	}
	// callCommand parses the flags itself; these copies are for the help
	// text and completion only.
	o := addClientFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.version, "version", casapi.Version, "API version")
	cmd.Flags().Lookup("output").DefValue = outJSON
	cmd.Flags().Lookup("output").Usage = "output format: json or yaml"
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outJSON, outYAML}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// callCommand signs one API call, as the official clients do, and prints
// the JSON answer.
func callCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("call", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	o := addClientFlags(fs)
	fs.StringVar(&o.version, "version", casapi.Version, "API version")
	fs.Usage = func() {} // the caller (cobra) prints the help on pflag.ErrHelp
	own, action, params, err := splitCallArgs(fs, args)
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	if err := fs.Parse(own); err != nil {
		return err
	}
	if !fs.Changed("output") {
		o.output = outJSON
	}
	if o.output == outTable {
		return errors.New("call: -o table is not available here; use json or yaml")
	}
	if action == "" {
		return errors.New("call: name an Action, e.g. pcad call ListCert ShowSize=10")
	}
	c, err := o.newClient()
	if err != nil {
		return err
	}
	resp, err := c.Call(ctx, action, params)
	if err != nil {
		var e *client.Error
		if errors.As(err, &e) && len(e.Body) > 0 {
			if perr := printData(stderr, outJSON, e.Body); perr != nil {
				fmt.Fprintf(stderr, "%s\n", e.Body)
			}
		}
		return err
	}
	return printData(stdout, o.output, resp.Body)
}

// splitCallArgs separates the command's own flags (lower-case names, kept
// for fs to parse) from the action and its parameters: Name=Value,
// --Name value and --Name=Value (names starting with an upper-case
// letter). "--" ends the flags.
func splitCallArgs(fs *pflag.FlagSet, args []string) (own []string, action string, params url.Values, err error) {
	params = url.Values{}
	positional := func(a string) error {
		if action == "" {
			action = a
			return nil
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return fmt.Errorf("argument %q is not Name=Value", a)
		}
		params.Add(k, v)
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			for _, rest := range args[i+1:] {
				if err := positional(rest); err != nil {
					return nil, "", nil, err
				}
			}
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if err := positional(a); err != nil {
				return nil, "", nil, err
			}
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "" && unicode.IsUpper(rune(name[0])) {
			if !hasVal {
				if i+1 >= len(args) || isParamFlag(args[i+1]) {
					return nil, "", nil, fmt.Errorf("%s needs a value (--%s value, or %s=value)", a, name, name)
				}
				i++
				val = args[i]
			}
			params.Add(name, val)
			continue
		}
		own = append(own, a)
		f := fs.Lookup(name)
		if f == nil && len(name) == 1 {
			f = fs.ShorthandLookup(name)
		}
		if !hasVal && f != nil && f.Value.Type() != "bool" && i+1 < len(args) {
			i++
			own = append(own, args[i])
		}
	}
	return own, action, params, nil
}

// isParamFlag reports whether a looks like "--Name" (an API parameter).
func isParamFlag(a string) bool {
	name := strings.TrimLeft(a, "-")
	return strings.HasPrefix(a, "--") && name != "" && unicode.IsUpper(rune(name[0]))
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// signedRequest builds a POST with the parameters in the query string and an
// ACS3-HMAC-SHA256 Authorization header.
func signedRequest(ctx context.Context, base *url.URL, action, version string, params url.Values, id, secret string, now time.Time) (*http.Request, error) {
	cred := client.Credentials{AccessKeyID: id, AccessKeySecret: secret}
	return client.NewSignedRequest(ctx, base, action, version, params, cred, client.V3, client.NewNonce(), now)
}

// loadCredentials finds an AccessKey the way Alibaba clients do: the
// ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET variables, else section profile of a
// credentials file: file, else $ALIBABA_CLOUD_CREDENTIALS_FILE, else
// ./pcad-data/credentials.ini.
func loadCredentials(file, profile string) (id, secret string, err error) {
	if id, secret = os.Getenv(client.EnvAccessKeyID), os.Getenv(client.EnvAccessKeySecret); id != "" && secret != "" {
		return id, secret, nil
	}
	if file == "" {
		file = os.Getenv(client.EnvCredentialsFile)
	}
	if file == "" {
		file = client.DefaultCredentialsFile
	}
	c, err := client.ReadCredentialsFile(file, profile)
	if err != nil {
		return "", "", fmt.Errorf("call: no credentials: %w", err)
	}
	return c.AccessKeyID, c.AccessKeySecret, nil
}
