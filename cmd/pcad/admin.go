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
  pcad admin account create --credentials-out FILE [--name NAME] [--data DIR] [--db URL]
      create an account with its owner and one AccessKey, written to FILE
      (Alibaba Cloud credentials-file format, mode 0600; never overwritten)
  pcad admin account list [--data DIR] [--db URL]
  pcad admin key list [--account ID] [--data DIR] [--db URL]
      AccessKeyId, account, principal, status and creation time; never secrets
  pcad admin audit verify [--data DIR] [--db URL]
      check the audit log's hash chain and sealed head; fails naming the
      first bad record
  pcad admin audit export [--from ID] [--out FILE] [--data DIR] [--db URL]
      write audit records (id >= ID) as JSON lines to FILE (default stdout)
  pcad admin migrate-store --from DIR --to postgres://... [--yes]
      copy the SQLite store under DIR into an empty PostgreSQL database,
      then verify every table and the audit chain there (stop the server
      on DIR first)
  pcad admin rotate-master-key [--new-key-file FILE] [--data DIR] [--db URL]
      re-wrap every data key under a new master key (FILE, else
      $PCAD_NEW_MASTER_KEY, else a new key in <data>/master.key.new) and
      re-seal values still under the master key itself; resumable; the
      file-based default master.key is replaced at the end

