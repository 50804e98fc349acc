package main

// pcad on PostgreSQL (--db): the whole service through the official client,
// and `pcad migrate`. The PostgreSQL tests run only when PCAD_TEST_POSTGRES
// holds a DSN (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable); each gets its own
// schema, dropped at its end.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

func TestPostgresServe(t *testing.T) {
	dsn := pgtest.Schema(t, "pcad_e2e")
	ts := startServerConfig(t, config{DB: dsn})
	c := ts.client(t, "v3")

	root := createRoot(t, c, "ECC_256", nil)
	sub := createSub(t, c, root.ID, "ECC_256", map[string]string{"EnableCrl": "true", "CrlDay": "7"})
	b := mustCall(t, c, "CreateServerCertificate", serverParams(sub.ID))
	id, leaf := jStr(t, b, "Identifier"), parsePEM(t, jStr(t, b, "X509Certificate"))

	if ids := listIDs(t, list(t, c, nil)); len(ids) != 1 || ids[0] != id {
		t.Fatalf("ListCert ids %v, want [%s]", ids, id)
	}
	if onCRL(fetchCRL(t, leaf, sub.Cert), leaf.SerialNumber) {
		t.Fatal("fresh certificate already on the CRL")
	}
	revoke(t, c, id)
	for start := time.Now(); !onCRL(fetchCRL(t, leaf, sub.Cert), leaf.SerialNumber); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("revocation not on the served CRL after 5 s")
		}
	}

	// The data really is in PostgreSQL, in the test's schema.
	var n int
	if err := ts.app.store.DB().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM certificates WHERE status = $1", string(pca.StatusRevoke)).Scan(&n); err != nil {
		t.Fatalf("count in PostgreSQL: %v", err)
	} else if n != 1 {
		t.Errorf("%d revoked certificates in the PostgreSQL schema, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(ts.app.cfg.Data, "pcad.db")); err == nil {
		t.Error("a SQLite store was created under --data although --db names PostgreSQL")
	}

	// pcad migrate on the migrated schema: nothing to do, prints the version.
	want, err := ts.app.store.Version(t.Context())
	if err != nil || want <= 0 {
		t.Fatalf("Version = %d, %v", want, err)
	}
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "--db", dsn}, &out, &errb); err != nil {
		t.Fatalf("pcad migrate: %v\n%s", err, errb.String())
	}
	if line := fmt.Sprintf("pcad store (postgres) is at schema version %d\n", want); out.String() != line {
		t.Errorf("pcad migrate printed %q, want %q", out.String(), line)
	}
}

// TestPostgresMigrateEmpty runs `pcad migrate` on an empty schema: it creates
// the tables and says so with the version.
func TestPostgresMigrateEmpty(t *testing.T) {
	dsn := pgtest.Schema(t, "pcad_e2e")
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "--db", dsn}, &out, &errb); err != nil {
		t.Fatalf("pcad migrate: %v\n%s", err, errb.String())
	}
	if !strings.HasPrefix(out.String(), "pcad store (postgres) is at schema version ") || strings.HasSuffix(out.String(), " 0\n") {
		t.Errorf("pcad migrate printed %q", out.String())
	}
}

// TestDBFlagRefusesOtherSchemes: --db (and PCAD_DB) takes a postgres URL or
// nothing; anything else is refused before any store is opened, without
// echoing the URL (it may hold a password).
func TestDBFlagRefusesOtherSchemes(t *testing.T) {
	for _, db := range []string{"mysql://root:hunter2@db/pcad", "sqlite:///tmp/x.db", "host=db user=pcad password=hunter2", "./pcad.db"} {
		if _, err := parseServeFlags([]string{"--db", db}, &bytes.Buffer{}); err == nil {
			t.Errorf("serve --db %q accepted", db)
		} else if !strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("serve --db %q: unclear error or leaks the URL: %v", db, err)
		}
		dir := t.TempDir()
		err := run(t.Context(), []string{"migrate", "--db", db, "--data", dir}, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "--db") {
			t.Errorf("migrate --db %q: err %v", db, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "pcad.db")); err == nil {
			t.Errorf("migrate --db %q created a SQLite store", db)
		}
	}
	t.Setenv("PCAD_DB", "mysql://db/pcad")
	if _, err := parseServeFlags(nil, &bytes.Buffer{}); err == nil {
		t.Error("PCAD_DB=mysql://... accepted")
	}
	for _, db := range []string{"postgres://u@h/db", "postgresql://u@h/db?sslmode=disable"} {
		c, err := parseServeFlags([]string{"--db", db}, &bytes.Buffer{})
		if err != nil || c.DB != db {
			t.Errorf("serve --db %q: DB %q, err %v", db, c.DB, err)
		}
	}
}

// TestMigrateSQLite: without --db, `pcad migrate` migrates <data>/pcad.db.
func TestMigrateSQLite(t *testing.T) {
	t.Setenv("PCAD_DB", "")
	dir := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "--data", dir}, &out, &errb); err != nil {
		t.Fatalf("pcad migrate: %v\n%s", err, errb.String())
	}
	st, err := openStore(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := st.Version(t.Context())
	if err != nil || v <= 0 {
		t.Fatalf("Version = %d, %v", v, err)
	}
	if want := fmt.Sprintf("pcad store (sqlite) is at schema version %d\n", v); out.String() != want {
		t.Errorf("pcad migrate printed %q, want %q", out.String(), want)
	}
}
