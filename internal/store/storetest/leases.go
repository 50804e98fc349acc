package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// testLeaseSequence walks one lease through its life: taken when free,
// refused to another holder while valid, renewed by its holder, taken over
// once expired, released, and independent of leases of other names.
func testLeaseSequence(t *testing.T, open opener) {
	f := newFixture(t, open)
	const ttl = 10 * time.Second
	steps := []struct {
		name   string
		lease  string
		holder string
		at     time.Duration // after t0
		want   bool
	}{
		{"free lease is taken", "crl", "a", 0, true},
		{"other holder refused while valid", "crl", "b", 5 * time.Second, false},
		{"holder renews", "crl", "a", 9 * time.Second, true},
		{"renewal moved the expiry", "crl", "b", 15 * time.Second, false},
		{"other name is independent", "sweep", "b", 15 * time.Second, true},
		{"expired lease is taken over", "crl", "b", 19 * time.Second, true},
		{"old holder refused after takeover", "crl", "a", 20 * time.Second, false},
	}
	for _, st := range steps {
		got, err := f.s.AcquireLease(f.ctx, st.lease, st.holder, t0.Add(st.at), ttl)
		checkErr(t, "AcquireLease "+st.name, err, nil)
		if got != st.want {
			t.Fatalf("%s: AcquireLease(%q, %q) = %v, want %v", st.name, st.lease, st.holder, got, st.want)
		}
	}
	// Release by a non-holder does nothing; by the holder frees the lease.
	checkErr(t, "ReleaseLease by non-holder", f.s.ReleaseLease(f.ctx, "crl", "a"), nil)
	if got, err := f.s.AcquireLease(f.ctx, "crl", "a", t0.Add(21*time.Second), ttl); err != nil || got {
		t.Fatalf("after a non-holder's release: AcquireLease by a = %v, %v; want false", got, err)
	}
	checkErr(t, "ReleaseLease by holder", f.s.ReleaseLease(f.ctx, "crl", "b"), nil)
	if got, err := f.s.AcquireLease(f.ctx, "crl", "a", t0.Add(21*time.Second), ttl); err != nil || !got {
		t.Fatalf("after the holder's release: AcquireLease by a = %v, %v; want true", got, err)
	}
	if _, err := f.s.AcquireLease(f.ctx, "crl", "a", t0, 0); err == nil {
		t.Fatal("AcquireLease with ttl 0 succeeded, want an error")
	}
}

// testLeaseConcurrent races holders for one free lease: exactly one wins.
func testLeaseConcurrent(t *testing.T, open opener) {
	f := newFixture(t, open)
	const holders = 8
	won := make([]bool, holders)
	errs := make([]error, holders)
	var wg sync.WaitGroup
	for i := range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			won[i], errs[i] = f.s.AcquireLease(f.ctx, "race", fmt.Sprintf("h%d", i), t0, time.Minute)
		}()
	}
	wg.Wait()
	winners := 0
	for i := range holders {
		if errs[i] != nil {
			t.Errorf("holder %d: %v", i, errs[i])
		}
		if won[i] {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d holders got the free lease, want exactly 1", winners)
	}
}
