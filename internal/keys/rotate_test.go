package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/store"
)

// rotFixture is a store holding values of both formats under master key
// old: first-format values written by an earlier version, then values a
// keyring sealed, and the clear text of each.
type rotFixture struct {
	st    *memStore
	old   []byte
	new   []byte
	clear map[store.SealedKind]map[string]string
}

func newRotFixture(t *testing.T, legacy, current int) *rotFixture {
	t.Helper()
	f := &rotFixture{st: newMemStore(), old: masterOf(0x01), new: masterOf(0x02),
		clear: map[store.SealedKind]map[string]string{}}
	s, _ := NewSealer(f.old, rand.Reader)
	for _, kind := range store.SealedKinds {
		f.clear[kind] = map[string]string{}
		for i := range legacy {
			id := fmt.Sprintf("v1-%v-%03d", int(kind), i)
			f.putWith(t, kind, id, s.Seal)
		}
	}
	k := mustKeyring(t, f.old, f.st)
	for _, kind := range store.SealedKinds {
		for i := range current {
			id := fmt.Sprintf("v2-%v-%03d", int(kind), i)
			f.putWith(t, kind, id, k.Seal)
		}
	}
	return f
}

func (f *rotFixture) putWith(t *testing.T, kind store.SealedKind, id string, seal func(pt, aad []byte) ([]byte, error)) {
	t.Helper()
	aad, _ := AAD(kind, id)
	pt := fmt.Sprintf("clear text of %v %s", kind, id)
	v, err := seal([]byte(pt), aad)
	if err != nil {
		t.Fatal(err)
	}
	f.st.put(kind, id, v)
	f.clear[kind][id] = pt
}

// checkOpens checks that a keyring on master opens every value, and that
// no value of the first format is left when noFirst is set.
func (f *rotFixture) checkOpens(t *testing.T, master []byte, noFirst bool) {
	t.Helper()
	k := mustKeyring(t, master, f.st)
	for kind, vals := range f.clear {
		for id, want := range vals {
			sealed := f.st.get(kind, id)
			aad, _ := AAD(kind, id)
			got, err := k.Open(t.Context(), sealed, aad)
			if err != nil || string(got) != want {
				t.Fatalf("%v %s: %q, %v", kind, id, got, err)
			}
			if noFirst && sealed[0] == formatMaster {
				t.Fatalf("%v %s is still sealed under the master key itself", kind, id)
			}
		}
	}
}

// checkOldOpensNothing checks that the old master key opens nothing left
// in the store: not a data key, not a value.
func (f *rotFixture) checkOldOpensNothing(t *testing.T) {
	t.Helper()
	if _, err := OpenKeyring(t.Context(), f.old, f.st, rand.Reader); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("OpenKeyring(old) = %v, want ErrWrongMasterKey", err)
	}
	om, _ := newMasterKey(f.old, rand.Reader)
	dks, _ := f.st.ListDataKeys(t.Context())
	for _, dk := range dks {
		dk.MasterFingerprint = om.fp // pretend, to try the old key anyway
		if _, err := om.unwrapKey(dk); err == nil {
			t.Fatalf("the old master key unwraps data key %d", dk.ID)
		}
	}
	for kind, vals := range f.clear {
		for id := range vals {
			aad, _ := AAD(kind, id)
			if _, err := om.legacy.Open(f.st.get(kind, id), aad); err == nil {
				t.Fatalf("the old master key opens %v %s", kind, id)
			}
		}
	}
}

