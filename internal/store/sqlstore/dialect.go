package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
)

// dialect is the SQL engine a Store talks to. Queries are written once, in
// SQLite's form with ? placeholders; the dialect adapts what differs.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// rebindCacheMax bounds the rebinding cache: queries with literal LIMIT and
// OFFSET values or IN lists of many lengths are rebound without caching once
// it is full.
const rebindCacheMax = 4096

// rebinder turns ? placeholders into PostgreSQL's $n, once per query string.
type rebinder struct {
	cache sync.Map // string -> string
	n     atomic.Int64
}

func (r *rebinder) rebind(q string) string {
	if v, ok := r.cache.Load(q); ok {
		return v.(string)
	}
	out := rebindDollar(q)
	if r.n.Load() < rebindCacheMax {
		if _, loaded := r.cache.LoadOrStore(q, out); !loaded {
			r.n.Add(1)
		}
	}
	return out
}

// rebindDollar replaces each ? outside string literals, quoted identifiers
// and comments with $1, $2, ...
func rebindDollar(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			b.WriteString(q[i:min(j+1, len(q))])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i - 1
			}
			b.WriteString(q[i : i+j+1])
			i += j
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// engine is the per-Store dialect state shared by the pool and its
// transactions.
type engine struct {
	dialect dialect
	rb      rebinder

	// SQLite: prepared statements by query text, so a query is parsed once
	// per connection rather than on every call (database/sql prepares a
	// cached statement again on each connection that runs it). PostgreSQL
	// needs none: pgx caches statements per connection itself.
	db     *sql.DB // nil: no statement cache
	stmts  sync.Map
	nstmts atomic.Int64
}

// maxCachedStmts bounds the statement cache: queries built with a varying
// number of placeholders beyond it run unprepared.
const maxCachedStmts = 1024

// stmt returns the prepared statement of query, preparing it on first use,
// or nil when statements are not cached (PostgreSQL, a full cache, or a
// query that does not prepare: the plain path then reports its error).
func (e *engine) stmt(ctx context.Context, query string) *sql.Stmt {
	if e.db == nil {
		return nil
	}
	if v, ok := e.stmts.Load(query); ok {
		return v.(*sql.Stmt)
	}
	if e.nstmts.Load() >= maxCachedStmts {
		return nil
	}
	st, err := e.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	if v, loaded := e.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	e.nstmts.Add(1)
	return st
}

// closeStmts closes the cached statements.
func (e *engine) closeStmts() {
	e.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		e.stmts.Delete(k)
		return true
	})
}

func (e *engine) q(query string) string {
	if e.dialect == dialectPostgres {
		return e.rb.rebind(query)
	}
	return query
}

// forUpdate is the locking clause for a read-then-write inside a
// transaction: SQLite's write transactions are already exclusive
// (BEGIN IMMEDIATE), PostgreSQL's READ COMMITTED ones are not. tables names
// the aliases to lock (PostgreSQL refuses to lock the nullable side of an
// outer join).
func (e *engine) forUpdate(tables string) string {
	if e.dialect == dialectPostgres {
		return " FOR UPDATE OF " + tables
	}
	return ""
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: UNIQUE")
}

// conn is the pool: database/sql with the dialect's rebinding.
type conn struct {
	db *sql.DB
	e  *engine
}

func (c conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := c.e.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, c.e.q(query), args...)
}

func (c conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.e.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, c.e.q(query), args...)
}

func (c conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.e.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, c.e.q(query), args...)
}

// insertID runs an INSERT and returns the id of the new row.
func (c conn) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	return insertID(ctx, c, c.e, query, args...)
}

// sqlTx is a write transaction with the dialect's rebinding.
type sqlTx struct {
	tx *sql.Tx
	e  *engine
	// ctx, when set, replaces the context every statement is given: a
	// transaction of a commit group (groupcommit.go) must not be interrupted
	// by one caller's context.
	ctx context.Context
}

func (t *sqlTx) use(ctx context.Context) context.Context {
	if t.ctx != nil {
		return t.ctx
	}
	return ctx
}

func (t *sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.use(ctx)
	if st := t.e.stmt(ctx, query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.e.q(query), args...)
}

func (t *sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.use(ctx)
	if st := t.e.stmt(ctx, query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.e.q(query), args...)
}

func (t *sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.use(ctx)
	if st := t.e.stmt(ctx, query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.e.q(query), args...)
}

// insertID runs an INSERT and returns the id of the new row.
func (t *sqlTx) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	return insertID(ctx, t, t.e, query, args...)
}

// lock takes a transaction-scoped lock named name, serialising the
// transactions that take it. SQLite's write transactions are serial already.
func (t *sqlTx) lock(ctx context.Context, name string) error {
	if t.e.dialect != dialectPostgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte("pcad:" + name))
	if _, err := t.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())); err != nil {
		return fmt.Errorf("sqlstore: lock %s: %w", name, err)
	}
	return nil
}

type rowQuerier interface {
	execer
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func insertID(ctx context.Context, q rowQuerier, e *engine, query string, args ...any) (int64, error) {
	var id int64
	if e.dialect == dialectPostgres {
		err := q.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}
