package sqlstore

// Copying a whole store into another one: `pcad admin migrate-store` moves
// a SQLite deployment into PostgreSQL with it.
//
// The tables come from the source's schema (sqlite_master), not from a list
// kept here, so a migration that adds a table is copied without a change to
// this file; the target must be at the same schema version. Every column is
// copied by name and converted to the target column's kind (integer, text
// or bytes): SQLite stores what it is given, PostgreSQL checks types.
//
// While the rows go by, each table's contents are folded into a digest: the
// sum of the SHA-256 of every row's canonical encoding, which does not
// depend on the order rows are read in. CopyReport.Verify reads a store back
// and compares its row counts and digests with the snapshot that was copied.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrTargetNotEmpty is wrapped by Copy's error when the target store holds
// rows already: Copy never merges into or overwrites a store in use.
var ErrTargetNotEmpty = errors.New("the target store is not empty")

// copySkip are the tables Copy leaves alone: goose's record of applied
// migrations (each store has its own, written by its migrations) and the
// leases of background jobs (ephemeral: held by running replicas).
var copySkip = map[string]bool{"goose_db_version": true, "leases": true}

// Batch limits of Copy: a batch is written (one COPY on PostgreSQL) when it
// holds copyBatchRows rows or about copyBatchBytes bytes of values.
const (
	copyBatchRows  = 10_000
	copyBatchBytes = 8 << 20
	// progressEvery is how often, in rows, the progress callback is called
	// within a table (and at each table's start and end).
	progressEvery = 1000
)

// Progress is where a Copy or a Verify is: Done of the Total rows of Table.
// At the end of a Copy into PostgreSQL, Table is IndexProgress and Done and
// Total count indexes.
type Progress struct {
	Table       string
	Done, Total int64
}

// IndexProgress is the Progress.Table of the index builds that end a Copy
// into PostgreSQL.
const IndexProgress = "(indexes)"

// CopyReport describes a finished Copy: the tables in the order they were
// copied, each with its row count and the digest of the source snapshot.
type CopyReport struct {
	Tables []TableReport
}

// TableReport is one copied table.
type TableReport struct {
	Name string
	Rows int64

	cols   []copyColumn
	digest tableDigest
}

// MismatchError is the error of CopyReport.Verify: the first table, in copy
// order, whose row count or contents differ from the copied snapshot.
type MismatchError struct {
	Table    string
	WantRows int64 // rows in the copied snapshot
	GotRows  int64 // rows in the store verified
}

func (e *MismatchError) Error() string {
	if e.WantRows != e.GotRows {
		return fmt.Sprintf("table %s has %d rows, the copied snapshot %d", e.Table, e.GotRows, e.WantRows)
	}
	return fmt.Sprintf("table %s differs from the copied snapshot: same %d rows, different contents", e.Table, e.GotRows)
}

// copyKind is how a column's values are converted, written and digested.
type copyKind byte

const (
	kindInt   copyKind = 'I'
	kindText  copyKind = 'T'
	kindBytes copyKind = 'B'
)

type copyColumn struct {
	name string
	kind copyKind // the target column's
}

// copyTable is a source table: its columns and primary key.
type copyTable struct {
	name string
	cols []string // in the source's column order
	pk   []string // primary-key columns (rowid when none)
	refs []string // tables its foreign keys name
}

// tableDigest is an order-independent digest of a table's rows: the sum,
// lane by lane modulo 2^64, of the SHA-256 of each row's encoding. Equal
// multisets of rows give equal digests; unlike a XOR, a repeated row does
// not cancel out.
type tableDigest [4]uint64

func (d *tableDigest) add(row [sha256.Size]byte) {
	for i := range d {
		d[i] += binary.BigEndian.Uint64(row[8*i:])
	}
}

