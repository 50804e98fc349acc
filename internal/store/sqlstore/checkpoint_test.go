package sqlstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBackgroundCheckpoint: with SQLite's automatic checkpoint off, the
// background checkpointer keeps the WAL bounded: after writing several
// times the WAL limit SQLite would keep by itself (1000 pages, 4 MiB), the
// WAL file is well under what was written, and the data is all there.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.db.db.Exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := s.db.db.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d, %v; want 0 (checkpoints run in the background)", auto, err)
	}
	const writes, size = 800, 32 << 10 // 25 MiB in all, 8 pages a write
	blob := bytes.Repeat([]byte{7}, size)
	for i := range writes {
		err := s.inTx(t.Context(), func(tx *sqlTx) error {
			_, err := tx.ExecContext(t.Context(), "INSERT INTO blobs (b) VALUES (?)", blob)
			return err
		})
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if i%100 == 99 {
			time.Sleep(2 * checkpointEvery) // let a checkpoint run, as time does between bursts
		}
	}
	// The WAL restarts from its beginning at the first write after a
	// complete checkpoint: wait for one, then write once more.
	time.Sleep(3 * checkpointEvery)
	if err := s.inTx(t.Context(), func(tx *sqlTx) error {
		_, err := tx.ExecContext(t.Context(), "INSERT INTO blobs (b) VALUES (?)", []byte{1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if written := int64(writes * size); fi.Size() > written/3 {
		t.Errorf("WAL is %d bytes after %d bytes were written: the checkpoints did not keep up", fi.Size(), written)
	}
	var n int
	if err := s.db.db.QueryRow("SELECT COUNT(*) FROM blobs WHERE length(b) = ?", size).Scan(&n); err != nil || n != writes {
		t.Fatalf("%d blobs of %d bytes, %v; want %d", n, size, err, writes)
	}
}
