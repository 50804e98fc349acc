package keys

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pcad-dev/pcad/internal/store"
)

// memStore is an in-memory RotationStore following the store contract,
// with hooks to simulate concurrent writers.
type memStore struct {
	mu     sync.Mutex
	dks    map[int64]store.DataKey
	vals   map[store.SealedKind]map[string][]byte
	leases map[string]memLease
	writes int // successful writes of any kind

	// beforeSwap, when set, runs (unlocked) before each SwapSealedValue.
	beforeSwap func(kind store.SealedKind, id string)
}

type memLease struct {
	holder  string
	expires time.Time
}

func newMemStore() *memStore {
	return &memStore{dks: map[int64]store.DataKey{}, leases: map[string]memLease{},
		vals: map[store.SealedKind]map[string][]byte{store.SealedPrivateKey: {}, store.SealedAccessKey: {}, store.SealedSecret: {}}}
}

// put stores a value directly (as the service would through its own methods).
func (m *memStore) put(kind store.SealedKind, id string, sealed []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[kind][id] = bytes.Clone(sealed)
}

func (m *memStore) get(kind store.SealedKind, id string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.vals[kind][id])
}

// snapshot is a comparable dump of everything stored (leases aside).
func (m *memStore) snapshot() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b bytes.Buffer
	for _, id := range slices.Sorted(maps.Keys(m.dks)) {
		dk := m.dks[id]
		fmt.Fprintf(&b, "dk %d %x %s\n", dk.ID, dk.Wrapped, dk.MasterFingerprint)
	}
	for _, kind := range store.SealedKinds {
		for _, id := range slices.Sorted(maps.Keys(m.vals[kind])) {
			fmt.Fprintf(&b, "%v %s %x\n", kind, id, m.vals[kind][id])
		}
	}
	return b.String()
}

func (m *memStore) ListDataKeys(ctx context.Context) ([]store.DataKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.DataKey
	for _, id := range slices.Sorted(maps.Keys(m.dks)) {
		dk := m.dks[id]
		dk.Wrapped = bytes.Clone(dk.Wrapped)
		out = append(out, dk)
	}
	return out, nil
}

func (m *memStore) GetDataKey(ctx context.Context, id int64) (store.DataKey, error) {
	if err := ctx.Err(); err != nil {
		return store.DataKey{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	dk, ok := m.dks[id]
	if !ok {
		return store.DataKey{}, store.ErrNotFound
	}
	dk.Wrapped = bytes.Clone(dk.Wrapped)
	return dk, nil
}

func (m *memStore) InsertDataKey(ctx context.Context, k store.DataKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.dks[k.ID]; ok {
		return store.ErrConflict
	}
	k.Wrapped = bytes.Clone(k.Wrapped)
	m.dks[k.ID] = k
	m.writes++
	return nil
}

func (m *memStore) RewrapDataKey(ctx context.Context, id int64, oldFP string, wrapped []byte, fp string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	dk, ok := m.dks[id]
	if !ok {
		return store.ErrNotFound
	}
	if dk.MasterFingerprint != oldFP {
		return store.ErrConflict
	}
	dk.Wrapped, dk.MasterFingerprint = bytes.Clone(wrapped), fp
	m.dks[id] = dk
	m.writes++
	return nil
}

func (m *memStore) ListSealedValues(ctx context.Context, kind store.SealedKind, after string, limit int) ([]store.SealedValue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.SealedValue
	for _, id := range slices.Sorted(maps.Keys(m.vals[kind])) {
		if id > after && len(out) < limit {
			out = append(out, store.SealedValue{Kind: kind, ID: id, Sealed: bytes.Clone(m.vals[kind][id])})
		}
	}
	return out, nil
}

func (m *memStore) SwapSealedValue(ctx context.Context, kind store.SealedKind, id string, old, sealed []byte) error {
	if m.beforeSwap != nil {
		m.beforeSwap(kind, id)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.vals[kind][id]
	if !ok {
		return store.ErrNotFound
	}
	if !bytes.Equal(cur, old) {
		return store.ErrConflict
	}
	m.vals[kind][id] = bytes.Clone(sealed)
	m.writes++
	return nil
}

func (m *memStore) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases[name]
	if ok && l.holder != holder && now.Before(l.expires) {
		return false, nil
	}
	m.leases[name] = memLease{holder: holder, expires: now.Add(ttl)}
	return true, nil
}

func (m *memStore) ReleaseLease(ctx context.Context, name, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[name].holder == holder {
		delete(m.leases, name)
	}
	return nil
}

var _ RotationStore = (*memStore)(nil)
