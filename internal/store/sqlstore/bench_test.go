package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sqlite "modernc.org/sqlite"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// benchCerts is the number of end-entity certificates in the benchmark's
// main account.
const benchCerts = 1_000_000

// BenchmarkListCert measures ListCertificates (ListCert's store query,
// including the exact Total it computes in the same call) on a SQLite store
// seeded with 1,000,000 end-entity certificates in one account.
//
//	go test ./internal/store/sqlstore/ -run '^$' -bench ListCert -benchtime 200x -count 1
//
// The seeded database is cached under os.TempDir(), keyed by a hash of the
// migrations and the generator, so only the first run pays for seeding.
func BenchmarkListCert(b *testing.B) {
	if testing.Short() {
		b.Skip("1M-row benchmark skipped under -short")
	}
	ctx := context.Background()
	s, seed, path, took, err := openSeededStore(ctx, benchCerts, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	setup := fmt.Sprintf("SQLite database %s", path)
	if fi, err := os.Stat(path); err == nil {
		setup += fmt.Sprintf(", %.1f MiB", float64(fi.Size())/(1<<20))
	}
	setup += "; " + seedNote(seed, took)

	// The query plans of the exact SQL each case sends, to show which index
	// it uses: the statements are recorded by a second store on the same
	// file whose driver logs them, then explained on the main store.
	tr, err := openTraced(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Close() })
	explain := func(ctx context.Context, q store.ListQuery) (string, error) {
		return explainList(ctx, s.DB(), tr, seed.Main, q)
	}
	runListBench(b, s, seed, "delete "+path+" to re-seed", setup, explain)
}

// seedNote describes how the benchmark's data came to be: seeded now (with
// the time and rate) or reused.
func seedNote(seed benchSeed, took time.Duration) string {
	rows := seed.MainCerts + seed.OtherCerts
	if took > 0 {
		return fmt.Sprintf("seeded %d + %d certificates in %v (%.0f certificates/s)", seed.MainCerts, seed.OtherCerts,
			took.Round(time.Millisecond), float64(rows)/took.Seconds())
	}
	return fmt.Sprintf("reused cached seed of %d + %d certificates", seed.MainCerts, seed.OtherCerts)
}

