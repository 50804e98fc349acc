package service

import (
	"context"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// TestAccessKeyCache: a key looked up is reused for accessKeyCacheTTL; a
// change made through the Service applies to the very next lookup; a change
// made in the store behind its back (as another replica makes it) applies
// once the TTL has passed; unknown keys are never cached.
func TestAccessKeyCache(t *testing.T) {
	svc, a, clock := newAuthzService(t)
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, a, UserInput{Name: "carol"}); err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateAccessKey(ctx, a, "carol")
	if err != nil {
		t.Fatal(err)
	}
	active := func(name string) bool {
		t.Helper()
		got, err := svc.LookupAccessKey(ctx, k.ID)
		if err != nil {
			t.Fatalf("%s: LookupAccessKey: %v", name, err)
		}
		if got.Secret != k.Secret {
			t.Fatalf("%s: secret does not match", name)
		}
		return got.Active
	}
	u, err := svc.user(ctx, a, "UserName", "carol")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		do     func() error
		wait   bool // advance the clock past the TTL before looking up
		active bool
	}{
		{"fresh key", func() error { return nil }, false, true},
		{"disabled through the service", func() error { return svc.SetAccessKeyActive(ctx, a, "carol", k.ID, false) }, false, false},
		{"enabled through the service", func() error { return svc.SetAccessKeyActive(ctx, a, "carol", k.ID, true) }, false, true},
		{"disabled by another replica, within the TTL", func() error {
			return svc.store.SetAccessKeyActive(ctx, a.AccountID, u.ID, k.ID, false)
		}, false, true},
		{"disabled by another replica, after the TTL", func() error { return nil }, true, false},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.wait {
			clock.Add(accessKeyCacheTTL)
		}
		if got := active(st.name); got != st.active {
			t.Errorf("%s: Active = %v, want %v", st.name, got, st.active)
		}
	}

	// Deleted by another replica: found until the TTL passes, then NotFound.
	if err := svc.store.SetAccessKeyActive(ctx, a.AccountID, u.ID, k.ID, true); err != nil {
		t.Fatal(err)
	}
	clock.Add(accessKeyCacheTTL)
	active("re-read")
	if err := svc.store.DeleteAccessKey(ctx, a.AccountID, u.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LookupAccessKey(ctx, k.ID); err != nil {
		t.Errorf("deleted by another replica, within the TTL: %v, want the cached key", err)
	}
	clock.Add(accessKeyCacheTTL)
	if _, err := svc.LookupAccessKey(ctx, k.ID); pca.KindOf(err) != pca.KindNotFound {
		t.Errorf("deleted by another replica, after the TTL: %v, want NotFound", err)
	}
	// An unknown key is NotFound.
	if _, err := svc.LookupAccessKey(ctx, "LTAI000000000000000000xx"); pca.KindOf(err) != pca.KindNotFound {
		t.Errorf("unknown key: %v, want NotFound", err)
	}
}

// TestTTLCache: a value is reused within the TTL and not after (nor for a
// clock gone backwards); a read that overlapped a forget is not stored;
// beyond max entries the cache starts afresh.
func TestTTLCache(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	type step struct {
		name string
		do   func(c *ttlCache[string, int])
		key  string
		at   time.Duration // lookup time after t0
		want int           // 0: a miss
	}
	var epoch uint64
	steps := []step{
		{"put then get", func(c *ttlCache[string, int]) { c.put("a", 1, t0, 0) }, "a", 0, 1},
		{"within the ttl", nil, "a", time.Second - 1, 1},
		{"at the ttl", nil, "a", time.Second, 0},
		{"clock went back", nil, "a", -1, 0},
		{"a read overlapping a forget is not stored", func(c *ttlCache[string, int]) {
			_, _, epoch = c.get("b", t0)
			c.forget("x")
			c.put("b", 2, t0, epoch)
		}, "b", 0, 0},
		{"a read after it is", func(c *ttlCache[string, int]) {
			_, _, epoch = c.get("b", t0)
			c.put("b", 2, t0, epoch)
		}, "b", 0, 2},
		{"forgetAll", func(c *ttlCache[string, int]) { c.forgetAll() }, "b", 0, 0},
		{"beyond max the cache starts afresh", func(c *ttlCache[string, int]) {
			_, _, epoch = c.get("c", t0)
			c.put("c", 3, t0, epoch)
			c.put("d", 4, t0, epoch)
			c.put("e", 5, t0, epoch) // the third of max 2: only e is left
		}, "c", 0, 0},
		{"the newest survives", nil, "e", 0, 5},
	}
	c := newTTLCache[string, int](time.Second, 2)
	for _, st := range steps {
		if st.do != nil {
			st.do(c)
		}
		got, ok, _ := c.get(st.key, t0.Add(st.at))
		if (st.want != 0) != ok || got != st.want {
			t.Errorf("%s: get(%q) = %d, %v; want %d", st.name, st.key, got, ok, st.want)
		}
	}
}
