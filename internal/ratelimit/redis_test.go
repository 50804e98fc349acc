package ratelimit

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis returns a Redis limiter over PCAD_TEST_REDIS with a key prefix
// of its own, so tests never flush and never see each other's keys. The
// test is skipped when PCAD_TEST_REDIS is unset.
func testRedis(t *testing.T, cfg Config) *Redis {
	t.Helper()
	u := os.Getenv("PCAD_TEST_REDIS")
	if u == "" {
		t.Skip("PCAD_TEST_REDIS not set (e.g. redis://127.0.0.1:6379/0)")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PCAD_TEST_REDIS: %v", err)
	}
	return NewRedis(c, cfg).WithPrefix("pcad-test:" + rand.Text() + ":rl:")
}

func TestRedisBurstThenRefusal(t *testing.T) {
	ctx := context.Background()
	// Rate 3: burst 3, then one request every 333ms.
	r := testRedis(t, Config{PerSecond: 3})
	for i := range 3 {
		d, err := r.Allow(ctx, "1001/1/ListCert")
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Limit != 3 || d.Remaining != 2-i {
			t.Fatalf("request %d: %+v, want allowed, Limit 3, Remaining %d", i+1, d, 2-i)
		}
	}
	d, err := r.Allow(ctx, "1001/1/ListCert")
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 334*time.Millisecond || d.Limit != 3 {
		t.Fatalf("4th request: %+v, want refused with 0 < RetryAfter <= 1/3 s", d)
	}
}

func TestRedisKeysIsolated(t *testing.T) {
	ctx := context.Background()
	r := testRedis(t, Config{PerSecond: 0.5}) // burst 1, then one every 2 s
	for _, key := range []string{"1001/1/ListCert", "1001/2/ListCert", "1002/1/ListCert", "1001/1/GetCert"} {
		if d, err := r.Allow(ctx, key); err != nil || !d.Allowed {
			t.Fatalf("%s first request: %+v %v", key, d, err)
		}
		if d, err := r.Allow(ctx, key); err != nil || d.Allowed {
			t.Fatalf("%s second request: %+v %v", key, d, err)
		}
	}
	// Another prefix is another set of buckets.
	other := r.WithPrefix(r.prefix + "other:")
	if d, err := other.Allow(ctx, "1001/1/ListCert"); err != nil || !d.Allowed {
		t.Fatalf("other prefix: %+v %v", d, err)
	}
}

// TestRedisPrecedence runs the Memory precedence table on Redis: the rate
// (Decision.Limit) follows Config.Rate, and, where the interval is long
// enough (rate <= 10) for loopback calls not to earn a token, a quick
// series allows exactly the burst.
func TestRedisPrecedence(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		wantLimit int // 0: unlimited
	}{
		{"default", "1000000000000009/7/ListCert", 10},
		{"action", "1000000000000009/7/CreateServerCertificate", 5},
		{"account-action", "1000000000000001/7/ListCert", 100},
		{"account-action-over-action", "1000000000000001/7/CreateServerCertificate", 7},
		{"account-default", "1000000000000001/7/DescribeCACertificate", 50},
		{"account-default-unlimited", "1000000000000002/7/ListCert", 0},
		{"action-over-account-default", "1000000000000002/7/CreateServerCertificate", 5},
		{"account-action-on-free-action", "1000000000000003/7/Free", 3},
		{"legacy-two-part-key-has-no-account", "1000000000000001/ListCert", 10},
		{"bare-action", "CreateServerCertificate", 5},
	}
	r := testRedis(t, precedenceConfig)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, calls := 0, 20
			for i := range calls {
				d, err := r.Allow(context.Background(), tc.key)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 && d.Limit != tc.wantLimit {
					t.Errorf("Limit = %d, want %d", d.Limit, tc.wantLimit)
				}
				if d.Allowed {
					n++
				}
			}
			switch {
			case tc.wantLimit == 0 && n != calls:
				t.Errorf("unlimited: allowed %d of %d", n, calls)
			case tc.wantLimit > 0 && tc.wantLimit <= 10 && n != tc.wantLimit:
				t.Errorf("allowed %d of %d, want %d", n, calls, tc.wantLimit)
			}
		})
	}
}
