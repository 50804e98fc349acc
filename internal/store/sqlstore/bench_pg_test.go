package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// BenchmarkListCertPostgres is BenchmarkListCert on PostgreSQL: the same
// cases on the same generated data (1,000,000 end-entity certificates in the
// main account), seeded through BulkInsertCertificates, whose PostgreSQL
// path is COPY. It is skipped unless PCAD_TEST_POSTGRES names a server.
//
//	PCAD_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./internal/store/sqlstore/ -run '^$' -bench ListCert -benchtime 200x -count 1
//
// The seed lives in a schema of its own, pcad_listcert_bench_<n>_<hash of
// the migrations and the generator>, which later runs reuse (drop it to
// re-seed). It is seeded, vacuumed and analyzed under another name and
// renamed when complete, so an interrupted run never leaves a half-seeded
// schema behind.
func BenchmarkListCertPostgres(b *testing.B) {
	if testing.Short() {
		b.Skip("1M-row benchmark skipped under -short")
	}
	dsn := os.Getenv(pgtest.Env)
	if dsn == "" {
		b.Skip(pgtest.Env + " is not set")
	}
	ctx := context.Background()
	s, seed, schema, took, err := openSeededPostgres(ctx, dsn, benchCerts, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })

	setup := "PostgreSQL " + pgServerInfo(ctx, s.DB()) + ", schema " + schema
	var size int64
	if err := s.DB().QueryRowContext(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`, schema).Scan(&size); err == nil {
		setup += fmt.Sprintf(", %.1f MiB", float64(size)/(1<<20))
	}
	if took > 0 {
		setup += "; " + seedNote(seed, took)
	} else {
		setup += "; reused the seeded schema"
		var comment sql.NullString
		if err := s.DB().QueryRowContext(ctx, "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", schema).
			Scan(&comment); err == nil && comment.Valid {
			setup += " (" + comment.String + ")"
		}
	}

	tr, err := openTracedPostgres(benchDSN(dsn, schema, false))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Close() })
	explain := func(ctx context.Context, q store.ListQuery) (string, error) {
		return explainListPostgres(ctx, s.DB(), tr, seed.Main, q)
	}
	runListBench(b, s, seed, "DROP SCHEMA "+schema+" CASCADE to re-seed", setup, explain)
}

// benchDSN is dsn with search_path set to schema; seeding also turns
// synchronous_commit off for its sessions (the seed is rebuilt if lost).
func benchDSN(dsn, schema string, seeding bool) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // rejected by the caller's own parse first
	}
	q := u.Query()
	q.Set("search_path", schema)
	if seeding {
		q.Set("synchronous_commit", "off")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// openSeededPostgres opens the seeded schema for n main-account
// certificates on the server dsn names, seeding it first when it does not
// exist. Seeders of one schema are serialised by an advisory lock, so two
// runs at once seed it once. It reports how long seeding took (0 when
// reused). Errors never include the DSN (it may hold a password).
func openSeededPostgres(ctx context.Context, dsn string, n int, logf func(string, ...any)) (*Store, benchSeed, string, time.Duration, error) {
	if u, err := url.Parse(dsn); err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return nil, benchSeed{}, "", 0, fmt.Errorf("%s must be a postgres:// URL", pgtest.Env)
	}
	key, err := seedKey(n)
	if err != nil {
		return nil, benchSeed{}, "", 0, err
	}
	schema := fmt.Sprintf("pcad_listcert_bench_%d_%s", n, key)
	tmp := schema + "_tmp"

	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, benchSeed{}, "", 0, fmt.Errorf("connect: %w", err)
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return nil, benchSeed{}, "", 0, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	h := fnv.New64a()
	h.Write([]byte("pcad-listcert-bench:" + schema))
	lockID := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return nil, benchSeed{}, "", 0, fmt.Errorf("lock %s: %w", schema, err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", lockID)

	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return nil, benchSeed{}, "", 0, fmt.Errorf("look for %s: %w", schema, err)
	}
	var took time.Duration
	if !exists {
		logf("seeding %d certificates into schema %s with COPY (kept for later runs)", n, schema)
		// Under the lock, a leftover temporary schema is from a run that died.
		if _, err := conn.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+tmp+" CASCADE"); err != nil {
			return nil, benchSeed{}, "", 0, fmt.Errorf("drop %s: %w", tmp, err)
		}
		if _, err := conn.ExecContext(ctx, "CREATE SCHEMA "+tmp); err != nil {
			return nil, benchSeed{}, "", 0, fmt.Errorf("create %s: %w", tmp, err)
		}
		start := time.Now()
		seeded, err := seedPostgresSchema(ctx, benchDSN(dsn, tmp, true), tmp, n, logf)
		if err != nil {
			conn.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+tmp+" CASCADE")
			return nil, benchSeed{}, "", 0, fmt.Errorf("seed: %w", err)
		}
		took = time.Since(start)
		note := seedNote(seeded, took)
		if _, err := conn.ExecContext(ctx, "COMMENT ON SCHEMA "+tmp+" IS '"+strings.ReplaceAll(note, "'", "''")+"'"); err != nil {
			return nil, benchSeed{}, "", 0, fmt.Errorf("comment on %s: %w", tmp, err)
		}
		if _, err := conn.ExecContext(ctx, "ALTER SCHEMA "+tmp+" RENAME TO "+schema); err != nil {
			return nil, benchSeed{}, "", 0, fmt.Errorf("rename %s: %w", tmp, err)
		}
	} else {
		logf("reusing seeded schema %s (DROP SCHEMA %s CASCADE to re-seed)", schema, schema)
	}
	// Seeds of other migrations or generator versions are left alone (another
	// checkout may use them) but named, since each takes disk space.
	if rows, err := conn.QueryContext(ctx, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pcad\\_listcert\\_bench\\_%' AND nspname <> $1 ORDER BY 1", schema); err == nil {
		var stale []string
		for rows.Next() {
			var name string
			if rows.Scan(&name) == nil {
				stale = append(stale, name)
			}
		}
		rows.Close()
		if len(stale) > 0 {
			logf("other benchmark schemas on this server (drop them when unused): %s", strings.Join(stale, ", "))
		}
	}

	s, err := OpenPostgres(ctx, benchDSN(dsn, schema, false))
	if err != nil {
		return nil, benchSeed{}, "", 0, err
	}
	seed, err := loadSeed(ctx, s)
	if err != nil {
		s.Close()
		return nil, benchSeed{}, "", 0, fmt.Errorf("load seed from schema %s (DROP SCHEMA %s CASCADE to re-seed): %w", schema, schema, err)
	}
	return s, seed, schema, took, nil
}

// seedPostgresSchema migrates and seeds the empty schema that dsn's
// search_path names, then vacuums and analyzes its tables, as autovacuum
// would in time (index-only scans need the visibility map it sets), and
// asks for a checkpoint, so that the first run does not measure the server
// writing out the seed.
func seedPostgresSchema(ctx context.Context, dsn, schema string, n int, logf func(string, ...any)) (benchSeed, error) {
	s, err := OpenPostgres(ctx, dsn)
	if err != nil {
		return benchSeed{}, err
	}
	defer s.Close()
	seed, err := seedStore(ctx, s, n)
	if err != nil {
		return seed, err
	}
	rows, err := s.DB().QueryContext(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", schema)
	if err != nil {
		return seed, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return seed, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return seed, err
	}
	for _, t := range tables {
		if _, err := s.DB().ExecContext(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{schema, t}.Sanitize()); err != nil {
			return seed, fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	// CHECKPOINT needs a superuser or pg_checkpoint: without either, the
	// seed is still complete, and the first run may read a little slower.
	if _, err := s.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
		logf("no checkpoint after seeding (%v); the first run may be slower than later ones", err)
	}
	return seed, nil
}

// pgServerInfo is the server's major version and the settings that most
// affect the figures.
func pgServerInfo(ctx context.Context, db *sql.DB) string {
	var parts []string
	for _, name := range []string{"server_version", "shared_buffers", "work_mem", "jit"} {
		var v string
		if err := db.QueryRowContext(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			continue
		}
		if name == "server_version" {
			parts = append(parts, strings.Fields(v)[0])
		} else {
			parts = append(parts, name+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// The traced PostgreSQL store: pgx's query tracer records the SQL (as sent,
// with $n placeholders) and arguments of every statement, to EXPLAIN them.

type pgTracer struct{ rec *traceRecorder }

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.rec.mu.Lock()
	t.rec.stmts = append(t.rec.stmts, tracedStatement{d.SQL, append([]any(nil), d.Args...)})
	t.rec.mu.Unlock()
	return ctx
}

func (pgTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func openTracedPostgres(dsn string) (*tracedStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", pgtest.Env, err)
	}
	rec := &traceRecorder{}
	cfg.Tracer = pgTracer{rec}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(1)
	return &tracedStore{s: newStore(db, dialectPostgres), rec: rec}, nil
}

// explainListPostgres runs q through tr, then EXPLAIN ANALYZE on db for each
// statement it sent, one line per statement: the SQL without its column
// list, then the plan nodes with their actual row counts and buffers.
func explainListPostgres(ctx context.Context, db *sql.DB, tr *tracedStore, acct int64, q store.ListQuery) (string, error) {
	tr.rec.reset()
	if _, err := tr.s.ListCertificates(ctx, acct, q); err != nil {
		return "", err
	}
	var out strings.Builder
	for _, st := range tr.rec.take() {
		rows, err := db.QueryContext(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+st.query, st.args...)
		if err != nil {
			return "", err
		}
		var steps []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return "", err
			}
			steps = append(steps, compactPlanLine(line))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
		sqlText := strings.Join(strings.Fields(st.query), " ")
		sqlText = strings.ReplaceAll(sqlText, strings.Join(strings.Fields(certColumns), " "), "<columns>")
		fmt.Fprintf(&out, "  SQL: %s  PLAN: %s\n", sqlText, strings.Join(steps, " | "))
	}
	return strings.TrimRight(out.String(), "\n"), nil
}

var (
	actualTime   = regexp.MustCompile(`actual time=[0-9.]+\.\.[0-9.]+ `)
	arrayLiteral = regexp.MustCompile(`'\{[^}]*\}'`)
)

// compactPlanLine shortens one line of EXPLAIN output: no indentation or
// arrow, no timings (the benchmark measures those), no array contents.
func compactPlanLine(line string) string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "->  ")
	line = actualTime.ReplaceAllString(line, "")
	return arrayLiteral.ReplaceAllString(line, "'{...}'")
}

// TestBenchSeedSmallPostgres is TestBenchSeedSmall on PostgreSQL: a small
// seed through the COPY path, checked by the benchmark's own checks.
func TestBenchSeedSmallPostgres(t *testing.T) {
	s, err := OpenPostgres(t.Context(), pgtest.Schema(t, "pcad_seed"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testSmallSeed(t, s)
}

// TestOpenSeededPostgres runs the benchmark's seed-schema lifecycle at a
// small size: the first open seeds a schema of its own (and leaves no
// temporary schema behind), the second reuses it and seeds nothing.
func TestOpenSeededPostgres(t *testing.T) {
	dsn := os.Getenv(pgtest.Env)
	if dsn == "" {
		t.Skip(pgtest.Env + " is not set")
	}
	ctx := t.Context()
	const n = 1_500
	key, err := seedKey(n)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("pcad_listcert_bench_%d_%s", n, key)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() }) // after drop, registered below
	drop := func() {
		for _, name := range []string{schema, schema + "_tmp"} {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
				t.Errorf("drop %s: %v", name, err)
			}
		}
	}
	drop()
	t.Cleanup(drop)

	for i, wantSeeded := range []bool{true, false} {
		s, seed, got, took, err := openSeededPostgres(ctx, dsn, n, t.Logf)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if got != schema {
			t.Errorf("open %d: schema %s, want %s", i, got, schema)
		}
		if (took > 0) != wantSeeded {
			t.Errorf("open %d: seeding took %v, want seeded = %v", i, took, wantSeeded)
		}
		if seed.MainCerts != n || seed.OtherCerts != n/otherEvery {
			t.Errorf("open %d: %d + %d certificates, want %d + %d", i, seed.MainCerts, seed.OtherCerts, n, n/otherEvery)
		}
		res, err := s.ListCertificates(ctx, seed.Main, store.ListQuery{Limit: 5})
		if err != nil || res.Total != n || len(res.Items) != 5 {
			t.Errorf("open %d: list: Total %d, %d items, %v", i, res.Total, len(res.Items), err)
		}
		s.Close()
	}
	var tmpLeft bool
	var comment sql.NullString
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema+"_tmp").Scan(&tmpLeft); err != nil {
		t.Fatal(err)
	}
	if tmpLeft {
		t.Error("the temporary seeding schema was left behind")
	}
	if err := admin.QueryRowContext(ctx, "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", schema).Scan(&comment); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(comment.String, "certificates/s") {
		t.Errorf("schema comment %q does not record the seeding rate", comment.String)
	}
}
