package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

const adminUsage = `usage:
  pcad admin account create --credentials-out FILE [--name NAME] [--data DIR]
      create an account with its owner and one AccessKey, written to FILE
      (Alibaba Cloud credentials-file format, mode 0600; never overwritten)
  pcad admin account list [--data DIR]
  pcad admin key list [--account ID] [--data DIR]
      AccessKeyId, account, principal, status and creation time; never secrets
  pcad admin audit verify [--data DIR]
      check the audit log's hash chain and sealed head; fails naming the
      first bad record
  pcad admin audit export [--from ID] [--out FILE] [--data DIR]
      write audit records (id >= ID) as JSON lines to FILE (default stdout)

These work on the data directory itself, whether the server runs or not.
--data defaults to $PCAD_DATA, else ./pcad-data; the master key is
$PCAD_MASTER_KEY, else <data>/master.key, as for pcad serve.
`

// adminCommand runs `pcad admin <object> <verb> [flags]`.
func adminCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	if len(args) < 2 {
		fmt.Fprint(stderr, adminUsage)
		return errors.New("admin: name an object and a verb, e.g. pcad admin account list")
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"account create": adminAccountCreate,
		"account list":   adminAccountList,
		"key list":       adminKeyList,
		"audit verify":   adminAuditVerify,
		"audit export":   adminAuditExport,
	}
	name := args[0] + " " + args[1]
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprint(stderr, adminUsage)
		return fmt.Errorf("admin: unknown command %q", name)
	}
	return cmd(ctx, args[2:], stdout, stderr)
}

// adminFlags is the flag set of one admin command, with --data.
type adminFlags struct {
	*flag.FlagSet
	data string
}

func newAdminFlags(name string, stderr io.Writer) *adminFlags {
	f := &adminFlags{FlagSet: flag.NewFlagSet("admin "+name, flag.ContinueOnError)}
	f.SetOutput(stderr)
	f.StringVar(&f.data, "data", "./pcad-data", "data directory of the pcad to administer (PCAD_DATA)")
	return f
}

// parse parses args; --data falls back to PCAD_DATA. Other flags do not
// read the environment: they are not settings of a server.
func (f *adminFlags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", f.Name(), f.Args())
	}
	if v := os.Getenv("PCAD_DATA"); v != "" && !isSet(f.FlagSet, "data") {
		f.data = v
	}
	return nil
}

// openAdmin opens the pcad under dir as `pcad serve` does (newApp: store,
// master key, service), with no HTTP server. Unless create is set, the store
// must exist already: a mistyped --data must not make a new, empty pcad. An
// existing store needs its master key: none is generated beside it.
func openAdmin(ctx context.Context, dir string, create bool, stderr io.Writer) (*app, error) {
	cfg := config{Data: dir, MasterKey: os.Getenv("PCAD_MASTER_KEY")}
	db := filepath.Join(dir, "pcad.db")
	switch _, err := os.Stat(db); {
	case errors.Is(err, fs.ErrNotExist):
		if !create {
			return nil, fmt.Errorf("admin: no pcad store at %s (is --data right?)", db)
		}
	case err != nil:
		return nil, fmt.Errorf("admin: %w", err)
	case cfg.MasterKey == "":
		if _, err := os.Stat(filepath.Join(dir, "master.key")); err != nil {
			return nil, fmt.Errorf("admin: the store %s needs its master key: %v (set PCAD_MASTER_KEY if it is kept elsewhere)", db, err)
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return newApp(ctx, cfg, logger)
}

func adminAccountCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAdminFlags("account create", stderr)
	out := f.String("credentials-out", "", "file to write the owner's AccessKey to (required; must not exist)")
	name := f.String("name", "default", "account name")
	if err := f.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("admin account create: --credentials-out FILE is required: the AccessKey secret is shown nowhere else")
	}
	// Refuse an existing file before anything is created.
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("admin account create: %s exists; refusing to overwrite it", *out)
	}
	a, err := openAdmin(ctx, f.data, true, stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("admin account create: %w", err)
	}
	acct, key, err := a.svc.CreateAccount(ctx, *name)
	if err != nil {
		file.Close()
		os.Remove(*out)
		return err
	}
	err = writeCredentials(file, key)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return fmt.Errorf("admin account create: account %d was created, but its AccessKey %s could not be written, and its secret is lost: %w",
			acct.ID, key.ID, err)
	}
	// Out-of-band changes belong in the audit trail too.
	a.svc.Audit(ctx, service.AuditEntry{RequestID: openapi.NewRequestID(), Action: "pcad admin account create",
		AccessKeyID: key.ID, AccountID: acct.ID, PrincipalID: key.PrincipalID, SourceIP: "local",
		Resource: "account/" + strconv.FormatInt(acct.ID, 10), Code: "OK"})
	fmt.Fprintf(stdout, "Created account %d (%s) with owner AccessKey %s; the key is in %s (mode 0600).\n", acct.ID, acct.Name, key.ID, *out)
	return nil
}