// runListBench checks every case of a seeded store against plain SQL, then
// runs one sub-benchmark per case. Each sub-benchmark logs (once) setup if
// it is the first, the case's parameters and explain's plan of its
// statements: the testing package prints a parent benchmark's log only
// under -v, and trims any benchmark's log after 10 lines, so plans are
// compact. reseed tells how to rebuild a seed that fails the checks.
func runListBench(b *testing.B, s *Store, seed benchSeed, reseed, setup string, explain func(context.Context, store.ListQuery) (string, error)) {
	ctx := context.Background()
	// Correctness first: a broken query must not produce good-looking numbers.
	if seed.MainCerts != benchCerts {
		b.Fatalf("main account has %d certificates, want %d (%s)", seed.MainCerts, benchCerts, reseed)
	}
	if res, err := s.ListCertificates(ctx, seed.Main, store.ListQuery{Limit: 20}); err != nil {
		b.Fatal(err)
	} else if res.Total != benchCerts {
		b.Fatalf("no-filter Total = %d, want %d (%s)", res.Total, benchCerts, reseed)
	}
	cases, err := listCases(ctx, s, seed)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		if err := checkList(ctx, s, seed.Main, c.q); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
	}
	if err := checkScoping(ctx, s, seed); err != nil {
		b.Fatal(err)
	}

	plans := map[string]string{}
	for _, c := range cases {
		if plans[c.name], err = explain(ctx, c.q); err != nil {
			b.Fatalf("%s: explain: %v", c.name, err)
		}
	}

	for i, c := range cases {
		logged := false
		b.Run(c.name, func(b *testing.B) {
			if !logged {
				logged = true
				if i == 0 {
					b.Logf("%s", setup)
				}
				b.Logf("%s\n%s", describe(c.q), plans[c.name])
			}
			// Warm the connection and the page cache.
			if _, err := s.ListCertificates(ctx, seed.Main, c.q); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				res, err := s.ListCertificates(ctx, seed.Main, c.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Items) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}

type listCase struct {
	name string
	q    store.ListQuery
}

// listCases builds the benchmarked queries for a seeded database. Depths
// are relative to its size: for 1M rows, token-depth-500k starts below the
// 500,000th newest certificate and page-10000 is page 10,000 of 50.
// parent-retired lists the busiest sub-CA, retired halfway: its newest
// certificate is older than the newest half of the store (checked here).
func listCases(ctx context.Context, s *Store, seed benchSeed) ([]listCase, error) {
	db := s.db // rebinds ? for PostgreSQL
	// nth returns the id of the n-th newest (1-based) certificate matching where.
	nth := func(n int64, where string, args ...any) (int64, error) {
		var id int64
		err := db.QueryRowContext(ctx, "SELECT id FROM certificates WHERE account_id = ? "+where+" ORDER BY id DESC LIMIT 1 OFFSET ?",
			append(append([]any{seed.Main}, args...), n-1)...).Scan(&id)
		return id, err
	}
	half := seed.MainCerts / 2
	mid, err := nth(half, "")
	if err != nil {
		return nil, err
	}
	var stMatches int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates WHERE account_id = ? AND status = ? AND cert_type = ?",
		seed.Main, string(pca.StatusIssue), string(pca.TypeServer)).Scan(&stMatches); err != nil {
		return nil, err
	}
	stMid, err := nth(stMatches/2, "AND status = ? AND cert_type = ?", string(pca.StatusIssue), string(pca.TypeServer))
	if err != nil {
		return nil, err
	}
	parent := seed.SubCAs[1]
	var parentMatches int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates WHERE account_id = ? AND ca_id = ?", seed.Main, parent.ID).Scan(&parentMatches); err != nil {
		return nil, err
	}
	parentMid, err := nth(parentMatches/2, "AND ca_id = ?", parent.ID)
	if err != nil {
		return nil, err
	}
	retired := seed.SubCAs[0]
	var retiredNewest int64
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM certificates WHERE account_id = ? AND ca_id = ?", seed.Main, retired.ID).Scan(&retiredNewest); err != nil {
		return nil, err
	}
	if retiredNewest == 0 || retiredNewest >= mid {
		return nil, fmt.Errorf("the retired sub-CA's newest certificate is %d, want one below the midpoint %d", retiredNewest, mid)
	}
	var midChanged int64
	if err := db.QueryRowContext(ctx, "SELECT changed_at FROM certificates WHERE id = ?", mid).Scan(&midChanged); err != nil {
		return nil, err
	}
	at := fromMS(midChanged)
	const pageSize = 50
	page := half / pageSize // 10,000 for 1M rows
	return []listCase{
		{"no-filter", store.ListQuery{Limit: 20}},
		{"status+type", store.ListQuery{Status: pca.StatusIssue, Type: pca.TypeServer, Limit: 20}},
		{"parent", store.ListQuery{ParentIdentifier: parent.Identifier, Limit: 20}},
		{"parent-retired", store.ListQuery{ParentIdentifier: retired.Identifier, Limit: 20}},
		{"instance", store.ListQuery{InstanceUUID: seed.SubCAs[2].InstanceUUID, Limit: 20}},
		{"token-depth-500k", store.ListQuery{BeforeID: mid, Limit: 20}},
		{"status+type-token-deep", store.ListQuery{Status: pca.StatusIssue, Type: pca.TypeServer, BeforeID: stMid, Limit: 20}},
		{"parent-token-deep", store.ListQuery{ParentIdentifier: parent.Identifier, BeforeID: parentMid, Limit: 20}},
		{"changed-1d", store.ListQuery{ChangedFrom: at.Add(-12 * time.Hour), ChangedBefore: at.Add(12 * time.Hour), Limit: 20}},
		{"changed-30d", store.ListQuery{ChangedFrom: at.Add(-15 * 24 * time.Hour), ChangedBefore: at.Add(15 * 24 * time.Hour), Limit: 20}},
		{"page-10000", store.ListQuery{Offset: (page - 1) * pageSize, Limit: pageSize}},
	}, nil
}