func TestRotateMasterKey(t *testing.T) {
	tests := []struct {
		name            string
		legacy, current int
	}{
		{"first-format values only", 3, 0},
		{"data-key values only", 0, 3},
		{"both", 700, 2}, // more than one page of first-format values
		{"empty store", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f *rotFixture
			if tc.legacy == 0 && tc.current == 0 {
				f = &rotFixture{st: newMemStore(), old: masterOf(1), new: masterOf(2), clear: map[store.SealedKind]map[string]string{}}
			} else {
				f = newRotFixture(t, tc.legacy, tc.current)
			}
			running := mustKeyring(t, f.old, f.st) // a server running through the rotation
			rep, err := RotateMasterKey(t.Context(), f.st, f.old, f.new, RotateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Resealed != 3*tc.legacy || rep.Rewrapped != 1 || rep.AlreadyNew != 0 ||
				rep.OldFingerprint != Fingerprint(f.old) || rep.NewFingerprint != Fingerprint(f.new) {
				t.Fatalf("report %+v", rep)
			}
			f.checkOpens(t, f.new, true)
			f.checkOldOpensNothing(t)
			// The running server keeps its data keys and works on.
			v, err := running.Seal([]byte("after"), []byte("x"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := mustKeyring(t, f.new, f.st).Open(t.Context(), v, []byte("x")); err != nil || string(got) != "after" {
				t.Fatalf("a value sealed by a server started before the rotation: %q, %v", got, err)
			}
			// A second run (keys swapped back or repeated) has nothing to do.
			rep, err = RotateMasterKey(t.Context(), f.st, f.old, f.new, RotateOptions{})
			if err != nil || rep.Resealed != 0 || rep.Rewrapped != 0 || rep.AlreadyNew != 1 {
				t.Fatalf("second run: %+v, %v", rep, err)
			}
		})
	}
}

// TestRotateResumes interrupts a rotation after n changes, checks what
// servers starting then are told, and finishes it by running it again.
func TestRotateResumes(t *testing.T) {
	const legacy = 4 // per kind: 12 values to re-seal, then 2 data keys to re-wrap
	tests := []struct {
		name       string
		stopAfter  int
		oldStarts  bool  // the store still opens with the old key alone
		serveError error // what a start with either key says otherwise
	}{
		{"during re-sealing", 5, true, nil},
		{"after re-sealing", 12, true, nil},
		{"during re-wrapping", 13, false, ErrRotationIncomplete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRotFixture(t, legacy, 2)
			addDataKey(t, f.st, 2, f.old)
			stop := errors.New("simulated crash")
			_, err := RotateMasterKey(t.Context(), f.st, f.old, f.new, RotateOptions{AfterChange: func(n int) error {
				if n == tc.stopAfter {
					return stop
				}
				return nil
			}})
			if !errors.Is(err, stop) {
				t.Fatalf("interrupted rotation: %v", err)
			}
			if tc.oldStarts {
				f.checkOpens(t, f.old, false)
				if _, err := OpenKeyring(t.Context(), f.new, f.st, rand.Reader); !errors.Is(err, ErrWrongMasterKey) {
					t.Fatalf("new key before re-wrapping: %v", err)
				}
			} else {
				for _, m := range [][]byte{f.old, f.new} {
					if _, err := OpenKeyring(t.Context(), m, f.st, rand.Reader); !errors.Is(err, tc.serveError) {
						t.Fatalf("start with %x... during the rotation: %v, want %v", m[:2], err, tc.serveError)
					}
				}
			}
			// The lease was released: the rerun needs no wait.
			rep, err := RotateMasterKey(t.Context(), f.st, f.old, f.new, RotateOptions{})
			if err != nil {
				t.Fatalf("resumed rotation: %v", err)
			}
			if rep.Rewrapped+rep.AlreadyNew != 2 || rep.Resealed != max(0, 3*legacy-tc.stopAfter) {
				t.Fatalf("resumed rotation report %+v", rep)
			}
			f.checkOpens(t, f.new, true)
			f.checkOldOpensNothing(t)
		})
	}
}

// TestRotateCancelled: a cancelled context stops the rotation; a rerun
// finishes it.
func TestRotateCancelled(t *testing.T) {
	f := newRotFixture(t, 10, 1)
	ctx, cancel := context.WithCancel(t.Context())
	_, err := RotateMasterKey(ctx, f.st, f.old, f.new, RotateOptions{AfterChange: func(n int) error {
		if n == 3 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := RotateMasterKey(t.Context(), f.st, f.old, f.new, RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.checkOpens(t, f.new, true)
	f.checkOldOpensNothing(t)
}

// TestRotateRefuses: rotations that must not start change nothing.
func TestRotateRefuses(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *rotFixture)
		old, new []byte
		opt      RotateOptions
		mention  string
	}{
		{"new key not stored", nil, masterOf(1), masterOf(2), RotateOptions{BeforeChange: func() error { return errors.New("disk full") }}, "disk full"},
		{"same key", nil, masterOf(1), masterOf(1), RotateOptions{}, "is the old one"},
		{"wrong old key", nil, masterOf(9), masterOf(2), RotateOptions{}, "neither the old key"},
		{"short key", nil, masterOf(1), []byte("short"), RotateOptions{}, "new master key"},
		{"rotation running", func(f *rotFixture) {
			f.st.AcquireLease(context.Background(), rotationLease, "someone", time.Now(), time.Hour)
		}, masterOf(1), masterOf(2), RotateOptions{}, "another master-key rotation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRotFixture(t, 2, 2)
			if tc.setup != nil {
				tc.setup(f)
			}
			before := f.st.snapshot()
			_, err := RotateMasterKey(t.Context(), f.st, tc.old, tc.new, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.mention)
			}
			if f.st.snapshot() != before {
				t.Fatal("a refused rotation changed the store")
			}
		})
	}
}

// TestRotateConcurrentWriter: a value that changes under the rotation (the
// audit head moving on) is read again, not lost or overwritten.
func TestRotateConcurrentWriter(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *rotFixture, k *Keyring, kind store.SealedKind, id string)
		want   string // clear text afterwards; "" = the value is gone
	}{
		{"moved on under a data key", func(f *rotFixture, k *Keyring, kind store.SealedKind, id string) {
			aad, _ := AAD(kind, id)
			v, _ := k.Seal([]byte("moved on"), aad)
			f.st.put(kind, id, v)
		}, "moved on"},
		{"moved on under the master key", func(f *rotFixture, _ *Keyring, kind store.SealedKind, id string) {
			s, _ := NewSealer(f.old, rand.Reader)
			aad, _ := AAD(kind, id)
			v, _ := s.Seal([]byte("moved on"), aad)
			f.st.put(kind, id, v)
		}, "moved on"},
		{"deleted", func(f *rotFixture, _ *Keyring, kind store.SealedKind, id string) {
			f.st.mu.Lock()
			delete(f.st.vals[kind], id)
			f.st.mu.Unlock()
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRotFixture(t, 2, 0)
			k := mustKeyring(t, f.old, f.st)
			target := "v1-3-001" // a server secret
			once := false
			f.st.beforeSwap = func(kind store.SealedKind, id string) {
				if id == target && !once {
					once = true
					tc.change(f, k, kind, id)
				}
			}
			if _, err := RotateMasterKey(t.Context(), f.st, f.old, f.new, RotateOptions{}); err != nil {
				t.Fatal(err)
			}
			if !once {
				t.Fatal("the concurrent change never ran")
			}
			got := f.st.get(store.SealedSecret, target)
			if tc.want == "" {
				if got != nil {
					t.Fatal("a deleted value came back")
				}
				delete(f.clear[store.SealedSecret], target)
			} else {
				f.clear[store.SealedSecret][target] = tc.want
			}
			f.checkOpens(t, f.new, true)
		})
	}
}

