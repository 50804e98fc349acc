package service

import (
	"context"
	"testing"

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
