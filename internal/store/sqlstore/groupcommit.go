package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Group commit for SQLite.
//
// Every write transaction of a SQLite store runs on one committer goroutine.
// When several callers write at once, the committer runs their transactions
// one after another inside ONE database transaction, each in its own
// savepoint, and commits them together: one COMMIT, so one fsync of the WAL
// (synchronous=FULL), for the whole group. A caller's function that fails is
// rolled back to its savepoint and leaves the others untouched; a COMMIT that
// fails fails every caller of the group. So a caller is told it succeeded only
// once its writes are durable, and a caller told it failed changed nothing.
//
// Within a group the functions run in arrival order and each sees the writes
// of those before it, exactly as if they had committed one by one: SQLite
// serialises write transactions anyway, so nothing is lost in concurrency.

// maxGroup bounds how many write transactions share one COMMIT.
const maxGroup = 128

// errClosed is returned for writes submitted after Close.
var errClosed = errors.New("sqlstore: store is closed")

// committer runs the write transactions of one SQLite database.
type committer struct {
	db   *sql.DB
	e    *engine
	ops  chan *writeOp // unbuffered: a send succeeds only when the loop takes it
	stop chan struct{}
	done chan struct{}
	once sync.Once

	groups atomic.Int64 // COMMITs attempted, for tests and figures

	onCommit func() // called after each successful COMMIT, if set before the first write
}

// writeOp is one caller's write transaction waiting for its group.
type writeOp struct {
	ctx context.Context
	fn  func(tx *sqlTx) error
	err chan error // buffered (1): the committer never blocks on a caller
}

func newCommitter(db *sql.DB, e *engine) *committer {
	c := &committer{db: db, e: e, ops: make(chan *writeOp), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// do runs fn in a write transaction of the next group and returns once that
// group has committed (nil) or fn's changes are gone (an error). A ctx that
// ends before fn starts returns ctx's error; once fn has started, the
// outcome is waited for whatever ctx does, and the statements fn runs are
// not interrupted by ctx (interrupting SQLite would roll the whole group back).
func (c *committer) do(ctx context.Context, fn func(tx *sqlTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, err: make(chan error, 1)}
	select {
	case c.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stop:
		return errClosed
	}
	return <-op.err
}

// close stops the loop after the group in progress; later writes get errClosed.
func (c *committer) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	group := make([]*writeOp, 0, maxGroup)
	for {
		select {
		case op := <-c.ops:
			group = append(group[:0], op)
		case <-c.stop:
			return
		}
	collect:
		for len(group) < maxGroup {
			select {
			case op := <-c.ops:
				group = append(group, op)
			default:
				break collect
			}
		}
		c.commit(group)
	}
}

// commit runs one group in one transaction and reports to every caller.
func (c *committer) commit(group []*writeOp) {
	errs := make([]error, len(group))
	fail := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	c.groups.Add(1)
	ctx := context.Background()
	raw, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("sqlstore: begin: %w", err))
	} else {
		broken := false
		for i, op := range group {
			if err := op.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			if _, err := raw.ExecContext(ctx, "SAVEPOINT w"); err != nil {
				broken = true
				fail(fmt.Errorf("sqlstore: savepoint: %w", err))
				break
			}
			errs[i] = runOp(op, &sqlTx{tx: raw, e: c.e, ctx: context.WithoutCancel(op.ctx)})
			var err error
			if errs[i] != nil {
				_, err = raw.ExecContext(ctx, "ROLLBACK TO w")
			}
			if err == nil {
				_, err = raw.ExecContext(ctx, "RELEASE w")
			}
			if err != nil {
				broken = true
				fail(fmt.Errorf("sqlstore: end savepoint: %w", err))
				break
			}
		}
		if broken {
			raw.Rollback()
		} else if err := raw.Commit(); err != nil {
			fail(fmt.Errorf("sqlstore: commit: %w", err))
		} else if c.onCommit != nil {
			c.onCommit()
		}
	}
	for i, op := range group {
		op.err <- errs[i]
	}
}

// runOp calls op's function, turning a panic into an error for that caller
// alone (its savepoint is rolled back; the rest of the group goes on).
func runOp(op *writeOp, tx *sqlTx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlstore: write transaction panicked: %v", r)
		}
	}()
	return op.fn(tx)
}

// exec runs one write statement outside a transaction of the caller's. On
// SQLite it goes through the group committer like every write transaction,
// so that one connection writes and single statements share COMMITs too
// (a write on another connection would wait for the committer's lock); on
// PostgreSQL it goes straight to the pool.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s.gc == nil {
		return s.db.ExecContext(ctx, query, args...)
	}
	var res sql.Result
	err := s.gc.do(ctx, func(tx *sqlTx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// insertID runs one INSERT as exec does and returns the new row's id.
func (s *Store) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	if s.gc == nil {
		return s.db.insertID(ctx, query, args...)
	}
	var id int64
	err := s.gc.do(ctx, func(tx *sqlTx) error {
		var err error
		id, err = tx.insertID(ctx, query, args...)
		return err
	})
	return id, err
}
