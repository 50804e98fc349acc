package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pcad-dev/pcad/internal/store"
)

// dataKey returns a data key record for the suite.
func dataKey(id int64, fp string) store.DataKey {
	return store.DataKey{ID: id, Wrapped: []byte(fmt.Sprintf("wrapped-%d-%s", id, fp)), MasterFingerprint: fp, Created: t0}
}

// checkDataKeys compares the stored data keys with want (by ascending id).
func checkDataKeys(t *testing.T, f *fixture, want ...store.DataKey) {
	t.Helper()
	got, err := f.s.ListDataKeys(f.ctx)
	checkErr(t, "ListDataKeys", err, nil)
	if len(got) != len(want) {
		t.Fatalf("ListDataKeys: %d keys, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		w := want[i]
		w.Created = msUTC(w.Created)
		if got[i].ID != w.ID || !bytes.Equal(got[i].Wrapped, w.Wrapped) || got[i].MasterFingerprint != w.MasterFingerprint ||
			!got[i].Created.Equal(w.Created) || got[i].Created.Location() != w.Created.Location() {
			t.Fatalf("ListDataKeys[%d] = %+v, want %+v", i, got[i], w)
		}
	}
}

// testDataKeys: data keys round-trip, list by id, and one id is stored once.
func testDataKeys(t *testing.T, open opener) {
	f := newFixture(t, open)
	checkDataKeys(t, f)
	k2, k1 := dataKey(2, "fp-a"), dataKey(1, "fp-a")
	checkErr(t, "InsertDataKey(2)", f.s.InsertDataKey(f.ctx, k2), nil)
	checkErr(t, "InsertDataKey(1)", f.s.InsertDataKey(f.ctx, k1), nil)
	checkDataKeys(t, f, k1, k2)
	got, err := f.s.GetDataKey(f.ctx, 2)
	checkErr(t, "GetDataKey(2)", err, nil)
	if !bytes.Equal(got.Wrapped, k2.Wrapped) || got.MasterFingerprint != "fp-a" || !got.Created.Equal(msUTC(t0)) {
		t.Fatalf("GetDataKey(2) = %+v", got)
	}
	_, err = f.s.GetDataKey(f.ctx, 3)
	checkErr(t, "GetDataKey(missing)", err, store.ErrNotFound)
	dup := dataKey(1, "fp-b")
	checkErr(t, "InsertDataKey(duplicate id)", f.s.InsertDataKey(f.ctx, dup), store.ErrConflict)
	checkDataKeys(t, f, k1, k2)
}

// testDataKeysFirstWriterWins races replicas creating data key 1: exactly
// one insert succeeds and its key is the one stored.
func testDataKeysFirstWriterWins(t *testing.T, open opener) {
	f := newFixture(t, open)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f.s.InsertDataKey(f.ctx, dataKey(1, fmt.Sprintf("fp-%d", i))) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("replicas %d and %d both inserted data key 1", winner, i)
		case err == nil:
			winner = i
		default:
			checkErr(t, fmt.Sprintf("replica %d", i), err, store.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatal("no replica inserted data key 1")
	}
	checkDataKeys(t, f, dataKey(1, fmt.Sprintf("fp-%d", winner)))
}

// testRewrapDataKey: re-wrapping is a compare-and-swap on the fingerprint.
func testRewrapDataKey(t *testing.T, open opener) {
	f := newFixture(t, open)
	k1, k2 := dataKey(1, "old"), dataKey(2, "old")
	checkErr(t, "InsertDataKey(1)", f.s.InsertDataKey(f.ctx, k1), nil)
	checkErr(t, "InsertDataKey(2)", f.s.InsertDataKey(f.ctx, k2), nil)
	checkErr(t, "RewrapDataKey(wrong old fingerprint)", f.s.RewrapDataKey(f.ctx, 1, "other", []byte("w"), "new"), store.ErrConflict)
	checkErr(t, "RewrapDataKey(missing)", f.s.RewrapDataKey(f.ctx, 3, "old", []byte("w"), "new"), store.ErrNotFound)
	checkDataKeys(t, f, k1, k2)
	n1 := store.DataKey{ID: 1, Wrapped: []byte("rewrapped-1"), MasterFingerprint: "new", Created: t0}
	checkErr(t, "RewrapDataKey(1)", f.s.RewrapDataKey(f.ctx, 1, "old", n1.Wrapped, "new"), nil)
	checkDataKeys(t, f, n1, k2)
	checkErr(t, "RewrapDataKey(1) again", f.s.RewrapDataKey(f.ctx, 1, "old", []byte("again"), "new"), store.ErrConflict)
	checkDataKeys(t, f, n1, k2)

	// Concurrent rotations of key 2: one wins, the others see ErrConflict.
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = f.s.RewrapDataKey(f.ctx, 2, "old", []byte(fmt.Sprintf("w-%d", i)), fmt.Sprintf("new-%d", i))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("rewraps %d and %d both won", winner, i)
			}
			winner = i
			continue
		}
		checkErr(t, fmt.Sprintf("rewrap %d", i), err, store.ErrConflict)
	}
	if winner < 0 {
		t.Fatal("no rewrap won")
	}
	checkDataKeys(t, f, n1, store.DataKey{ID: 2, Wrapped: []byte(fmt.Sprintf("w-%d", winner)), MasterFingerprint: fmt.Sprintf("new-%d", winner), Created: t0})
}

