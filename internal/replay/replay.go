// Package replay keeps signature nonces in Redis, so that a request signed
// once cannot be replayed on any pcad process sharing that Redis. Its
// RedisNonceCache satisfies openapi.NonceCache.
package replay

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the default prefix of the nonce keys.
const DefaultPrefix = "pcad:nonce:"

// RedisNonceCache remembers nonces with SET NX PX: the first Remember of a
// (AccessKeyId, nonce) pair sets the key and is fresh; later ones, until the
// key expires, find it and are not. It is safe for concurrent use.
type RedisNonceCache struct {
	client *redis.Client
	prefix string
}

// NewRedisNonceCache returns a nonce cache keeping its keys
// ("pcad:nonce:<akid>:<nonce>") in client.
func NewRedisNonceCache(client *redis.Client) *RedisNonceCache {
	return &RedisNonceCache{client: client, prefix: DefaultPrefix}
}

// WithPrefix returns a cache like c whose keys start with prefix instead of
// DefaultPrefix (tests use it to keep their keys apart).
func (c *RedisNonceCache) WithPrefix(prefix string) *RedisNonceCache {
	n := *c
	n.prefix = prefix
	return &n
}

// Remember records nonce for accessKeyID for ttl and reports whether it was
// not recorded already. AccessKeyIds contain no ':', so keys do not collide.
func (c *RedisNonceCache) Remember(ctx context.Context, accessKeyID, nonce string, ttl time.Duration) (bool, error) {
	return c.client.SetNX(ctx, c.prefix+accessKeyID+":"+nonce, 1, ttl).Result()
}
