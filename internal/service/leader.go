package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// backgroundLease names the store lease of the replica that does the
// background work (CRL rebuilds) for all replicas sharing the store.
const backgroundLease = "pki-background"

// leaseTTL is how long a replica holds the background lease without renewing
// it: a replica that dies hands the work over within this time. The poller
// renews it on every poll, so the poll interval must be well below it.
const leaseTTL = 15 * time.Second

// leader tracks whether this replica holds the background lease.
type leader struct {
	id      string // this replica's holder name, random per process
	holding atomic.Bool
}

// newLeader returns the lease state of a replica named id, or of a random
// name when id is empty.
func newLeader(id string) *leader {
	if id == "" {
		b := make([]byte, 8)
		rand.Read(b) // never fails (crypto/rand)
		id = hex.EncodeToString(b)
	}
	return &leader{id: id}
}

// ReplicaID is this replica's name in the background lease (Config.ReplicaID,
// else random per process); it appears in logs when leadership moves.
func (s *Service) ReplicaID() string { return s.lead.id }

// Leading reports whether this replica held the background lease at its
// last poll.
func (s *Service) Leading() bool { return s.lead.holding.Load() }

// leadNow takes or renews the background lease and reports whether this replica
// should do the background work now. A store error counts as not leading:
// doing nothing is safe, the work moves to a replica that can reach the store.
func (s *Service) leadNow(ctx context.Context) bool {
	ok, err := s.store.AcquireLease(ctx, backgroundLease, s.lead.id, s.now(), leaseTTL)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("background lease", "err", err)
		}
		ok = false
	}
	if was := s.lead.holding.Swap(ok); was != ok {
		s.log.Info("background work", "leading", ok, "replica", s.lead.id)
	}
	return ok
}

// releaseLead gives the background lease up so that another replica takes
// the work at its next poll rather than after leaseTTL.
// It asks the store even when the last poll did not report leading (that
// poll may have been cut short): releasing a lease not held does nothing.
func (s *Service) releaseLead() {
	s.lead.holding.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.store.ReleaseLease(ctx, backgroundLease, s.lead.id); err != nil {
		s.log.Warn("release background lease", "err", err)
		return
	}
}