// sealedFixture stores sealed values of every kind in two accounts and
// returns them by kind (by ascending id).
func sealedFixture(t *testing.T, f *fixture) map[store.SealedKind][]store.SealedValue {
	t.Helper()
	want := map[store.SealedKind][]store.SealedValue{}
	for range 2 {
		acct := f.account() // one AccessKey, sealed {1, 2, 3}
		keys, err := f.s.ListAccessKeys(f.ctx, acct.ID, 0)
		checkErr(t, "ListAccessKeys", err, nil)
		for _, k := range keys {
			want[store.SealedAccessKey] = append(want[store.SealedAccessKey], store.SealedValue{Kind: store.SealedAccessKey, ID: k.ID, Sealed: k.SecretSealed})
		}
		for range 2 {
			ca := f.root(acct)
			rec, err := f.s.GetKey(f.ctx, acct.ID, ca.KeyRef)
			checkErr(t, "GetKey", err, nil)
			want[store.SealedPrivateKey] = append(want[store.SealedPrivateKey], store.SealedValue{Kind: store.SealedPrivateKey, ID: rec.Ref, Sealed: rec.Sealed})
		}
	}
	for _, name := range []string{"b-secret", "a-secret", "c-secret"} {
		v := []byte("sealed " + name)
		_, err := f.s.PutSecretIfAbsent(f.ctx, name, v)
		checkErr(t, "PutSecretIfAbsent", err, nil)
		want[store.SealedSecret] = append(want[store.SealedSecret], store.SealedValue{Kind: store.SealedSecret, ID: name, Sealed: v})
	}
	for kind := range want {
		slices.SortFunc(want[kind], func(a, b store.SealedValue) int { return bytes.Compare([]byte(a.ID), []byte(b.ID)) })
	}
	return want
}

