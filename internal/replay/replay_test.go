package replay

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func testCache(t *testing.T) *RedisNonceCache {
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
	return NewRedisNonceCache(c).WithPrefix("pcad-test:" + rand.Text() + ":nonce:")
}

func TestRedisNonceCache(t *testing.T) {
	ctx := context.Background()
	c := testCache(t)
	remember := func(akid, nonce string, ttl time.Duration) bool {
		t.Helper()
		fresh, err := c.Remember(ctx, akid, nonce, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	if !remember("LTAIa", "n1", time.Minute) {
		t.Fatal("first use: not fresh")
	}
	if remember("LTAIa", "n1", time.Minute) {
		t.Fatal("second use: fresh")
	}
	if !remember("LTAIb", "n1", time.Minute) {
		t.Fatal("same nonce, other AccessKey: not fresh")
	}
	if !remember("LTAIa", "n2", time.Minute) {
		t.Fatal("other nonce: not fresh")
	}

	// Redis expiry: a nonce is forgotten after its ttl.
	if !remember("LTAIa", "short", 200*time.Millisecond) {
		t.Fatal("short: first use not fresh")
	}
	if remember("LTAIa", "short", 200*time.Millisecond) {
		t.Fatal("short: second use fresh before the ttl")
	}
	time.Sleep(300 * time.Millisecond)
	if !remember("LTAIa", "short", 200*time.Millisecond) {
		t.Fatal("short: not fresh after the ttl")
	}
}
