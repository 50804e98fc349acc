package service

import (
	"sync"
	"time"
)

// ttlCache holds values by key, each reused for ttl after it was read; it
// starts afresh beyond max entries. It serves the per-replica caches of
// what request checks read on every call (AccessKeys, a principal's
// policies): a change made through this Service forgets the entry at once
// (forget, forgetAll); one made through another replica applies within ttl.
// The zero value is unusable: make one with newTTLCache.
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[K]ttlEntry[V]
	// epoch counts invalidations, so that a read that overlapped one does
	// not store what it read before it.
	epoch uint64
}

type ttlEntry[V any] struct {
	v      V
	loaded time.Time
}

func newTTLCache[K comparable, V any](ttl time.Duration, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max}
}

// get returns k's value when cached and fresh at now, and the epoch to pass
// to put after reading it from the store.
func (c *ttlCache[K, V]) get(k K, now time.Time) (V, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if ok && now.Sub(e.loaded) < c.ttl && !now.Before(e.loaded) {
		return e.v, true, c.epoch
	}
	var zero V
	return zero, false, c.epoch
}

// put caches v, read at now, unless something was forgotten since epoch.
func (c *ttlCache[K, V]) put(k K, v V, now time.Time, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if c.m == nil || len(c.m) >= c.max {
		c.m = map[K]ttlEntry[V]{}
	}
	c.m[k] = ttlEntry[V]{v: v, loaded: now}
}

// forget drops k. Call it after the write that changed what k's value
// reflects: a read before the write may have cached the old state, and the
// epoch keeps a read overlapping the write from storing it.
func (c *ttlCache[K, V]) forget(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
	c.epoch++
}

// forgetAll drops every entry (as forget does one).
func (c *ttlCache[K, V]) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	c.epoch++
}

// accessKeyCacheTTL is how long an AccessKey read for request verification
// is reused: the same bound as policyCacheTTL, so a key disabled or deleted
// through another replica stops working there within this time, as a
// policy detached there does. A change through this Service applies to the
// very next call (invalidateAccessKeys).
const accessKeyCacheTTL = time.Second

// maxCachedAccessKeys bounds the AccessKey cache.
const maxCachedAccessKeys = 10000

// invalidateAccessKeys forgets every cached AccessKey. Call it after any
// change that can end or change a key's use: disabling, enabling or
// deleting a key, deleting its user.
func (s *Service) invalidateAccessKeys() { s.accessKeys.forgetAll() }