// testListSealedValues pages through every kind across accounts, by ID.
func testListSealedValues(t *testing.T, open opener) {
	f := newFixture(t, open)
	want := sealedFixture(t, f)
	for _, kind := range store.SealedKinds {
		t.Run(kind.String(), func(t *testing.T) {
			var got []store.SealedValue
			after := ""
			for {
				page, err := f.s.ListSealedValues(f.ctx, kind, after, 2)
				checkErr(t, "ListSealedValues", err, nil)
				if len(page) > 2 {
					t.Fatalf("page of %d values, limit 2", len(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				after = page[len(page)-1].ID
			}
			if len(got) != len(want[kind]) {
				t.Fatalf("%d values, want %d: %+v", len(got), len(want[kind]), got)
			}
			for i, w := range want[kind] {
				if got[i].Kind != kind || got[i].ID != w.ID || !bytes.Equal(got[i].Sealed, w.Sealed) {
					t.Fatalf("value %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
	for _, limit := range []int{0, 1001} {
		if _, err := f.s.ListSealedValues(f.ctx, store.SealedSecret, "", limit); err == nil {
			t.Errorf("ListSealedValues(limit %d) succeeded, want an error", limit)
		}
	}
	if _, err := f.s.ListSealedValues(f.ctx, store.SealedKind(99), "", 1); err == nil {
		t.Error("ListSealedValues(unknown kind) succeeded, want an error")
	}
}

// testSwapSealedValue: a swap is a compare-and-swap, seen by the usual getters.
func testSwapSealedValue(t *testing.T, open opener) {
	f := newFixture(t, open)
	want := sealedFixture(t, f)
	read := func(kind store.SealedKind, id string) []byte {
		t.Helper()
		vs, err := f.s.ListSealedValues(f.ctx, kind, "", 1000)
		checkErr(t, "ListSealedValues", err, nil)
		for _, v := range vs {
			if v.ID == id {
				return v.Sealed
			}
		}
		t.Fatalf("%v %q is gone", kind, id)
		return nil
	}
	for _, kind := range store.SealedKinds {
		t.Run(kind.String(), func(t *testing.T) {
			v := want[kind][0]
			checkErr(t, "SwapSealedValue(wrong old)", f.s.SwapSealedValue(f.ctx, kind, v.ID, []byte("not it"), []byte("new")), store.ErrConflict)
			checkErr(t, "SwapSealedValue(missing)", f.s.SwapSealedValue(f.ctx, kind, "no-such-id", v.Sealed, []byte("new")), store.ErrNotFound)
			if got := read(kind, v.ID); !bytes.Equal(got, v.Sealed) {
				t.Fatalf("a refused swap changed the value to %q", got)
			}
			next := []byte("re-sealed " + v.ID)
			checkErr(t, "SwapSealedValue", f.s.SwapSealedValue(f.ctx, kind, v.ID, v.Sealed, next), nil)
			if got := read(kind, v.ID); !bytes.Equal(got, next) {
				t.Fatalf("after the swap: %q", got)
			}
			checkErr(t, "SwapSealedValue(stale old)", f.s.SwapSealedValue(f.ctx, kind, v.ID, v.Sealed, []byte("x")), store.ErrConflict)
			// The usual getter sees it; nothing else changed.
			var seen []byte
			var err error
			switch kind {
			case store.SealedAccessKey:
				var k store.AccessKeyRecord
				k, err = f.s.GetAccessKey(f.ctx, v.ID)
				seen = k.SecretSealed
			case store.SealedPrivateKey:
				acct := f.keyAccount(t, v.ID)
				var k store.KeyRecord
				k, err = f.s.GetKey(f.ctx, acct, v.ID)
				seen = k.Sealed
			case store.SealedSecret:
				seen, err = f.s.GetSecret(f.ctx, v.ID)
			}
			checkErr(t, "get after swap", err, nil)
			if !bytes.Equal(seen, next) {
				t.Fatalf("the getter sees %q, want %q", seen, next)
			}
			for _, other := range want[kind][1:] {
				if got := read(kind, other.ID); !bytes.Equal(got, other.Sealed) {
					t.Fatalf("the swap changed %q too", other.ID)
				}
			}
		})
	}
}

// keyAccount finds the account of a private key ref made by sealedFixture.
func (f *fixture) keyAccount(t *testing.T, ref string) int64 {
	t.Helper()
	accounts, err := f.s.ListAccounts(f.ctx)
	checkErr(t, "ListAccounts", err, nil)
	for _, a := range accounts {
		if _, err := f.s.GetKey(f.ctx, a.ID, ref); err == nil {
			return a.ID
		}
	}
	t.Fatalf("no account holds key %q", ref)
	return 0
}

// testDataKeysCanceled: the DataKeyStore methods honour a canceled context
// and change nothing.
func testDataKeysCanceled(t *testing.T, open opener) {
	f := newFixture(t, open)
	want := sealedFixture(t, f)
	k1 := dataKey(1, "fp")
	checkErr(t, "InsertDataKey", f.s.InsertDataKey(f.ctx, k1), nil)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	v := want[store.SealedSecret][0]
	calls := []struct {
		name string
		call func() error
	}{
		{"ListDataKeys", func() error { _, err := f.s.ListDataKeys(ctx); return err }},
		{"GetDataKey", func() error { _, err := f.s.GetDataKey(ctx, 1); return err }},
		{"InsertDataKey", func() error { return f.s.InsertDataKey(ctx, dataKey(2, "fp")) }},
		{"RewrapDataKey", func() error { return f.s.RewrapDataKey(ctx, 1, "fp", []byte("w"), "new") }},
		{"ListSealedValues", func() error { _, err := f.s.ListSealedValues(ctx, store.SealedSecret, "", 10); return err }},
		{"SwapSealedValue", func() error { return f.s.SwapSealedValue(ctx, store.SealedSecret, v.ID, v.Sealed, []byte("x")) }},
	}
	for _, c := range calls {
		if err := c.call(); err == nil {
			t.Errorf("%s with a canceled context succeeded", c.name)
		}
	}
	checkDataKeys(t, f, k1)
	if got, err := f.s.GetSecret(f.ctx, v.ID); err != nil || !bytes.Equal(got, v.Sealed) {
		t.Fatalf("GetSecret after canceled calls = %q, %v", got, err)
	}
}
