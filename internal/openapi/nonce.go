package openapi

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// NonceCache remembers signature nonces per AccessKeyId so a signed request
// cannot be replayed. Implementations must be safe for concurrent use; one
// shared by several replicas (Redis) makes replay protection cluster-wide.
type NonceCache interface {
	// Remember records nonce for accessKeyID for ttl. It returns fresh=false
	// when the same nonce was already recorded for that key and has not
	// expired; it then leaves the existing record as it is. An error means
	// the cache could not answer; the request then fails.
	Remember(ctx context.Context, accessKeyID, nonce string, ttl time.Duration) (fresh bool, err error)
}

// nonceSweepInterval is how often MemoryNonceCache purges expired entries.
const nonceSweepInterval = time.Minute

// MemoryNonceCache is an in-process NonceCache. It is safe for concurrent
// use. Memory is bounded by the request rate times the ttl: each entry is a
// fixed-size hash of (AccessKeyId, nonce) plus its expiry, and expired
// entries are purged at most once a minute, on a later Remember call, as the
// injected clock advances. Use NewMemoryNonceCache to make one.
type MemoryNonceCache struct {
	now func() time.Time

	mu        sync.Mutex
	seen      map[[sha256.Size]byte]time.Time // entry -> expiry
	nextSweep time.Time
}

var _ NonceCache = (*MemoryNonceCache)(nil)

// NewMemoryNonceCache returns an empty MemoryNonceCache reading time from
// now (nil means time.Now).
func NewMemoryNonceCache(now func() time.Time) *MemoryNonceCache {
	if now == nil {
		now = time.Now
	}
	return &MemoryNonceCache{now: now, seen: make(map[[sha256.Size]byte]time.Time)}
}

// Remember implements NonceCache. It never returns an error.
func (c *MemoryNonceCache) Remember(_ context.Context, accessKeyID, nonce string, ttl time.Duration) (bool, error) {
	// Length-prefix the key id so ("ab","c") and ("a","bc") differ.
	h := sha256.New()
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(accessKeyID))))
	h.Write([]byte(accessKeyID))
	h.Write([]byte(nonce))
	var k [sha256.Size]byte
	h.Sum(k[:0])

	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !now.Before(c.nextSweep) {
		for e, exp := range c.seen {
			if !now.Before(exp) {
				delete(c.seen, e)
			}
		}
		c.nextSweep = now.Add(nonceSweepInterval)
	}
	if exp, ok := c.seen[k]; ok && now.Before(exp) {
		return false, nil
	}
	c.seen[k] = now.Add(ttl)
	return true, nil
}

// Len returns the number of nonces held, including expired ones not yet
// purged.
func (c *MemoryNonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