// Copy copies every table of src, a SQLite store, into dst, an empty store
// (PostgreSQL or SQLite) at the same schema version, and reports what it
// copied. progress, if not nil, is called as the rows go by.
//
// The source is read inside one read transaction, so the copy is the
// snapshot of the moment the copy began; writes made to src meanwhile are
// not in it (CopyReport.Verify on src shows them). The target is written in
// one transaction: on any error nothing is left in it. On PostgreSQL the
// rows go in through COPY, in batches, into tables locked against other
// sessions for the duration; indexes that back no constraint are dropped
// for the load and built again at its end (reported as IndexProgress); and
// every identity sequence is moved past the largest id copied, so that new
// rows do not collide with copied ones.
//
// Copy refuses (with an error wrapping ErrTargetNotEmpty) a target that
// holds any row in a table it would copy. It skips goose's version table
// and the leases of background jobs.
func Copy(ctx context.Context, dst, src *Store, progress func(Progress)) (*CopyReport, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	if src.db.e.dialect != dialectSQLite {
		return nil, errors.New("sqlstore: copy: the source must be a SQLite store")
	}
	if src == dst {
		return nil, errors.New("sqlstore: copy: source and target are the same store")
	}
	sv, err := src.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: copy: source: %w", err)
	}
	dv, err := dst.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: copy: target: %w", err)
	}
	if sv != dv {
		return nil, fmt.Errorf("sqlstore: copy: the source is at schema version %d, the target at %d: open both with the same pcad", sv, dv)
	}

	// The source snapshot: a deferred (read) transaction.
	rtx, err := src.db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: copy: begin read: %w", err)
	}
	defer rtx.Rollback()
	tables, err := sqliteTables(ctx, rtx)
	if err != nil {
		return nil, err
	}
	kinds, err := dst.columnKinds(ctx)
	if err != nil {
		return nil, err
	}
	rep := &CopyReport{}
	for _, t := range tables {
		tk, ok := kinds[t.name]
		if !ok {
			return nil, fmt.Errorf("sqlstore: copy: the target has no table %s", t.name)
		}
		tr := TableReport{Name: t.name}
		for _, c := range t.cols {
			k, ok := tk[c]
			if !ok {
				return nil, fmt.Errorf("sqlstore: copy: the target's table %s has no column %s", t.name, c)
			}
			tr.cols = append(tr.cols, copyColumn{name: c, kind: k})
		}
		if len(tk) != len(t.cols) {
			return nil, fmt.Errorf("sqlstore: copy: the target's table %s has %d columns, the source's %d", t.name, len(tk), len(t.cols))
		}
		if err := rtx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(t.name)).Scan(&tr.Rows); err != nil {
			return nil, fmt.Errorf("sqlstore: copy: count %s: %w", t.name, err)
		}
		rep.Tables = append(rep.Tables, tr)
	}
	for name := range kinds {
		if !slices.ContainsFunc(tables, func(t copyTable) bool { return t.name == name }) {
			return nil, fmt.Errorf("sqlstore: copy: the source has no table %s, which the target has", name)
		}
	}

	w, err := dst.newCopyWriter(ctx, rep.Tables)
	if err != nil {
		return nil, err
	}
	defer w.abort()
	for i, t := range tables {
		tr := &rep.Tables[i]
		if err := copyTableRows(ctx, rtx, w, t, tr, progress); err != nil {
			return nil, err
		}
	}
	if err := w.commit(ctx, progress); err != nil {
		return nil, err
	}
	return rep, nil
}

// copyTableRows reads t from the snapshot in primary-key order and writes
// it through w in batches, digesting it into tr.
func copyTableRows(ctx context.Context, rtx *sql.Tx, w copyWriter, t copyTable, tr *TableReport, progress func(Progress)) error {
	progress(Progress{Table: t.name, Total: tr.Rows})
	names := make([]string, len(tr.cols))
	for i, c := range tr.cols {
		names[i] = quoteIdent(c.name)
	}
	order := make([]string, len(t.pk))
	for i, c := range t.pk {
		order[i] = quoteIdent(c)
	}
	rows, err := rtx.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+quoteIdent(t.name)+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		return fmt.Errorf("sqlstore: copy: read %s: %w", t.name, err)
	}
	defer rows.Close()
	var (
		batch     [][]any
		size      int
		done      int64
		h         rowHasher
		dest, ptr = scanTargets(len(tr.cols))
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := w.write(ctx, tr, batch); err != nil {
			return err
		}
		batch, size = batch[:0], 0
		return nil
	}
	for rows.Next() {
		if err := rows.Scan(ptr...); err != nil {
			return fmt.Errorf("sqlstore: copy: read %s: %w", t.name, err)
		}
		row := make([]any, len(dest))
		for i, v := range dest {
			if row[i], err = convertValue(v, tr.cols[i].kind); err != nil {
				return fmt.Errorf("sqlstore: copy: %s.%s: %w", t.name, tr.cols[i].name, err)
			}
			size += valueSize(row[i])
		}
		tr.digest.add(h.sum(tr.cols, row))
		batch = append(batch, row)
		done++
		if len(batch) >= copyBatchRows || size >= copyBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		if done%progressEvery == 0 {
			progress(Progress{Table: t.name, Done: done, Total: tr.Rows})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: copy: read %s: %w", t.name, err)
	}
	if err := flush(); err != nil {
		return err
	}
	if done != tr.Rows {
		return fmt.Errorf("sqlstore: copy: read %d rows of %s, counted %d in the same snapshot", done, t.name, tr.Rows)
	}
	progress(Progress{Table: t.name, Done: done, Total: tr.Rows})
	return nil
}

