package main

// --redis: shared throttling counters and nonce replay cache (issue 5).
// Without --redis, both stay in-process as before.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/ratelimit"
	"github.com/pcad-dev/pcad/internal/replay"
)

// openRedis parses a redis:// or rediss:// URL and pings the server. Errors
// never echo the URL, which may carry a password; they name the address.
func openRedis(ctx context.Context, rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		if _, ok := errors.AsType[*url.Error](err); ok {
			return nil, errors.New("serve: --redis is not a valid URL (want redis://[user:password@]host:port/db)")
		}
		return nil, fmt.Errorf("serve: --redis: %w", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("serve: --redis: cannot reach Redis at %s: %w", opts.Addr, err)
	}
	return c, nil
}

// redisLimiter is the --redis limiter over rc; cfg.redisPrefix (tests)
// replaces the default key prefix.
func redisLimiter(cfg config, rc ratelimit.Config) openapi.Limiter {
	l := ratelimit.NewRedis(cfg.rdb, rc)
	if cfg.redisPrefix != "" {
		l = l.WithPrefix(cfg.redisPrefix + "rl:")
	}
	return limiterAdapter{l}
}

// redisNonces is the --redis nonce cache, or nil (in-process) without --redis.
func redisNonces(cfg config) openapi.NonceCache {
	if cfg.rdb == nil {
		return nil
	}
	n := replay.NewRedisNonceCache(cfg.rdb)
	if cfg.redisPrefix != "" {
		n = n.WithPrefix(cfg.redisPrefix + "nonce:")
	}
	return n
}
