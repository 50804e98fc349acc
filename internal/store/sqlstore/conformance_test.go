package sqlstore_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
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
	if os.Getenv(pgtest.Env) == "" {
		t.Skip(pgtest.Env + " is not set")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		return openPostgres(t, pgtest.Schema(t, "pcad_test"))
	})
}

// TestPostgresReplicasMigrate starts several stores on one empty schema at
// once (they migrate under the advisory lock), then one more on the migrated
// schema; all must work on the same data.
func TestPostgresReplicasMigrate(t *testing.T) {
	dsn := pgtest.Schema(t, "pcad_test")
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
	files, err := filepath.Glob(filepath.Join("migrations", "postgres", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	if versions != len(files) {
		t.Errorf("goose_db_version has %d applied versions, want %d (each applied once)", versions, len(files))
	}
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
