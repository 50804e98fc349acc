package service

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/pcad-dev/pcad/internal/store"
)

// crlCache keeps, per CA, the newest CRL this replica built or read from
// the store, DER included, so that serving a CRL costs one small query (the
// stored CRL's number) instead of reading a blob of tens of megabytes per
// request. A CRL is identified by its CA and number: PutCRL stores a number
// at most once and only ever raises it, and CAs are never deleted, so a
// cached record whose number is at least the stored one is a stored CRL
// (the newest, or one stored since). Safe for concurrent use.
//
// While this replica builds a CA's CRL, the cache holds none for that CA:
// a request for it waits for the build and gets the new CRL (or, if the
// build fails, reads the stored one). The replica thus never holds the old
// and the new DER of a large CRL at once, on top of the entries being
// built from and what the store's driver copies to write the new one.
type crlCache struct {
	mu       sync.Mutex
	byCA     map[int64]store.CRLRecord
	building map[int64]*crlBuild
	built    map[int64]crlBuildTime // the last build of each CA on this replica (rebuildDue)

	// fill is held while a missing CRL is read from the store, so that
	// concurrent requests after a new CRL read its blob once, not once each.
	fill sync.Mutex
}

// crlBuild is a build of a CA's CRL in progress on this replica (or
// several at once, counted by refs); done is closed when the last ends,
// after rec (ok: set) holds the newest CRL they stored or found.
type crlBuild struct {
	done chan struct{}
	refs int
	rec  store.CRLRecord
	ok   bool
}

// crlGCSize is the size from which dropping a cached DER is followed by a
// garbage collection (see startBuild).
const crlGCSize = 8 << 20

// get returns the cached CRL of caID if its number is at least number.
func (c *crlCache) get(caID, number int64) (store.CRLRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.byCA[caID]
	return rec, ok && rec.Number >= number
}

// put caches rec unless a CRL of the same CA with a higher number is
// cached.
func (c *crlCache) put(rec store.CRLRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(rec)
}

func (c *crlCache) putLocked(rec store.CRLRecord) {
	if old, ok := c.byCA[rec.CAID]; !ok || old.Number < rec.Number {
		c.byCA[rec.CAID] = rec
	}
}

// forget drops the cached CRL of caID if its number is below number (the
// store holds a newer one), so that a stale DER is not kept until the next
// request for it.
func (c *crlCache) forget(caID, number int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byCA[caID]; ok && old.Number < number {
		delete(c.byCA, caID)
	}
}

// startBuild records a build of caID's CRL and drops the CA's cached CRL;
// endBuild must follow. It returns the size of the DER it dropped.
func (c *crlCache) startBuild(caID int64) (*crlBuild, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.building[caID]
	if b == nil {
		b = &crlBuild{done: make(chan struct{})}
		c.building[caID] = b
	}
	b.refs++
	dropped := len(c.byCA[caID].DER)
	delete(c.byCA, caID)
	return b, dropped
}

// endBuild ends a build started by startBuild: rec, when ok, is the CRL it
// stored (or found stored), which is cached and handed to the requests
// waiting for the build.
func (c *crlCache) endBuild(caID int64, b *crlBuild, rec store.CRLRecord, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.putLocked(rec)
		if !b.ok || b.rec.Number < rec.Number {
			b.rec, b.ok = rec, true
		}
	}
	if b.refs--; b.refs == 0 {
		delete(c.building, caID)
		close(b.done)
	}
}

// load returns a CRL of caID numbered number or more: the cached one, the
// one a build in progress stores, or else the stored one, which it caches.
func (c *crlCache) load(ctx context.Context, st store.PKIStore, caID, number int64) (store.CRLRecord, error) {
	c.mu.Lock()
	rec, ok := c.byCA[caID]
	b := c.building[caID]
	c.mu.Unlock()
	if ok && rec.Number >= number {
		return rec, nil
	}
	if b != nil {
		select {
		case <-b.done:
		case <-ctx.Done():
			return store.CRLRecord{}, ctx.Err()
		}
		if b.ok && b.rec.Number >= number {
			return b.rec, nil
		}
		// The build failed: read the stored CRL.
	}
	c.fill.Lock()
	defer c.fill.Unlock()
	if rec, ok := c.get(caID, number); ok {
		return rec, nil // read by the request this one waited for
	}
	rec, err := st.GetCRL(ctx, caID)
	if err != nil {
		return store.CRLRecord{}, err
	}
	c.put(rec)
	return rec, nil
}

// newCRLCache returns an empty cache.
func newCRLCache() *crlCache {
	return &crlCache{byCA: map[int64]store.CRLRecord{}, building: map[int64]*crlBuild{}, built: map[int64]crlBuildTime{}}
}

// crlBuildTime is when a CRL build ended and how long it took.
type crlBuildTime struct {
	end  time.Time
	took time.Duration
}

// crlRebuildFactor bounds the time the background rebuilds of a CA's CRL
// take while revocations keep coming: after a build that took d, the next
// one for new revocations waits until crlRebuildFactor x d has passed since
// it ended, so rebuilding takes at most about 1/(1+crlRebuildFactor) of a
// core. A build quicker than crlThrottleFrom holds nothing back: a CRL of a
// few thousand entries (milliseconds) is rebuilt at once, as before; one of
// a million (about a second) at most every 10 seconds instead of all the
// time.
const crlRebuildFactor = 9

// crlThrottleFrom is the build time from which crlRebuildFactor applies.
const crlThrottleFrom = 100 * time.Millisecond

// builtAt records a build of caID's CRL that ended at end after took.
func (c *crlCache) builtAt(caID int64, end time.Time, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.built[caID] = crlBuildTime{end: end, took: took}
}

// rebuildDue reports whether a rebuild of caID's CRL for new revocations
// may start at now (see crlRebuildFactor): always when this replica has not
// built it before.
func (c *crlCache) rebuildDue(caID int64, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.built[caID]
	return !ok || b.took < crlThrottleFrom || !now.Before(b.end.Add(crlRebuildFactor*b.took))
}

// crls returns s's CRL cache.
func (s *Service) crls() *crlCache { return s.crlCache }

// currentCRL returns the CRL of p the store holds (or a newer one this
// replica is storing), from the cache when it can, building the CA's first
// CRL if it has none yet.
func (s *Service) currentCRL(ctx context.Context, p *pkiCA) (store.CRLRecord, error) {
	number, err := s.store.CRLNumber(ctx, p.ca.ID)
	if err != nil {
		return store.CRLRecord{}, err
	}
	if number == 0 {
		return s.buildCRL(ctx, p)
	}
	rec, err := s.crls().load(ctx, s.store, p.ca.ID, number)
	if errors.Is(err, store.ErrNotFound) {
		return s.buildCRL(ctx, p) // not reached: CRLs are not deleted
	}
	return rec, err
}