// writeCredentials writes key as an Alibaba Cloud credentials file.
func writeCredentials(w io.Writer, key pca.AccessKey) error {
	_, err := fmt.Fprintf(w, "[default]\ntype = access_key\naccess_key_id = %s\naccess_key_secret = %s\n", key.ID, key.Secret)
	return err
}

func adminAccountList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAdminFlags("account list", stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := openAdmin(ctx, f.data, false, stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	accounts, err := a.store.ListAccounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tCREATED")
	for _, acct := range accounts {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", acct.ID, acct.Name, acct.Created.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func adminKeyList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAdminFlags("key list", stderr)
	only := f.Int64("account", 0, "list only this account's keys")
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := openAdmin(ctx, f.data, false, stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	accounts, err := a.store.ListAccounts(ctx)
	if err != nil {
		return err
	}
	var ids []int64
	for _, acct := range accounts {
		if *only == 0 || acct.ID == *only {
			ids = append(ids, acct.ID)
		}
	}
	if *only != 0 && len(ids) == 0 {
		return fmt.Errorf("admin key list: no account %d", *only)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS_KEY_ID\tACCOUNT\tPRINCIPAL\tSTATUS\tCREATED")
	for _, id := range ids {
		keys, err := a.store.ListAccessKeys(ctx, id, 0)
		if err != nil {
			return err
		}
		names := map[int64]string{}
		for _, k := range keys {
			name, ok := names[k.PrincipalID]
			if !ok {
				p, err := a.store.GetPrincipal(ctx, id, k.PrincipalID)
				if err != nil {
					return err
				}
				name = p.Name // "owner" for the owner
				names[k.PrincipalID] = name
			}
			status := "Active"
			if !k.Active {
				status = "Inactive"
			}
			fmt.Fprintf(tw, "%s\t%d\t%d (%s)\t%s\t%s\n", k.ID, k.AccountID, k.PrincipalID, name, status, k.Created.UTC().Format(time.RFC3339))
		}
	}
	return tw.Flush()
}

func adminAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAdminFlags("audit verify", stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	a, err := openAdmin(ctx, f.data, false, stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	rep, err := a.svc.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if rep.Err != nil {
		if rep.FirstBad > 0 {
			return fmt.Errorf("audit log verification FAILED at record %d (%d records read): %v", rep.FirstBad, rep.Records, rep.Err)
		}
		return fmt.Errorf("audit log verification FAILED (%d records read): %v", rep.Records, rep.Err)
	}
	if rep.Records == 0 {
		fmt.Fprintln(stdout, "audit log OK: no records yet")
		return nil
	}
	fmt.Fprintf(stdout, "audit log OK: %d records; sealed head: record %d, hash %x\n", rep.Records, rep.HeadID, rep.HeadHash)
	if rep.Unsealed > 0 {
		fmt.Fprintf(stdout, "%d newer records are chained but not sealed yet (calls in flight, or head updates that failed: see the server log); the next call seals them\n", rep.Unsealed)
	}
	return nil
}

func adminAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAdminFlags("audit export", stderr)
	from := f.Int64("from", 1, "first record id to export")
	out := f.String("out", "", "file to write (must not exist; default stdout)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *out != "" {
		if _, err := os.Lstat(*out); err == nil {
			return fmt.Errorf("admin audit export: %s exists; refusing to overwrite it", *out)
		}
	}
	a, err := openAdmin(ctx, f.data, false, stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	if *out == "" {
		_, err := a.svc.ExportAudit(ctx, stdout, *from)
		return err
	}
	file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("admin audit export: %w", err)
	}
	n, err := a.svc.ExportAudit(ctx, file, *from)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported %d audit records to %s.\n", n, *out)
	return nil
}
