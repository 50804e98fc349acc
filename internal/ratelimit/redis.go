package ratelimit

import (
	"context"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// RedisPrefix is the default prefix of the keys Redis limits. redis_rate
// adds its own prefix ("rate:") in front of it.
const RedisPrefix = "pcad:rl:"

// Redis is a limiter whose state lives in Redis, so that several pcad
// processes sharing one Redis share their limits. It uses the same rate
// table and the same burst (ceil(rate), at least 1) as Memory, with
// redis_rate's GCRA script; Config.Now is not used (Redis's clock is).
type Redis struct {
	cfg    Config
	lim    *redis_rate.Limiter
	prefix string
}

// NewRedis returns a limiter keeping its counters in client. It copies
// cfg's tables, so the caller may reuse them.
func NewRedis(client *redis.Client, cfg Config) *Redis {
	return &Redis{cfg: cfg.clone(), lim: redis_rate.NewLimiter(client), prefix: RedisPrefix}
}

// WithPrefix returns a limiter like r whose Redis keys start with prefix
// instead of RedisPrefix (tests use it to keep their keys apart).
func (r *Redis) WithPrefix(prefix string) *Redis {
	c := *r
	c.prefix = prefix
	return &c
}

// Allow decides whether one request under key ("<account>/<principal>/<action>")
// may proceed now. An error means Redis could not answer.
func (r *Redis) Allow(ctx context.Context, key string) (Decision, error) {
	rate := r.cfg.Rate(splitKey(key))
	if rate <= 0 {
		return Decision{Allowed: true, Limit: 0, Remaining: math.MaxInt32}, nil
	}
	interval := time.Duration(float64(time.Second) / rate)
	burst := int(math.Max(1, math.Ceil(rate)))
	// One request per interval: redis_rate's emission interval is Period/Rate.
	res, err := r.lim.Allow(ctx, r.prefix+key, redis_rate.Limit{Rate: 1, Period: interval, Burst: burst})
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Allowed: res.Allowed > 0, Limit: burst, Remaining: res.Remaining}
	if !d.Allowed && res.RetryAfter > 0 {
		d.RetryAfter = res.RetryAfter
	}
	return d, nil
}
