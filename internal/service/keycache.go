package service

import (
	"sync"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// accessKeyCacheTTL is how long an AccessKey read for request verification
// is reused: the same bound as policyCacheTTL, so a key disabled or deleted
// through another replica stops working there within this time, as a
// policy detached there does. A change through this Service applies to the
// very next call (invalidateAccessKeys).
const accessKeyCacheTTL = time.Second

// maxCachedAccessKeys bounds the cache; beyond it the cache starts afresh.
const maxCachedAccessKeys = 10000

// accessKeyCache holds opened AccessKeys by id, each for accessKeyCacheTTL.
// Unknown ids are not cached (a lookup of one reads the store). The zero
// value is an empty cache.
type accessKeyCache struct {
	mu sync.Mutex
	m  map[string]cachedAccessKey
	// epoch counts invalidations, so that a read that overlapped one does
	// not store what it read before it.
	epoch uint64
}

type cachedAccessKey struct {
	key    pca.AccessKey
	loaded time.Time
}

// get returns the key id when cached and fresh at now, and the epoch to
// pass to put after a store read.
func (c *accessKeyCache) get(id string, now time.Time) (pca.AccessKey, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if ok && now.Sub(e.loaded) < accessKeyCacheTTL && !now.Before(e.loaded) {
		return e.key, true, c.epoch
	}
	return pca.AccessKey{}, false, c.epoch
}

// put caches k, read at now, unless an invalidation happened since epoch.
func (c *accessKeyCache) put(k pca.AccessKey, now time.Time, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedAccessKeys {
		c.m = map[string]cachedAccessKey{}
	}
	c.m[k.ID] = cachedAccessKey{key: k, loaded: now}
}

// invalidateAccessKeys forgets every cached AccessKey. Call it after any
// change that can end or change a key's use: disabling, enabling or
// deleting a key, deleting its user.
func (s *Service) invalidateAccessKeys() {
	c := &s.accessKeys
	c.mu.Lock()
	c.m = nil
	c.epoch++
	c.mu.Unlock()
}
