package keys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pcad-dev/pcad/internal/store"
)

func masterOf(b byte) []byte { return bytes.Repeat([]byte{b}, MasterKeySize) }

func mustKeyring(t *testing.T, master []byte, st store.DataKeyStore) *Keyring {
	t.Helper()
	k, err := OpenKeyring(t.Context(), master, st, rand.Reader)
	if err != nil {
		t.Fatalf("OpenKeyring: %v", err)
	}
	return k
}

func TestFingerprint(t *testing.T) {
	a, b := Fingerprint(masterOf(1)), Fingerprint(masterOf(2))
	if a != Fingerprint(masterOf(1)) {
		t.Fatal("fingerprint is not deterministic")
	}
	if a == b {
		t.Fatal("two master keys share a fingerprint")
	}
	if len(a) != 16 {
		t.Fatalf("fingerprint %q: want 16 hex digits", a)
	}
	if strings.Contains(hex.EncodeToString(masterOf(1)), a) {
		t.Fatal("the fingerprint is part of the key")
	}
}

func TestKeyringSealOpen(t *testing.T) {
	st := newMemStore()
	k := mustKeyring(t, masterOf(7), st)
	sealed, err := k.Seal([]byte("secret"), []byte("ak:1"))
	if err != nil {
		t.Fatal(err)
	}
	if sealed[0] != formatDataKey || bytes.Contains(sealed, []byte("secret")) {
		t.Fatalf("sealed value %x: want format 2 without the clear text", sealed)
	}
	// Another store and master key: its data key differs.
	other := mustKeyring(t, masterOf(8), newMemStore())
	mutate := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name  string
		ring  *Keyring
		value []byte
		aad   string
		want  error
	}{
		{"ok", k, sealed, "ak:1", nil},
		{"fail/wrong aad", k, sealed, "ak:2", ErrOpen},
		{"fail/other keyring", other, sealed, "ak:1", ErrOpen},
		{"fail/tampered ciphertext", k, mutate(len(sealed) - 1), "ak:1", ErrOpen},
		{"fail/tampered nonce", k, mutate(headerSize), "ak:1", ErrOpen},
		{"fail/unknown data key", k, mutate(4), "ak:1", ErrOpen},
		{"fail/unknown format", k, mutate(0), "ak:1", ErrOpen},
		{"fail/truncated", k, sealed[:headerSize+3], "ak:1", ErrOpen},
		{"fail/header only", k, sealed[:3], "ak:1", ErrOpen},
		{"fail/empty", k, nil, "ak:1", ErrOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ring.Open(t.Context(), tc.value, []byte(tc.aad))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && string(got) != "secret" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// TestKeyringOpensFirstFormat: values sealed directly under the master key
// by earlier versions still open, and only with their own aad.
func TestKeyringOpensFirstFormat(t *testing.T) {
	master := masterOf(3)
	legacy, _ := NewSealer(master, rand.Reader)
	old, err := legacy.Seal([]byte("old secret"), AccessKeyAAD("LTAI1"))
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	st.put(store.SealedAccessKey, "LTAI1", old)
	k := mustKeyring(t, master, st)
	if got, err := k.Open(t.Context(), old, AccessKeyAAD("LTAI1")); err != nil || string(got) != "old secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(t.Context(), old, AccessKeyAAD("LTAI2")); !errors.Is(err, ErrOpen) {
		t.Fatalf("moved value opened: %v", err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealedKey, _ := legacy.SealSigner(key, "sw:1")
	if got, err := k.OpenSigner(t.Context(), sealedKey, "sw:1"); err != nil || !key.PublicKey.Equal(got.Public()) {
		t.Fatalf("OpenSigner(first format) = %v", err)
	}
}

func TestKeyringSignerRoundTrip(t *testing.T) {
	k := mustKeyring(t, masterOf(1), newMemStore())
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealed, err := k.SealSigner(key, "ref-1")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := key.Bytes()
	if bytes.Contains(sealed, der) {
		t.Fatal("sealed key holds the scalar")
	}
	got, err := k.OpenSigner(t.Context(), sealed, "ref-1")
	if err != nil || !key.PublicKey.Equal(got.Public()) {
		t.Fatalf("OpenSigner: %v", err)
	}
	if _, err := k.OpenSigner(t.Context(), sealed, "ref-2"); !errors.Is(err, ErrOpen) {
		t.Fatalf("moved key opened: %v", err)
	}
}

// TestOpenKeyringFirstDataKey: an empty store gets data key 1 under the
// master key; the next start loads it, and values survive the restart.
func TestOpenKeyringFirstDataKey(t *testing.T) {
	st := newMemStore()
	master := masterOf(4)
	k1 := mustKeyring(t, master, st)
	dks, _ := st.ListDataKeys(t.Context())
	if len(dks) != 1 || dks[0].ID != 1 || dks[0].MasterFingerprint != Fingerprint(master) || dks[0].Created.IsZero() {
		t.Fatalf("data keys after the first start: %+v", dks)
	}
	sealed, _ := k1.Seal([]byte("v"), []byte("a"))
	k2 := mustKeyring(t, master, st)
	if got, err := k2.Open(t.Context(), sealed, []byte("a")); err != nil || string(got) != "v" {
		t.Fatalf("after restart: %q, %v", got, err)
	}
	if dks2, _ := st.ListDataKeys(t.Context()); len(dks2) != 1 || !bytes.Equal(dks2[0].Wrapped, dks[0].Wrapped) {
		t.Fatal("the second start changed the data keys")
	}
}

// TestOpenKeyringConcurrent: replicas starting together on an empty store
// end with one data key and open each other's values.
func TestOpenKeyringConcurrent(t *testing.T) {
	st := newMemStore()
	const n = 8
	rings := make([]*Keyring, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { rings[i], errs[i] = OpenKeyring(context.Background(), masterOf(5), st, rand.Reader) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	if dks, _ := st.ListDataKeys(t.Context()); len(dks) != 1 {
		t.Fatalf("%d data keys, want 1", len(dks))
	}
	for i := range n {
		sealed, _ := rings[i].Seal([]byte("x"), nil)
		if _, err := rings[(i+1)%n].Open(t.Context(), sealed, nil); err != nil {
			t.Fatalf("replica %d does not open replica %d's value: %v", (i+1)%n, i, err)
		}
	}
}

// TestOpenKeyringRefuses: a wrong master key, a rotation left half done and
// lost data keys are named, and nothing is written.
func TestOpenKeyringRefuses(t *testing.T) {
	a, b, c := masterOf(0xa), masterOf(0xb), masterOf(0xc)
	fa, fb, fc := Fingerprint(a), Fingerprint(b), Fingerprint(c)
	underA := func(t *testing.T) *memStore {
		st := newMemStore()
		mustKeyring(t, a, st)
		return st
	}
	tests := []struct {
		name    string
		store   func(t *testing.T) *memStore
		master  []byte
		want    error
		mention []string
	}{
		{"wrong key", underA, b, ErrWrongMasterKey, []string{fa, fb, "not the one that wraps"}},
		{"wrong key for first-format values", func(t *testing.T) *memStore {
			st := newMemStore()
			legacy, _ := NewSealer(a, rand.Reader)
			v, _ := legacy.Seal([]byte("s"), SecretAAD("list-token-hmac"))
			st.put(store.SealedSecret, "list-token-hmac", v)
			return st
		}, b, ErrWrongMasterKey, []string{fb, "list-token-hmac", "does not open"}},
		{"rotation interrupted, new key", func(t *testing.T) *memStore {
			st := underA(t)
			addDataKey(t, st, 2, b)
			return st
		}, b, ErrRotationIncomplete, []string{fa, fb, "rotate-master-key", "both keys"}},
		{"rotation interrupted, old key", func(t *testing.T) *memStore {
			st := underA(t)
			addDataKey(t, st, 2, b)
			return st
		}, a, ErrRotationIncomplete, []string{fa, fb, "rotate-master-key"}},
		{"rotation interrupted, third key", func(t *testing.T) *memStore {
			st := underA(t)
			addDataKey(t, st, 2, b)
			return st
		}, c, ErrWrongMasterKey, []string{fa, fb, fc, "rotate-master-key"}},
		{"data keys lost", func(t *testing.T) *memStore {
			st := newMemStore()
			k := mustKeyring(t, a, newMemStore())
			v, _ := k.Seal([]byte("s"), AccessKeyAAD("LTAIx"))
			st.put(store.SealedAccessKey, "LTAIx", v)
			return st
		}, a, nil, []string{"no data keys", "LTAIx"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.store(t)
			before, writes := st.snapshot(), st.writes
			_, err := OpenKeyring(t.Context(), tc.master, st, rand.Reader)
			if err == nil {
				t.Fatal("OpenKeyring succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if st.snapshot() != before || st.writes != writes {
				t.Fatal("a refused start wrote to the store")
			}
			for _, k := range [][]byte{a, b, c} {
				if strings.Contains(err.Error(), hex.EncodeToString(k)) {
					t.Fatal("the error holds a master key")
				}
			}
		})
	}
}

// addDataKey stores a fresh data key id wrapped under master.
func addDataKey(t *testing.T, st *memStore, id int64, master []byte) {
	t.Helper()
	m, err := newMasterKey(master, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dek := make([]byte, dataKeySize)
	rand.Read(dek)
	w, err := m.wrapKey(id, dek, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InsertDataKey(t.Context(), store.DataKey{ID: id, Wrapped: w, MasterFingerprint: m.fp}); err != nil {
		t.Fatal(err)
	}
}

// TestKeyringLoadsLaterDataKeys: a value sealed under a data key created
// after this keyring started (by another replica) opens; one under a data key
// wrapped by another master key, or a missing one, does not.
func TestKeyringLoadsLaterDataKeys(t *testing.T) {
	st := newMemStore()
	master := masterOf(6)
	early := mustKeyring(t, master, st)
	addDataKey(t, st, 2, master)
	late := mustKeyring(t, master, st)
	sealed, _ := late.Seal([]byte("v"), nil)
	if id := sealed[4]; id != 2 {
		t.Fatalf("the later keyring sealed under data key %d, want the newest (2)", id)
	}
	if got, err := early.Open(t.Context(), sealed, nil); err != nil || string(got) != "v" {
		t.Fatalf("early keyring: %q, %v", got, err)
	}
	addDataKey(t, st, 3, masterOf(9))
	forged := bytes.Clone(sealed)
	forged[4] = 3
	if _, err := early.Open(t.Context(), forged, nil); !errors.Is(err, ErrOpen) || !strings.Contains(err.Error(), Fingerprint(masterOf(9))) {
		t.Fatalf("data key under another master key: %v", err)
	}
	forged[4] = 4
	if _, err := early.Open(t.Context(), forged, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("missing data key: %v", err)
	}
}

// TestWrappedDataKey: the stored form of a data key is bound to its id and
// opens only with its master key.
func TestWrappedDataKey(t *testing.T) {
	m, _ := newMasterKey(masterOf(1), rand.Reader)
	other, _ := newMasterKey(masterOf(2), rand.Reader)
	dek := bytes.Repeat([]byte{0x5a}, dataKeySize)
	w, err := m.wrapKey(7, dek, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(w, dek) {
		t.Fatal("the wrapped key holds the key")
	}
	tests := []struct {
		name string
		m    *masterKey
		dk   store.DataKey
		ok   bool
	}{
		{"ok", m, store.DataKey{ID: 7, Wrapped: w}, true},
		{"fail/other id", m, store.DataKey{ID: 8, Wrapped: w}, false},
		{"fail/other master key", other, store.DataKey{ID: 7, Wrapped: w}, false},
		{"fail/truncated", m, store.DataKey{ID: 7, Wrapped: w[:20]}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.m.unwrapKey(tc.dk)
			if tc.ok != (err == nil) || (tc.ok && !bytes.Equal(got, dek)) {
				t.Fatalf("unwrap = %x, %v", got, err)
			}
		})
	}
}

func TestMasterKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	if _, err := LoadMasterKeyFile(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	k1, err := CreateMasterKeyFile(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CreateMasterKeyFile(path, rand.Reader); !errors.Is(err, os.ErrExist) {
		t.Fatalf("a second create: %v, want os.ErrExist", err)
	}
	k2 := masterOf(0x42)
	if err := ReplaceMasterKeyFile(path, k2); err != nil {
		t.Fatal(err)
	}
	got, err := LoadMasterKeyFile(path)
	if err != nil || !bytes.Equal(got, k2) || bytes.Equal(got, k1) {
		t.Fatalf("after replace: %x, %v", got, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v after replace, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %v, want only master.key", entries)
	}
	if err := ReplaceMasterKeyFile(path, []byte("short")); err == nil {
		t.Fatal("a short key was written")
	}
}

func TestHoldsSealedData(t *testing.T) {
	tests := []struct {
		name  string
		setup func(st *memStore)
		want  bool
	}{
		{"fresh", func(*memStore) {}, false},
		{"data key", func(st *memStore) { addDataKey(t, st, 1, masterOf(1)) }, true},
		{"secret", func(st *memStore) { st.put(store.SealedSecret, "x", []byte{1}) }, true},
		{"access key", func(st *memStore) { st.put(store.SealedAccessKey, "x", []byte{1}) }, true},
		{"private key", func(st *memStore) { st.put(store.SealedPrivateKey, "x", []byte{1}) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			tc.setup(st)
			if got, err := HoldsSealedData(t.Context(), st); err != nil || got != tc.want {
				t.Fatalf("HoldsSealedData = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// ExampleFingerprint shows the form of a fingerprint.
func ExampleFingerprint() {
	fmt.Println(len(Fingerprint(make([]byte, MasterKeySize))))
	// Output: 16
}