// Verify reads every table of the report from s, inside one read
// transaction, and compares its row count and digest with the snapshot the
// report copied. Run on the target after Copy, it shows the copy is whole;
// run on the source, it shows whether the source changed after the copy
// began. A difference is a *MismatchError naming the first table, in copy
// order, that differs. progress, if not nil, is called as rows are read.
func (r *CopyReport) Verify(ctx context.Context, s *Store, progress func(Progress)) error {
	if progress == nil {
		progress = func(Progress) {}
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if s.db.e.dialect == dialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("sqlstore: verify: begin: %w", err)
	}
	defer tx.Rollback()
	for i := range r.Tables {
		t := &r.Tables[i]
		progress(Progress{Table: t.Name, Total: t.Rows})
		n, d, err := digestTable(ctx, tx, t, func(done int64) { progress(Progress{Table: t.Name, Done: done, Total: t.Rows}) })
		if err != nil {
			return err
		}
		progress(Progress{Table: t.Name, Done: n, Total: t.Rows})
		if n != t.Rows || d != t.digest {
			return &MismatchError{Table: t.Name, WantRows: t.Rows, GotRows: n}
		}
	}
	return nil
}

// digestTable reads every row of t's columns (in no particular order) and
// returns the row count and digest.
func digestTable(ctx context.Context, tx *sql.Tx, t *TableReport, progress func(done int64)) (int64, tableDigest, error) {
	var d tableDigest
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = quoteIdent(c.name)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+quoteIdent(t.Name))
	if err != nil {
		return 0, d, fmt.Errorf("sqlstore: verify: read %s: %w", t.Name, err)
	}
	defer rows.Close()
	dest, ptr := scanTargets(len(t.cols))
	row := make([]any, len(t.cols))
	var h rowHasher
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptr...); err != nil {
			return 0, d, fmt.Errorf("sqlstore: verify: read %s: %w", t.Name, err)
		}
		for i, v := range dest {
			if row[i], err = convertValue(v, t.cols[i].kind); err != nil {
				return 0, d, fmt.Errorf("sqlstore: verify: %s.%s: %w", t.Name, t.cols[i].name, err)
			}
		}
		d.add(h.sum(t.cols, row))
		n++
		if n%progressEvery == 0 {
			progress(n)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, d, fmt.Errorf("sqlstore: verify: read %s: %w", t.Name, err)
	}
	return n, d, nil
}

func scanTargets(n int) (dest []any, ptr []any) {
	dest, ptr = make([]any, n), make([]any, n)
	for i := range dest {
		ptr[i] = &dest[i]
	}
	return dest, ptr
}

// convertValue turns a value read from either engine into the Go type of
// kind k: int64, string or []byte (a nil interface stays nil: SQL NULL;
// an empty value is never nil). SQLite keeps
// whatever it was given, so text read from a BLOB column becomes bytes and
// bytes read from a TEXT column become text; anything else is an error,
// which names the type but never the value.
func convertValue(v any, k copyKind) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case int64:
		if k == kindInt {
			return v, nil
		}
	case string:
		switch k {
		case kindText:
			return v, nil
		case kindBytes:
			return []byte(v), nil
		}
	case []byte:
		switch k {
		case kindText:
			return string(v), nil
		case kindBytes:
			if v == nil { // the SQLite driver reads an empty BLOB as a nil slice: not NULL
				return []byte{}, nil
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("a %T value where the target column holds %s", v, k)
}

func (k copyKind) String() string {
	switch k {
	case kindInt:
		return "integers"
	case kindText:
		return "text"
	}
	return "bytes"
}

func valueSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v) + 16
	case []byte:
		return len(v) + 24
	}
	return 8
}

