package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
)

// migrateCommand opens the store (which applies pending migrations, under an
// advisory lock on PostgreSQL) and prints the schema version it is at.
func migrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db, data string
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&db, "db", "", "PostgreSQL URL (postgres://...) of the store; empty: SQLite under --data (PCAD_DB)")
	fs.StringVar(&data, "data", "./pcad-data", "data directory holding the SQLite store (PCAD_DATA)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envDefaults(fs, os.Getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected arguments %q", fs.Args())
	}
	if err := checkDB(db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	engine := "sqlite"
	if db != "" {
		engine = "postgres"
	} else if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("migrate: data directory: %w", err)
	}
	st, err := openStore(ctx, db, data)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer st.Close()
	v, err := st.Version(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "pcad store (%s) is at schema version %d\n", engine, v)
	return nil
}
