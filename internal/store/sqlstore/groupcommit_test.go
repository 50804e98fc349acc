package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// openScratch opens a SQLite store with a table t(x) for committer tests.
func openScratch(t *testing.T) *Store {
	t.Helper()
	s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "gc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.db.db.Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return s
}

func rowsOf(t *testing.T, s *Store) map[int]bool {
	t.Helper()
	rows, err := s.db.db.Query("SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]bool{}
	for rows.Next() {
		var x int
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		got[x] = true
	}
	return got
}

func insertX(x int) func(tx *sqlTx) error {
	return func(tx *sqlTx) error {
		_, err := tx.ExecContext(context.Background(), "INSERT INTO t (x) VALUES (?)", x)
		return err
	}
}

// TestGroupCommitIsolatesFailures holds the committer on a first write so
// that the next writes queue into one group; in that group a failing, a
// panicking and a cancelled caller change nothing and the others commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openScratch(t)
	ctx := t.Context()
	hold, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	first := make(chan error, 1)
	go func() {
		first <- s.inTx(ctx, func(tx *sqlTx) error {
			close(held)
			<-hold
			return insertX(0)(tx)
		})
	}()
	<-held

	cancelled, cancel := context.WithCancel(ctx)
	boom := errors.New("refused")
	cases := []struct {
		name    string
		ctx     context.Context
		fn      func(tx *sqlTx) error
		wantErr bool
		wantRow int // -1: none
	}{
		{"ok 1", ctx, insertX(1), false, 1},
		{"fails after writing", ctx, func(tx *sqlTx) error {
			if err := insertX(2)(tx); err != nil {
				return err
			}
			return boom
		}, true, -1},
		{"panics after writing", ctx, func(tx *sqlTx) error {
			if err := insertX(3)(tx); err != nil {
				return err
			}
			panic("bug")
		}, true, -1},
		{"duplicate key", ctx, insertX(1), true, -1},
		{"cancelled while queued", cancelled, insertX(4), true, -1},
		{"ok 5", ctx, insertX(5), false, 5},
	}
	errs := make([]error, len(cases))
	for i, tc := range cases {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.inTx(tc.ctx, tc.fn) }()
		time.Sleep(20 * time.Millisecond) // queue them in this order behind the held write
	}
	cancel()
	close(hold)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("held write: %v", err)
	}
	got := rowsOf(t, s)
	want := map[int]bool{0: true}
	for i, tc := range cases {
		if (errs[i] != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.name, errs[i], tc.wantErr)
		}
		if tc.wantRow >= 0 {
			want[tc.wantRow] = true
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows after the group = %v, want %v", got, want)
	}
	if g := s.gc.groups.Load(); g != 2 {
		t.Errorf("%d commit groups, want 2 (the held write, then all queued ones together)", g)
	}
	if !errors.Is(errs[1], boom) {
		t.Errorf("failing caller got %v, want its own error", errs[1])
	}
}

// TestGroupCommitConcurrent: many concurrent writers all commit.
func TestGroupCommitConcurrent(t *testing.T) {
	s := openScratch(t)
	const writers = 200
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.inTx(t.Context(), insertX(i)) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if got := len(rowsOf(t, s)); got != writers {
		t.Fatalf("%d rows, want %d", got, writers)
	}
}

// TestGroupCommitClosed: writes after Close are refused and change nothing.
func TestGroupCommitClosed(t *testing.T) {
	s := openScratch(t)
	s.gc.close()
	if err := s.inTx(t.Context(), insertX(1)); !errors.Is(err, errClosed) {
		t.Fatalf("write after close: %v, want errClosed", err)
	}
	if got := rowsOf(t, s); len(got) != 0 {
		t.Fatalf("rows %v after a refused write", got)
	}
}

// BenchmarkGroupCommit measures durable single-row write transactions per
// second on SQLite (synchronous=FULL) from 1 and 8 concurrent writers.
//
//	go test ./internal/store/sqlstore/ -run '^$' -bench GroupCommit -benchtime 2s
func BenchmarkGroupCommit(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "gc.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.db.db.Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"); err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			next := 0
			b.SetParallelism(writers)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					next++
					x := next
					mu.Unlock()
					if err := s.inTx(b.Context(), insertX(x)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