// rowHasher hashes rows in their canonical encoding: per column a kind
// byte ('N' for NULL) and the value, an integer as 8 big-endian bytes,
// text and bytes with their length first.
type rowHasher struct{ buf []byte }

func (h *rowHasher) sum(cols []copyColumn, row []any) [sha256.Size]byte {
	b := h.buf[:0]
	for i, v := range row {
		switch v := v.(type) {
		case nil:
			b = append(b, 'N')
		case int64:
			b = binary.BigEndian.AppendUint64(append(b, byte(kindInt)), uint64(v))
		case string:
			b = append(binary.BigEndian.AppendUint64(append(b, byte(cols[i].kind)), uint64(len(v))), v...)
		case []byte:
			b = append(binary.BigEndian.AppendUint64(append(b, byte(cols[i].kind)), uint64(len(v))), v...)
		}
	}
	h.buf = b
	return sha256.Sum256(b)
}

// quoteIdent quotes a table or column name for either engine.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// sqliteTables lists the tables of a SQLite database to copy, with their
// columns and primary keys, parents before the tables whose foreign keys
// name them (then in creation order).
func sqliteTables(ctx context.Context, q *sql.Tx) ([]copyTable, error) {
	rows, err := q.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: copy: list tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlstore: copy: list tables: %w", err)
		}
		if !copySkip[n] {
			names = append(names, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: copy: list tables: %w", err)
	}
	var tables []copyTable
	for _, n := range names {
		t := copyTable{name: n}
		type pkCol struct {
			name string
			pos  int
		}
		var pks []pkCol
		err := eachRow(ctx, q, "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", []any{n}, func(r *sql.Rows) error {
			var c string
			var pk int
			if err := r.Scan(&c, &pk); err != nil {
				return err
			}
			t.cols = append(t.cols, c)
			if pk > 0 {
				pks = append(pks, pkCol{c, pk})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sqlstore: copy: columns of %s: %w", n, err)
		}
		slices.SortFunc(pks, func(a, b pkCol) int { return a.pos - b.pos })
		for _, p := range pks {
			t.pk = append(t.pk, p.name)
		}
		if len(t.pk) == 0 {
			t.pk = []string{"rowid"}
		}
		err = eachRow(ctx, q, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)", []any{n}, func(r *sql.Rows) error {
			var ref string
			if err := r.Scan(&ref); err != nil {
				return err
			}
			if ref != n { // a table's references to itself are met by primary-key order
				t.refs = append(t.refs, ref)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sqlstore: copy: foreign keys of %s: %w", n, err)
		}
		tables = append(tables, t)
	}
	return orderByReferences(tables)
}

// orderByReferences sorts tables so that every table comes after the
// tables it references, keeping the given order otherwise.
func orderByReferences(tables []copyTable) ([]copyTable, error) {
	var out []copyTable
	placed := map[string]bool{}
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables {
			if placed[t.name] {
				continue
			}
			ready := true
			for _, r := range t.refs {
				if !placed[r] && slices.ContainsFunc(tables, func(o copyTable) bool { return o.name == r }) {
					ready = false
				}
			}
			if ready {
				out = append(out, t)
				placed[t.name] = true
				progressed = true
			}
		}
		if !progressed {
			return nil, errors.New("sqlstore: copy: the tables' foreign keys form a cycle")
		}
	}
	return out, nil
}

func eachRow(ctx context.Context, q *sql.Tx, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// columnKinds returns the kind of every column of every table of s that
// Copy would write, by table and column name.
func (s *Store) columnKinds(ctx context.Context) (map[string]map[string]copyKind, error) {
	out := map[string]map[string]copyKind{}
	add := func(table, col, typ string) error {
		if copySkip[table] {
			return nil
		}
		k, ok := kindOf(s.db.e.dialect, typ)
		if !ok {
			return fmt.Errorf("sqlstore: copy: the target column %s.%s has type %s, which copy does not handle", table, col, typ)
		}
		if out[table] == nil {
			out[table] = map[string]copyKind{}
		}
		out[table][col] = k
		return nil
	}
	var query string
	if s.db.e.dialect == dialectPostgres {
		query = `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`
	} else {
		query = `SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	}
	rows, err := s.db.db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: copy: target columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, col, typ string
		if err := rows.Scan(&table, &col, &typ); err != nil {
			return nil, fmt.Errorf("sqlstore: copy: target columns: %w", err)
		}
		if err := add(table, col, typ); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: copy: target columns: %w", err)
	}
	return out, nil
}

// kindOf maps a column type to its kind: PostgreSQL's information_schema
// data_type, or a SQLite declared type by SQLite's affinity rules.
func kindOf(d dialect, typ string) (copyKind, bool) {
	t := strings.ToUpper(typ)
	if d == dialectPostgres {
		switch t {
		case "BIGINT", "INTEGER", "SMALLINT":
			return kindInt, true
		case "TEXT", "CHARACTER VARYING", "CHARACTER":
			return kindText, true
		case "BYTEA":
			return kindBytes, true
		}
		return 0, false
	}
	switch {
	case strings.Contains(t, "INT"):
		return kindInt, true
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return kindText, true
	case t == "" || strings.Contains(t, "BLOB"):
		return kindBytes, true
	}
	return 0, false
}

// copyWriter writes the rows of a Copy into the target, in one transaction.
type copyWriter interface {
	write(ctx context.Context, t *TableReport, rows [][]any) error
	commit(ctx context.Context, progress func(Progress)) error
	abort() // rolls back unless committed
}

// newCopyWriter begins the target's transaction, checks that the tables
// are empty and prepares them for the load.
//
// On PostgreSQL the tables are locked first: nobody else writes to them
// until the commit, and the indexes dropped for the load keep even readers
// out until then (the target serves no one yet).
func (s *Store) newCopyWriter(ctx context.Context, tables []TableReport) (copyWriter, error) {
	conn, err := s.db.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: copy: target: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlstore: copy: target: begin: %w", err)
	}
	base := &txWriter{conn: conn, tx: tx, tables: tables}
	if s.db.e.dialect != dialectPostgres {
		// The copy's order satisfies foreign keys; deferring them costs
		// nothing and covers rows that reference later rows of their table.
		if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
			base.abort()
			return nil, fmt.Errorf("sqlstore: copy: target: %w", err)
		}
		base.stmts = map[string]*sql.Stmt{}
		if err := checkEmpty(ctx, tx, tables); err != nil {
			base.abort()
			return nil, err
		}
		return base, nil
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = quoteIdent(t.Name)
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN EXCLUSIVE MODE"); err != nil {
		base.abort()
		return nil, fmt.Errorf("sqlstore: copy: lock the target's tables: %w", err)
	}
	if err := checkEmpty(ctx, tx, tables); err != nil {
		base.abort()
		return nil, err
	}
	w := &pgWriter{txWriter: base}
	if err := w.dropIndexes(ctx); err != nil {
		base.abort()
		return nil, err
	}
	return w, nil
}

// checkEmpty refuses a target holding any row in the tables to copy,
// naming the accounts and certificates it holds first.
func checkEmpty(ctx context.Context, tx *sql.Tx, tables []TableReport) error {
	counts := map[string]int64{}
	for _, t := range tables {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(t.Name)).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: copy: target: count %s: %w", t.Name, err)
		}
		counts[t.Name] = n
	}
	if counts["accounts"] > 0 || counts["certificates"] > 0 {
		return fmt.Errorf("sqlstore: copy: %w: it holds %d accounts and %d certificates; a copy goes only into an empty store, never into one in use",
			ErrTargetNotEmpty, counts["accounts"], counts["certificates"])
	}
	for _, t := range tables {
		if counts[t.Name] > 0 {
			return fmt.Errorf("sqlstore: copy: %w: its table %s holds %d rows (left by an earlier start or copy?); a copy goes only into an empty store",
				ErrTargetNotEmpty, t.Name, counts[t.Name])
		}
	}
	return nil
}

// txWriter writes rows with INSERT statements (SQLite).
type txWriter struct {
	conn   *sql.Conn
	tx     *sql.Tx
	tables []TableReport
	stmts  map[string]*sql.Stmt
	done   bool
}

func (w *txWriter) write(ctx context.Context, t *TableReport, rows [][]any) error {
	st, ok := w.stmts[t.Name]
	if !ok {
		names := make([]string, len(t.cols))
		for i, c := range t.cols {
			names[i] = quoteIdent(c.name)
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ")
		var err error
		st, err = w.tx.PrepareContext(ctx, "INSERT INTO "+quoteIdent(t.Name)+" ("+strings.Join(names, ", ")+") VALUES ("+marks+")")
		if err != nil {
			return fmt.Errorf("sqlstore: copy: write %s: %w", t.Name, err)
		}
		w.stmts[t.Name] = st
	}
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return fmt.Errorf("sqlstore: copy: write %s: %w", t.Name, err)
		}
	}
	return nil
}

func (w *txWriter) commit(context.Context, func(Progress)) error {
	for _, st := range w.stmts {
		st.Close()
	}
	err := w.tx.Commit()
	w.done = true
	w.conn.Close()
	if err != nil {
		return fmt.Errorf("sqlstore: copy: commit: %w", err)
	}
	return nil
}

func (w *txWriter) abort() {
	if w.done {
		return
	}
	w.done = true
	w.tx.Rollback()
	w.conn.Close()
}

// pgWriter writes rows with COPY on the transaction's connection. Indexes
// that back no constraint are dropped first and built again, once, before
// the commit (as pg_restore does: one sorted build is much faster than
// updating ten indexes row by row); the identity sequences are reset then
// too. It all happens in the one transaction: a failure leaves the schema
// as it was.
type pgWriter struct {
	*txWriter
	indexes []string // CREATE INDEX statements of the dropped indexes
}

// dropIndexes drops the indexes of the tables to copy that no primary-key,
// unique or exclusion constraint owns, remembering their definitions.
func (w *pgWriter) dropIndexes(ctx context.Context) error {
	names := make([]string, len(w.tables))
	for i, t := range w.tables {
		names[i] = t.Name
	}
	rows, err := w.tx.QueryContext(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema() AND t.relname = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`, names)
	if err != nil {
		return fmt.Errorf("sqlstore: copy: list the target's indexes: %w", err)
	}
	var drop []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("sqlstore: copy: list the target's indexes: %w", err)
		}
		drop, w.indexes = append(drop, name), append(w.indexes, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: copy: list the target's indexes: %w", err)
	}
	for _, name := range drop {
		if _, err := w.tx.ExecContext(ctx, "DROP INDEX "+name); err != nil {
			return fmt.Errorf("sqlstore: copy: drop index %s for the load: %w", name, err)
		}
	}
	return nil
}

func (w *pgWriter) write(ctx context.Context, t *TableReport, rows [][]any) error {
	cols := make([]string, len(t.cols))
	for i, c := range t.cols {
		cols[i] = c.name
	}
	return w.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("sqlstore: copy: driver connection is %T, not pgx", dc)
		}
		n, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{t.Name}, cols, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("sqlstore: copy: write %s: %w", t.Name, err)
		}
		if n != int64(len(rows)) {
			return fmt.Errorf("sqlstore: copy: write %s: COPY took %d of %d rows", t.Name, n, len(rows))
		}
		return nil
	})
}

