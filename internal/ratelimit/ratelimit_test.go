package ratelimit

import (
	"context"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestMemoryGCRA(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	m := NewMemory(Config{PerSecond: 10, PerAction: map[string]float64{"Slow": 1, "Free": 0}, Now: c.now})

	// A burst of 10 is allowed, the 11th is refused with a retry hint.
	for i := 0; i < 10; i++ {
		d, _ := m.Allow(ctx, "1/ListCert")
		if !d.Allowed {
			t.Fatalf("request %d refused", i+1)
		}
		if d.Remaining != 9-i {
			t.Fatalf("request %d: remaining = %d, want %d", i+1, d.Remaining, 9-i)
		}
	}
	d, _ := m.Allow(ctx, "1/ListCert")
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond || d.Limit != 10 {
		t.Fatalf("11th request: %+v", d)
	}
	// Other users and other actions have their own buckets.
	if d, _ := m.Allow(ctx, "2/ListCert"); !d.Allowed {
		t.Fatal("another user was throttled")
	}
	if d, _ := m.Allow(ctx, "1/DescribeCACertificate"); !d.Allowed {
		t.Fatal("another action was throttled")
	}
	// After 100ms one more request is allowed.
	c.t = c.t.Add(100 * time.Millisecond)
	if d, _ := m.Allow(ctx, "1/ListCert"); !d.Allowed {
		t.Fatalf("refill did not allow a request: %+v", d)
	}
	if d, _ := m.Allow(ctx, "1/ListCert"); d.Allowed {
		t.Fatal("refill allowed two requests")
	}

	tests := []struct {
		name    string
		key     string
		allowed int
	}{
		{"override/slow action allows one", "3/Slow", 1},
		{"override/zero means unlimited", "3/Free", 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			for i := 0; i < 50; i++ {
				if d, _ := m.Allow(ctx, tc.key); d.Allowed {
					n++
				}
			}
			if n != tc.allowed {
				t.Fatalf("allowed %d, want %d", n, tc.allowed)
			}
		})
	}
}

func TestMemorySweep(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	m := NewMemory(Config{PerSecond: 10, Now: c.now})
	for i := 0; i < 100; i++ {
		m.Allow(context.Background(), string(rune('a'+i%26))+"/X")
	}
	c.t = c.t.Add(5 * time.Second)
	m.Allow(context.Background(), "z/Y")
	if len(m.tat) != 1 {
		t.Fatalf("%d keys kept after sweep, want 1", len(m.tat))
	}
}