func describe(q store.ListQuery) string {
	var parts []string
	if q.Status != "" {
		parts = append(parts, "Status="+string(q.Status))
	}
	if q.Type != "" {
		parts = append(parts, "Type="+string(q.Type))
	}
	if q.ParentIdentifier != "" {
		parts = append(parts, "ParentIdentifier="+q.ParentIdentifier)
	}
	if q.InstanceUUID != "" {
		parts = append(parts, "InstanceUUID="+q.InstanceUUID)
	}
	if !q.ChangedFrom.IsZero() {
		parts = append(parts, "ChangedFrom="+q.ChangedFrom.Format(time.DateTime))
	}
	if !q.ChangedBefore.IsZero() {
		parts = append(parts, "ChangedBefore="+q.ChangedBefore.Format(time.DateTime))
	}
	if q.BeforeID > 0 {
		parts = append(parts, fmt.Sprintf("BeforeID=%d", q.BeforeID))
	}
	if q.Offset > 0 {
		parts = append(parts, fmt.Sprintf("Offset=%d", q.Offset))
	}
	parts = append(parts, fmt.Sprintf("Limit=%d", q.Limit))
	return strings.Join(parts, " ")
}

// checkList compares one ListCertificates call with the same selection
// written as plain SQL: exact Total, the exact ids of the page in
// descending order, and every item inside the filter and the account.
func checkList(ctx context.Context, s *Store, acct int64, q store.ListQuery) error {
	res, err := s.ListCertificates(ctx, acct, q)
	if err != nil {
		return err
	}
	where := []string{"account_id = ?"}
	args := []any{acct}
	if q.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(q.Status))
	}
	if q.Type != "" {
		where, args = append(where, "cert_type = ?"), append(args, string(q.Type))
	}
	if q.InstanceUUID != "" {
		where, args = append(where, "instance_id IN (SELECT id FROM instances WHERE account_id = ? AND uuid = ?)"), append(args, acct, strings.ToLower(q.InstanceUUID))
	}
	if q.ParentIdentifier != "" {
		where, args = append(where, "ca_id IN (SELECT id FROM cas WHERE account_id = ? AND identifier = ?)"), append(args, acct, q.ParentIdentifier)
	}
	if !q.ChangedFrom.IsZero() {
		where, args = append(where, "changed_at >= ?"), append(args, ms(q.ChangedFrom))
	}
	if !q.ChangedBefore.IsZero() {
		where, args = append(where, "changed_at < ?"), append(args, ms(q.ChangedBefore))
	}
	var total int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates WHERE "+strings.Join(where, " AND "), args...).Scan(&total); err != nil {
		return err
	}
	if res.Total != total {
		return fmt.Errorf("Total = %d, want %d", res.Total, total)
	}
	if q.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, q.BeforeID)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM certificates WHERE "+strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT ? OFFSET ?",
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return err
	}
	var want []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		want = append(want, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(want) == 0 {
		return errors.New("the case selects no rows; it would measure nothing")
	}
	got := make([]int64, len(res.Items))
	for i, c := range res.Items {
		got[i] = c.ID
		if i > 0 && c.ID >= got[i-1] {
			return fmt.Errorf("items not in descending id order: %d after %d", c.ID, got[i-1])
		}
		if c.AccountID != acct {
			return fmt.Errorf("item %d belongs to account %d", c.ID, c.AccountID)
		}
		if q.Status != "" && c.Status != q.Status || q.Type != "" && c.Type != q.Type ||
			q.ParentIdentifier != "" && c.ParentIdentifier != q.ParentIdentifier ||
			q.InstanceUUID != "" && c.InstanceUUID != strings.ToLower(q.InstanceUUID) {
			return fmt.Errorf("item %d (%s %s parent %s instance %s) is outside the filter", c.ID, c.Status, c.Type, c.ParentIdentifier, c.InstanceUUID)
		}
		if c.Identifier == "" || c.SubjectDN == "" || c.SerialNumber == "" || c.DER != nil {
			return fmt.Errorf("item %d is not filled as a list item", c.ID)
		}
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("page ids = %v, want %v", got, want)
	}
	return nil
}

