package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
	"github.com/pcad-dev/pcad/internal/store/storetest"
)

// TestConformance runs the store conformance suite on SQLite, with a fresh
// database file per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "pcad.db"))
		if err != nil {
			t.Fatalf("OpenSQLite: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}

// TestConformancePostgres runs the suite on PostgreSQL when
// PCAD_TEST_POSTGRES holds a DSN (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Each subtest gets
// its own schema, dropped at its end.
func TestConformancePostgres(t *testing.T) {
	dsn := postgresDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openPostgres(t, freshSchema(t, dsn))
	})
}

// TestPostgresReplicasMigrate starts several stores on one empty schema at
// once (they migrate under the advisory lock), then one more on the migrated
// schema; all must work on the same data.
func TestPostgresReplicasMigrate(t *testing.T) {
	dsn := freshSchema(t, postgresDSN(t))
	const replicas = 4
	stores := make([]*sqlstore.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = sqlstore.OpenPostgres(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: OpenPostgres: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	late := openPostgres(t, dsn)
	now := time.Now()
	for i, s := range stores {
		key := store.AccessKeyRecord{ID: "AK" + string(rune('A'+i)), SecretSealed: []byte{1}, Active: true, Created: now}
		if _, _, err := s.CreateAccount(t.Context(), "acct", key, now); err != nil {
			t.Fatalf("replica %d: CreateAccount: %v", i, err)
		}
	}
	if n, err := late.CountAccounts(t.Context()); err != nil || n != replicas {
		t.Fatalf("CountAccounts = %d, %v; want %d", n, err, replicas)
	}
	var versions int
	if err := late.DB().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != 4 {
		t.Errorf("goose_db_version has %d applied versions, want 4 (each applied once)", versions)
	}
}

func postgresDSN(t *testing.T) string {
	dsn := os.Getenv("PCAD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("PCAD_TEST_POSTGRES is not set")
	}
	return dsn
}

var (
	adminOnce sync.Once
	adminDB   *sql.DB
	adminErr  error
)

// admin is one small pool, shared by the whole test binary, that creates and
// drops the test schemas.
func admin(t *testing.T, dsn string) *sql.DB {
	adminOnce.Do(func() {
		adminDB, adminErr = sql.Open("pgx", dsn)
		if adminErr == nil {
			adminDB.SetMaxOpenConns(2)
			adminErr = adminDB.PingContext(context.Background())
		}
	})
	if adminErr != nil {
		t.Fatalf("connect to %s: %v", dsn, adminErr)
	}
	return adminDB
}

// freshSchema creates an empty schema, drops it (with everything in it) when
// t ends, and returns dsn with its search_path set to it. The store takes
// only a DSN, so the schema is chosen there: pgx sends unknown URL
// parameters as run-time settings.
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	db := admin(t, dsn)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "pcad_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// Registered before the store's Close, so it runs after it.
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("PCAD_TEST_POSTGRES must be a postgres:// URL: %q", dsn)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// The suite tests behaviour, not durability: skip the WAL flush on commit.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