// TestRotateStoreHasNoDataKey: a store written only by an earlier version
// gets its first data key under the old master key, then the rotation.
func TestRotateStoreHasNoDataKey(t *testing.T) {
	f := &rotFixture{st: newMemStore(), old: masterOf(1), new: masterOf(2), clear: map[store.SealedKind]map[string]string{}}
	s, _ := NewSealer(f.old, rand.Reader)
	for _, kind := range store.SealedKinds {
		f.clear[kind] = map[string]string{}
		f.putWith(t, kind, "only", s.Seal)
	}
	if _, err := RotateMasterKey(t.Context(), f.st, masterOf(7), f.new, RotateOptions{}); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("a wrong old key: %v", err)
	}
	if dks, _ := f.st.ListDataKeys(t.Context()); len(dks) != 0 {
		t.Fatal("a refused rotation created a data key")
	}
	rep, err := RotateMasterKey(t.Context(), f.st, f.old, f.new, RotateOptions{})
	if err != nil || rep.Resealed != 3 || rep.Rewrapped != 1 {
		t.Fatalf("%+v, %v", rep, err)
	}
	f.checkOpens(t, f.new, true)
	f.checkOldOpensNothing(t)
	if bytes.Equal(f.old, f.new) {
		t.Fatal("fixture keys are equal")
	}
}
