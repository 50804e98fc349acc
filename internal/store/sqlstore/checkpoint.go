package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// Background WAL checkpoints for SQLite.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses the
// WAL's size limit: that commit (and with group commit, every caller of its
// group) waits while pages are copied into the database file and the file is
// synced. pcad turns the automatic checkpoint off (wal_autocheckpoint=0 on
// every connection) and runs a PASSIVE checkpoint on a pooled connection
// from its own goroutine instead, at most every checkpointEvery after a
// commit: the copying is the same, but no caller waits for it. A PASSIVE
// checkpoint never blocks writers or readers; it copies what no reader
// still needs, and the WAL starts over from its beginning once all of it
// was copied.

// checkpointEvery is the least time between two background checkpoints.
const checkpointEvery = 100 * time.Millisecond

// checkpointer runs the background checkpoints of one SQLite database.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{} // buffered (1): a commit happened since the last checkpoint
	stop chan struct{}
	done chan struct{}
}

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// committed tells the checkpointer that a commit wrote to the WAL. It never
// blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		// An error (the database closing, say) leaves the WAL to the next
		// checkpoint; nothing a caller wrote depends on it.
		c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		select {
		case <-time.After(checkpointEvery):
		case <-c.stop:
			return
		}
	}
}

// close stops the loop; the database's last connection to close checkpoints
// what is left.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
}