// checkScoping checks that neither account sees the other's certificates.
func checkScoping(ctx context.Context, s *Store, seed benchSeed) error {
	res, err := s.ListCertificates(ctx, seed.Other, store.ListQuery{Limit: 1000})
	if err != nil {
		return err
	}
	if res.Total != seed.OtherCerts || int64(len(res.Items)) != min(seed.OtherCerts, 1000) {
		return fmt.Errorf("second account: Total %d, %d items, want %d", res.Total, len(res.Items), seed.OtherCerts)
	}
	for _, c := range res.Items {
		if c.AccountID != seed.Other {
			return fmt.Errorf("second account sees certificate %d of account %d", c.ID, c.AccountID)
		}
	}
	// A main-account sub-CA or instance named by the second account matches nothing.
	for _, q := range []store.ListQuery{{ParentIdentifier: seed.SubCAs[0].Identifier, Limit: 20}, {InstanceUUID: seed.SubCAs[0].InstanceUUID, Limit: 20}} {
		res, err := s.ListCertificates(ctx, seed.Other, q)
		if err != nil {
			return err
		}
		if res.Total != 0 || len(res.Items) != 0 {
			return fmt.Errorf("second account sees %d (Total %d) certificates of the main account's CA", len(res.Items), res.Total)
		}
	}
	if err := checkList(ctx, s, seed.Other, store.ListQuery{ParentIdentifier: seed.OtherSubCA.Identifier, Limit: 20}); err != nil {
		return fmt.Errorf("second account: %w", err)
	}
	return nil
}

// explainList runs q through tr, a store whose connections record every
// statement, then runs EXPLAIN QUERY PLAN on db for each recorded statement,
// so the plans shown are those of the exact SQL ListCertificates sends.
func explainList(ctx context.Context, db *sql.DB, tr *tracedStore, acct int64, q store.ListQuery) (string, error) {
	tr.rec.reset()
	if _, err := tr.s.ListCertificates(ctx, acct, q); err != nil {
		return "", err
	}
	var out strings.Builder
	for _, st := range tr.rec.take() {
		rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+st.query, st.args...)
		if err != nil {
			return "", err
		}
		var steps []string
		for rows.Next() {
			var id, parent, notused int64
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				rows.Close()
				return "", err
			}
			steps = append(steps, detail)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
		// The SQL without its long column list, then its plan, one line each.
		sqlText := strings.Join(strings.Fields(st.query), " ")
		sqlText = strings.ReplaceAll(sqlText, strings.Join(strings.Fields(certColumns), " "), "<columns>")
		fmt.Fprintf(&out, "  SQL:  %s\n  PLAN: %s\n", sqlText, strings.Join(steps, " | "))
	}
	return strings.TrimRight(out.String(), "\n"), nil
}

// The traced store: a database/sql driver around modernc's that records the
// SQL text and arguments of every query, used only to find the statements
// to EXPLAIN (never for timing).

type tracedStatement struct {
	query string
	args  []any
}

type traceRecorder struct {
	mu    sync.Mutex
	stmts []tracedStatement
}

func (r *traceRecorder) add(query string, args []driver.NamedValue) {
	a := make([]any, len(args))
	for i, v := range args {
		a[i] = v.Value
	}
	r.mu.Lock()
	r.stmts = append(r.stmts, tracedStatement{query, a})
	r.mu.Unlock()
}

func (r *traceRecorder) reset() { r.mu.Lock(); r.stmts = nil; r.mu.Unlock() }

func (r *traceRecorder) take() []tracedStatement {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.stmts
	r.stmts = nil
	return out
}

type tracedStore struct {
	s   *Store
	rec *traceRecorder
}

func (t *tracedStore) Close() error { return t.s.Close() }

// openTraced opens the (already migrated) database at path read-only
// through the recording driver.
func openTraced(path string) (*tracedStore, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	rec := &traceRecorder{}
	db := sql.OpenDB(traceConnector{dsn: "file:" + path + "?" + q.Encode(), rec: rec})
	db.SetMaxOpenConns(1)
	return &tracedStore{s: newStore(db, dialectSQLite), rec: rec}, nil
}

type traceConnector struct {
	dsn string
	rec *traceRecorder
}

func (c traceConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &traceConn{Conn: conn, rec: c.rec}, nil
}

func (c traceConnector) Driver() driver.Driver { return &sqlite.Driver{} }

type traceConn struct {
	driver.Conn
	rec *traceRecorder
}

func (c *traceConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.rec.add(query, args)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *traceConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.rec.add(query, args)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *traceConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}
