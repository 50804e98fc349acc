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
		d, _ := m.Allow(ctx, "1001/1/ListCert")
		if !d.Allowed {
			t.Fatalf("request %d refused", i+1)
		}
		if d.Remaining != 9-i {
			t.Fatalf("request %d: remaining = %d, want %d", i+1, d.Remaining, 9-i)
		}
	}
	d, _ := m.Allow(ctx, "1001/1/ListCert")
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond || d.Limit != 10 {
		t.Fatalf("11th request: %+v", d)
	}
	// Other users and other actions have their own buckets.
	if d, _ := m.Allow(ctx, "1001/2/ListCert"); !d.Allowed {
		t.Fatal("another user was throttled")
	}
	if d, _ := m.Allow(ctx, "1001/1/DescribeCACertificate"); !d.Allowed {
		t.Fatal("another action was throttled")
	}
	// After 100ms one more request is allowed.
	c.t = c.t.Add(100 * time.Millisecond)
	if d, _ := m.Allow(ctx, "1001/1/ListCert"); !d.Allowed {
		t.Fatalf("refill did not allow a request: %+v", d)
	}
	if d, _ := m.Allow(ctx, "1001/1/ListCert"); d.Allowed {
		t.Fatal("refill allowed two requests")
	}

	tests := []struct {
		name    string
		key     string
		allowed int
	}{
		{"override/slow action allows one", "1001/3/Slow", 1},
		{"override/zero means unlimited", "1001/3/Free", 50},
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
		m.Allow(context.Background(), "1001/"+string(rune('a'+i%26))+"/X")
	}
	c.t = c.t.Add(5 * time.Second)
	m.Allow(context.Background(), "1001/z/Y")
	if len(m.tat) != 1 {
		t.Fatalf("%d keys kept after sweep, want 1", len(m.tat))
	}
}

func ptr(f float64) *float64 { return &f }

// precedenceConfig is the table of the README's example, plus an account
// that turns its default off and one that only overrides an action.
var precedenceConfig = Config{
	PerSecond: 10,
	PerAction: map[string]float64{"CreateServerCertificate": 5, "Free": 0},
	PerAccount: map[string]AccountRates{
		"1000000000000001": {Default: ptr(50), PerAction: map[string]float64{"ListCert": 100, "CreateServerCertificate": 7}},
		"1000000000000002": {Default: ptr(0)},
		"1000000000000003": {PerAction: map[string]float64{"ListCert": 2, "Free": 3}},
	},
}

func TestConfigRate(t *testing.T) {
	tests := []struct {
		name            string
		account, action string
		want            float64
	}{
		{"default/no-override", "1000000000000009", "ListCert", 10},
		{"action/beats-default", "1000000000000009", "CreateServerCertificate", 5},
		{"action/zero-is-unlimited", "1000000000000009", "Free", 0},
		{"account-action/beats-everything", "1000000000000001", "ListCert", 100},
		{"account-action/beats-action", "1000000000000001", "CreateServerCertificate", 7},
		{"account-default/beats-default", "1000000000000001", "DescribeCACertificate", 50},
		{"account-default/zero-is-unlimited", "1000000000000002", "ListCert", 0},
		{"action/beats-account-default", "1000000000000002", "CreateServerCertificate", 5},
		{"account-without-default/falls-to-default", "1000000000000003", "DescribeCACertificate", 10},
		{"account-without-default/action-still-applies", "1000000000000003", "CreateServerCertificate", 5},
		{"account-action/limits-a-free-action", "1000000000000003", "Free", 3},
		{"no-account/default", "", "ListCert", 10},
		{"no-account/action", "", "CreateServerCertificate", 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := precedenceConfig.Rate(tc.account, tc.action); got != tc.want {
				t.Errorf("Rate(%q, %q) = %v, want %v", tc.account, tc.action, got, tc.want)
			}
		})
	}
	if got := (Config{}).Rate("1", "ListCert"); got != 0 {
		t.Errorf("zero Config: Rate = %v, want 0 (unlimited)", got)
	}
}

// TestMemoryPrecedence runs the table through Allow: the key's account and
// action pick the rate, which is the burst a fresh key is allowed.
func TestMemoryPrecedence(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		allowed   int // of 200 requests at one instant
		wantLimit int // Decision.Limit of the first request
	}{
		{"default", "1000000000000009/7/ListCert", 10, 10},
		{"action", "1000000000000009/7/CreateServerCertificate", 5, 5},
		{"account-action", "1000000000000001/7/ListCert", 100, 100},
		{"account-action-over-action", "1000000000000001/7/CreateServerCertificate", 7, 7},
		{"account-default", "1000000000000001/7/DescribeCACertificate", 50, 50},
		{"account-default-unlimited", "1000000000000002/7/ListCert", 200, 0},
		{"action-over-account-default", "1000000000000002/7/CreateServerCertificate", 5, 5},
		{"account-action-on-free-action", "1000000000000003/7/Free", 3, 3},
		{"legacy-two-part-key-has-no-account", "1000000000000001/ListCert", 10, 10},
		{"bare-action", "CreateServerCertificate", 5, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := precedenceConfig
			c := &clock{t: time.Unix(1_700_000_000, 0)}
			cfg.Now = c.now
			m := NewMemory(cfg)
			n := 0
			for i := range 200 {
				d, err := m.Allow(context.Background(), tc.key)
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
			if n != tc.allowed {
				t.Errorf("allowed %d of 200, want %d", n, tc.allowed)
			}
		})
	}
}

// TestMemoryKeysPerPrincipal checks that principals of one account have
// their own buckets under the account's rate.
func TestMemoryKeysPerPrincipal(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	m := NewMemory(Config{PerSecond: 10, PerAccount: map[string]AccountRates{"5": {Default: ptr(2)}}, Now: c.now})
	for _, p := range []string{"5/1/ListCert", "5/2/ListCert"} {
		for i := range 3 {
			d, _ := m.Allow(ctx, p)
			if d.Allowed != (i < 2) {
				t.Errorf("%s request %d: allowed = %v", p, i+1, d.Allowed)
			}
		}
	}
}

func TestNewMemoryCopiesTables(t *testing.T) {
	def := 1.0
	cfg := Config{PerAction: map[string]float64{"A": 1}, PerAccount: map[string]AccountRates{"5": {Default: &def, PerAction: map[string]float64{"B": 1}}}}
	m := NewMemory(cfg)
	cfg.PerAction["A"] = 0
	cfg.PerAccount["5"].PerAction["B"] = 0
	def = 0
	if r := m.rate("5/1/A"); r != 1 {
		t.Errorf("rate of A = %v after the caller changed its map, want 1", r)
	}
	if r := m.rate("5/1/B"); r != 1 {
		t.Errorf("rate of B = %v after the caller changed its map, want 1", r)
	}
	if r := m.rate("5/1/C"); r != 1 {
		t.Errorf("rate of C = %v after the caller changed the default, want 1", r)
	}
}
