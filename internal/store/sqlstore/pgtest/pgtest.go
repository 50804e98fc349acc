// Package pgtest gives tests a fresh PostgreSQL schema on the server that
// PCAD_TEST_POSTGRES names, for tests of the PostgreSQL store and of pcad
// running on it. It is imported only by tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Env names the variable holding the test server's DSN, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const Env = "PCAD_TEST_POSTGRES"

var (
	adminOnce sync.Once
	adminDB   *sql.DB
	adminErr  error
)

// admin is one small pool, shared by the test binary, that creates and drops
// the test schemas.
func admin(t testing.TB, dsn string) *sql.DB {
	adminOnce.Do(func() {
		adminDB, adminErr = sql.Open("pgx", dsn)
		if adminErr == nil {
			adminDB.SetMaxOpenConns(2)
			adminErr = adminDB.PingContext(context.Background())
		}
	})
	if adminErr != nil {
		t.Fatalf("connect to %s: %v", Env, adminErr)
	}
	return adminDB
}

// Schema skips t when Env is unset; otherwise it creates an empty schema
// <prefix>_<random>, drops it with everything in it when t ends (register it
// before opening a store, so the store is closed first), and returns the DSN
// with search_path set to it. The store takes only a DSN, so the schema is
// chosen there: pgx sends unknown URL parameters as run-time settings. The
// DSN also turns synchronous_commit off: tests check behaviour, not
// durability.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		t.Skip(Env + " is not set")
	}
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("%s must be a postgres:// URL", Env)
	}
	db := admin(t, dsn)
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}