These work on the store itself, whether the server runs or not: the
SQLite store under --data, or the PostgreSQL store --db names.
--data defaults to $PCAD_DATA, else ./pcad-data; --db to $PCAD_DB. The
master key is $PCAD_MASTER_KEY, else the file $PCAD_MASTER_KEY_FILE names,
else <data>/master.key, as for pcad serve.
`

// adminCmd is one admin command: its arguments after the command's name.
type adminCmd func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// adminCommands are the `pcad admin <object> <verb>` commands, and
// adminVerbs those named by one word, as `pcad admin migrate-store`.
var (
	adminCommands = map[string]adminCmd{
		"account create": adminAccountCreate,
		"account list":   adminAccountList,
		"key list":       adminKeyList,
		"audit verify":   adminAuditVerify,
		"audit export":   adminAuditExport,
	}
	adminVerbs = map[string]adminCmd{
		"migrate-store":     adminMigrateStore,    // migratestore.go
		"rotate-master-key": adminRotateMasterKey, // rotate.go
	}
)

// adminCommand runs `pcad admin <object> <verb> [flags]` or
// `pcad admin <verb> [flags]`.
func adminCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	if len(args) > 0 {
		if cmd, ok := adminVerbs[args[0]]; ok {
			return cmd(ctx, args[1:], stdout, stderr)
		}
	}
	if len(args) < 2 {
		fmt.Fprint(stderr, adminUsage)
		return errors.New("admin: name an object and a verb, e.g. pcad admin account list")
	}
	name := args[0] + " " + args[1]
	cmd, ok := adminCommands[name]
	if !ok {
		fmt.Fprint(stderr, adminUsage)
		return fmt.Errorf("admin: unknown command %q", name)
	}
	return cmd(ctx, args[2:], stdout, stderr)
}

// adminFlags is the flag set of one admin command, with --data and --db.
type adminFlags struct {
	*flag.FlagSet
	data, db string
	stderr   io.Writer
	// create lets run make the store when there is none (account create).
	create bool
	// check, if set, runs after the flags are parsed and before the store
	// is opened: a refusal there leaves no trace.
	check func() error
}

func newAdminFlags(name string, stderr io.Writer) *adminFlags {
	f := &adminFlags{FlagSet: flag.NewFlagSet("admin "+name, flag.ContinueOnError), stderr: stderr}
	f.SetOutput(stderr)
	f.StringVar(&f.data, "data", "./pcad-data", "data directory of the pcad to administer: its SQLite store and master.key (PCAD_DATA)")
	f.StringVar(&f.db, "db", "", "PostgreSQL URL (postgres://...) of the store to administer; empty: SQLite under --data (PCAD_DB)")
	return f
}

// parse parses args; --data and --db fall back to PCAD_DATA and PCAD_DB.
// Other flags do not read the environment: they are not settings of a
// server.
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
	if v := os.Getenv("PCAD_DB"); v != "" && !isSet(f.FlagSet, "db") {
		f.db = v
	}
	if err := checkDB(f.db); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	return nil
}

// run parses args, runs f.check, opens the pcad the flags name (openAdmin)
// and calls fn with it, closing the store afterwards.
func (f *adminFlags) run(ctx context.Context, args []string, fn func(*app) error) error {
	if err := f.parse(args); err != nil {
		return err
	}
	if f.check != nil {
		if err := f.check(); err != nil {
			return err
		}
	}
	a, err := openAdmin(ctx, f.data, f.db, f.create, f.stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	return fn(a)
}

// openAdmin opens the pcad whose store is db (a PostgreSQL URL) or, when db
// is empty, the SQLite store under dir, as `pcad serve` does (newApp:
// store, master key, service), with no HTTP server.
//
// A SQLite store must exist already unless create is set: a mistyped --data
// must not make a new, empty pcad. An existing store needs its master key
// (PCAD_MASTER_KEY, else <dir>/master.key): none is generated beside it. A
// PostgreSQL store always needs one: it is shared by replicas that must all
// hold the same key, so a key made on this machine would be a trap. Pending
// migrations are applied, as `pcad serve` would.
func openAdmin(ctx context.Context, dir, db string, create bool, stderr io.Writer) (*app, error) {
	cfg := config{Data: dir, DB: db, MasterKey: os.Getenv("PCAD_MASTER_KEY"), MasterKeyFile: os.Getenv("PCAD_MASTER_KEY_FILE")}
	if cfg.MasterKey != "" && cfg.MasterKeyFile != "" {
		return nil, errors.New("admin: both PCAD_MASTER_KEY and PCAD_MASTER_KEY_FILE are set: set one")
	}
	keyFile := filepath.Join(dir, "master.key")
	if cfg.MasterKeyFile != "" {
		keyFile = cfg.MasterKeyFile
	}
	if db != "" {
		if cfg.MasterKey == "" {
			if _, err := os.Stat(keyFile); err != nil {
				return nil, fmt.Errorf("admin: the PostgreSQL store needs its master key: set PCAD_MASTER_KEY or PCAD_MASTER_KEY_FILE, or --data to the directory holding master.key (%v)", err)
			}
		}
	} else {
		sqlite := filepath.Join(dir, "pcad.db")
		switch _, err := os.Stat(sqlite); {
		case errors.Is(err, fs.ErrNotExist):
			if !create {
				return nil, fmt.Errorf("admin: no pcad store at %s (is --data right?)", sqlite)
			}
		case err != nil:
			return nil, fmt.Errorf("admin: %w", err)
		case cfg.MasterKey == "":
			if _, err := os.Stat(keyFile); err != nil {
				return nil, fmt.Errorf("admin: the store %s needs its master key: %v (set PCAD_MASTER_KEY or PCAD_MASTER_KEY_FILE if it is kept elsewhere)", sqlite, err)
			}
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := newApp(ctx, cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", redactDSN(err, db))
	}
	return a, nil
}

func adminAccountCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAdminFlags("account create", stderr)
	out := f.String("credentials-out", "", "file to write the owner's AccessKey to (required; must not exist)")
	name := f.String("name", "default", "account name")
	f.create = true
	f.check = func() error {
		if *out == "" {
			return errors.New("admin account create: --credentials-out FILE is required: the AccessKey secret is shown nowhere else")
		}
		// Refuse an existing file before anything is created.
		if _, err := os.Lstat(*out); err == nil {
			return fmt.Errorf("admin account create: %s exists; refusing to overwrite it", *out)
		}
		return nil
	}
	return f.run(ctx, args, func(a *app) error {
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
	})
}

// writeCredentials writes key as an Alibaba Cloud credentials file.
func writeCredentials(w io.Writer, key pca.AccessKey) error {
	_, err := fmt.Fprintf(w, "[default]\ntype = access_key\naccess_key_id = %s\naccess_key_secret = %s\n", key.ID, key.Secret)
	return err
}

func adminAccountList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newAdminFlags("account list", stderr).run(ctx, args, func(a *app) error {
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
	})
}

func adminKeyList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAdminFlags("key list", stderr)
	only := f.Int64("account", 0, "list only this account's keys")
	return f.run(ctx, args, func(a *app) error {
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
	})
}

func adminAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newAdminFlags("audit verify", stderr).run(ctx, args, func(a *app) error {
		return auditVerify(ctx, a, stdout)
	})
}

// auditVerify checks the audit log of a's store (service.VerifyAudit) and
// prints the outcome; a log that does not verify is an error naming the
// first bad record.
func auditVerify(ctx context.Context, a *app, stdout io.Writer) error {
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
	f.check = func() error {
		if *out != "" {
			if _, err := os.Lstat(*out); err == nil {
				return fmt.Errorf("admin audit export: %s exists; refusing to overwrite it", *out)
			}
		}
		return nil
	}
	return f.run(ctx, args, func(a *app) error {
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
	})
}