func (w *pgWriter) commit(ctx context.Context, progress func(Progress)) error {
	n := int64(len(w.indexes))
	for i, def := range w.indexes {
		progress(Progress{Table: IndexProgress, Done: int64(i), Total: n})
		if _, err := w.tx.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("sqlstore: copy: rebuild an index after the load (%s): %w", def, err)
		}
	}
	progress(Progress{Table: IndexProgress, Done: n, Total: n})
	if err := resetSequences(ctx, w.tx, w.tables); err != nil {
		return err
	}
	return w.txWriter.commit(ctx, progress)
}

// resetSequences moves the sequence behind every identity (or serial)
// column of the copied tables past the largest value copied into it, so
// that the next generated id follows the copied ones.
func resetSequences(ctx context.Context, tx *sql.Tx, tables []TableReport) error {
	for _, t := range tables {
		rows, err := tx.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1
			AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`, t.Name)
		if err != nil {
			return fmt.Errorf("sqlstore: copy: identity columns of %s: %w", t.Name, err)
		}
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: copy: identity columns of %s: %w", t.Name, err)
			}
			cols = append(cols, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: copy: identity columns of %s: %w", t.Name, err)
		}
		for _, c := range cols {
			// setval(seq, max+1, false): the next nextval returns max+1 (1 on an empty table).
			q := "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(" + quoteIdent(c) + ") FROM " + quoteIdent(t.Name) + "), 0) + 1, false)"
			if _, err := tx.ExecContext(ctx, q, quoteIdent(t.Name), c); err != nil {
				return fmt.Errorf("sqlstore: copy: reset the sequence of %s.%s: %w", t.Name, c, err)
			}
		}
	}
	return nil
}
