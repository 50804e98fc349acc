// Package sqlstore implements store.Store on SQL databases. SQLite (through
// the pure-Go modernc.org/sqlite driver, WAL mode) is the embedded default;
// PostgreSQL (through pgx's database/sql driver) holds the state of replicas
// that share it. Both run the same code: queries are written once with ?
// placeholders and a dialect value adapts what differs (see dialect.go).
//
// Only cmd/pcad and tests name this package; everything else uses the
// store.Store contract.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/pcad-dev/pcad/internal/store"
)

// Each engine has its own migrations under the same version numbers; goose
// records only the version, so the directory layout is free to change.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Store is a store.Store backed by database/sql.
type Store struct {
	db conn
	gc *committer    // SQLite: the group committer of write transactions (groupcommit.go)
	cp *checkpointer // SQLite: background WAL checkpoints (checkpoint.go)
}

func newStore(db *sql.DB, d dialect) *Store {
	return &Store{db: conn{db: db, e: &engine{dialect: d}}}
}

var _ store.Store = (*Store)(nil)

// OpenSQLite opens (creating if needed) the SQLite database file at path,
// in WAL mode with a busy timeout, and applies pending migrations.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlstore: create directory: %w", err)
	}
	// Create the file owner-only: it holds sealed secrets. SQLite gives its
	// -wal and -shm files the same permissions.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("sqlstore: create %s: %w", path, err)
	} else {
		f.Close()
	}
	q := url.Values{}
	// Statement journals stay in memory (temp_store); WAL checkpoints run in
	// the background, not inside a commit (checkpoint.go).
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(FULL)", "temp_store(MEMORY)",
		"wal_autocheckpoint(0)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	if err := migrate(ctx, db, dialectSQLite); err != nil {
		db.Close()
		return nil, err
	}
	s := newStore(db, dialectSQLite)
	s.db.e.db = db // cache prepared statements
	s.cp = newCheckpointer(db)
	s.gc = newCommitter(db, s.db.e)
	s.gc.onCommit = s.cp.committed
	return s, nil
}

// OpenPostgres connects to the PostgreSQL database dsn names (a URL or
// key=value string; extra parameters such as search_path are sent as run-time
// settings) and applies pending migrations. Replicas may start against the
// same database at the same time: migrations run under an advisory lock.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: postgres dsn: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connect to postgres: %w", err)
	}
	if err := migrate(ctx, db, dialectPostgres); err != nil {
		db.Close()
		return nil, err
	}
	return newStore(db, dialectPostgres), nil
}

// migrationLockID is the PostgreSQL advisory lock held while migrating
// (pg_advisory_lock is per database; "pcad" in ASCII).
const migrationLockID = 0x70636164

func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	sub, err := fs.Sub(migrations, "migrations/"+d.String())
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	gd, opts := goose.DialectSQLite3, []goose.ProviderOption(nil)
	if d == dialectPostgres {
		// A second replica starting at the same time waits for the first to
		// finish (polling once a second, for up to 5 minutes), then finds
		// nothing to do.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		gd, opts = goose.DialectPostgres, append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// DB exposes the database handle for tests and bulk tools in this module.
// Queries sent through it are not rebound: write them in the engine's own
// placeholder form (? for SQLite, $n for PostgreSQL).
func (s *Store) DB() *sql.DB { return s.db.db }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	if s.gc != nil {
		s.gc.close()
	}
	if s.cp != nil {
		s.cp.close()
	}
	s.db.e.closeStmts()
	return s.db.db.Close()
}

// inTx runs fn in a write transaction, committing when fn returns nil.
//
// On SQLite fn runs in the next commit group (groupcommit.go): write
// transactions run one at a time, and concurrent ones share a COMMIT. On
// PostgreSQL it is READ COMMITTED: every read-modify-write in fn must be safe
// on its own, through an upsert, a conditional UPDATE, a row lock
// (engine.forUpdate) or sqlTx.lock.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlTx) error) error {
	if s.gc != nil {
		return s.gc.do(ctx, fn)
	}
	raw, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	tx := &sqlTx{tx: raw, e: s.db.e}
	if err := fn(tx); err != nil {
		raw.Rollback()
		return err
	}
	if err := raw.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// ms converts a time to Unix milliseconds (0 for the zero time).
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts Unix milliseconds to a UTC time (zero for 0).
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
