package keys

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pcad-dev/pcad/internal/store"
)

// Formats of sealed values (their first byte).
const (
	// formatMaster (1): 1 | nonce | AES-256-GCM ciphertext, directly under
	// the master key. Written by earlier versions; opened, never written.
	formatMaster = 1
	// formatDataKey (2): 2 | data key id (4 bytes, big-endian) | nonce |
	// AES-256-GCM ciphertext under that data key. The first 5 bytes are
	// authenticated too (they precede the caller's associated data).
	formatDataKey = 2
)

// dataKeySize is the size of a data key (AES-256).
const dataKeySize = 32

// headerSize is the length of a formatDataKey header.
const headerSize = 1 + 4

// maxDataKeyID is the largest data key id the format can name.
const maxDataKeyID = 1<<32 - 1

// Errors of OpenKeyring and RotateMasterKey; test with errors.Is. The
// messages that wrap them name the fingerprints involved.
var (
	// ErrWrongMasterKey: the master key is not the one that protects the store.
	ErrWrongMasterKey = errors.New("wrong master key")
	// ErrRotationIncomplete: a master-key rotation was interrupted, so the
	// store's data keys are wrapped partly under one master key, partly
	// under another.
	ErrRotationIncomplete = errors.New("master-key rotation not finished")
)

// fingerprintLabel is the message Fingerprint authenticates.
const fingerprintLabel = "pcad master key fingerprint"

// Fingerprint names a master key without revealing it: the first 8 bytes of
// HMAC-SHA-256(master, "pcad master key fingerprint"), in hex. The store
// keeps it beside each wrapped data key.
func Fingerprint(master []byte) string {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(fingerprintLabel))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// masterKey is a master key ready for use: the fingerprint, the AEAD that
// wraps data keys (under a key derived from the master key, so the master
// key itself is an AES key only for the first format) and the Sealer that
// opens values of the first format.
type masterKey struct {
	fp     string
	wrap   cipher.AEAD
	legacy *Sealer
}

func newMasterKey(key []byte, r io.Reader) (*masterKey, error) {
	legacy, err := NewSealer(key, r)
	if err != nil {
		return nil, err
	}
	kek, err := hkdf.Key(sha256.New, key, nil, "pcad data key wrapping", dataKeySize)
	if err != nil {
		return nil, fmt.Errorf("keys: derive wrapping key: %w", err)
	}
	defer clear(kek)
	wrap, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	return &masterKey{fp: Fingerprint(key), wrap: wrap, legacy: legacy}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return aead, nil
}

// wrapAAD binds a wrapped data key to its id.
func wrapAAD(id int64) []byte { return []byte("pcad data key " + strconv.FormatInt(id, 10)) }

// wrapKey encrypts a data key under m: nonce | ciphertext.
func (m *masterKey) wrapKey(id int64, dek []byte, r io.Reader) ([]byte, error) {
	out := make([]byte, m.wrap.NonceSize(), m.wrap.NonceSize()+len(dek)+m.wrap.Overhead())
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return m.wrap.Seal(out, out, dek, wrapAAD(id)), nil
}

// unwrapKey opens a data key wrapped by wrapKey.
func (m *masterKey) unwrapKey(dk store.DataKey) ([]byte, error) {
	n := m.wrap.NonceSize()
	if len(dk.Wrapped) < n+m.wrap.Overhead() {
		return nil, fmt.Errorf("keys: data key %d: wrapped value too short", dk.ID)
	}
	dek, err := m.wrap.Open(nil, dk.Wrapped[:n], dk.Wrapped[n:], wrapAAD(dk.ID))
	if err != nil || len(dek) != dataKeySize {
		return nil, fmt.Errorf("keys: data key %d does not open under the master key with fingerprint %s, though the store names that key: the stored data key was altered: %w",
			dk.ID, m.fp, ErrOpen)
	}
	return dek, nil
}

// Keyring seals and opens values under data keys: random AES-256-GCM keys
// kept in the store wrapped under the master key, and held unwrapped in
// memory by a running process. New values are sealed under the current
// (newest) data key; values of the first format, sealed directly under the
// master key, still open. It is safe for concurrent use.
//
// A running process keeps its unwrapped data keys when the master key is
// rotated (RotateMasterKey) and goes on working; a process started later
// needs the new master key.
type Keyring struct {
	st     store.DataKeyStore
	rand   io.Reader
	master *masterKey

	mu      sync.RWMutex
	keys    map[int64]cipher.AEAD
	current int64
}

// OpenKeyring checks master against the store and loads the store's data
// keys, unwrapped, creating the first one when the store has none. Nonces
// and data keys come from r.
//
// A master key that does not wrap the store's data keys (ErrWrongMasterKey),
// or a store whose data keys are wrapped under two master keys because a
// rotation was interrupted (ErrRotationIncomplete), gives an error naming
// the fingerprints, before anything is written. A store with no data keys
// yet but values of the first format is checked by opening one of them: the
// first data key is created only under the master key that opens it.
// Replicas that start together on an empty store create the same first data
// key id; the first writer wins and the others load its key.
func OpenKeyring(ctx context.Context, master []byte, st store.DataKeyStore, r io.Reader) (*Keyring, error) {
	m, err := newMasterKey(master, r)
	if err != nil {
		return nil, err
	}
	for range 3 {
		dks, err := st.ListDataKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("keys: load data keys: %w", err)
		}
		if len(dks) == 0 {
			if err := createFirstDataKey(ctx, st, m, r); err != nil {
				return nil, err
			}
			continue // load what is stored now: ours, or another replica's
		}
		if err := checkFingerprints(dks, m.fp); err != nil {
			return nil, err
		}
		return newKeyring(st, r, m, dks, m)
	}
	return nil, errors.New("keys: the store keeps no data key: each one created vanished")
}

// newKeyring unwraps dks, each with the master key of its fingerprint among
// masters, into a Keyring whose master key (for the first format and for
// data keys loaded later) is primary.
func newKeyring(st store.DataKeyStore, r io.Reader, primary *masterKey, dks []store.DataKey, masters ...*masterKey) (*Keyring, error) {
	k := &Keyring{st: st, rand: r, master: primary, keys: map[int64]cipher.AEAD{}}
	for _, dk := range dks {
		raw, err := unwrapWith(dk, masters)
		if err != nil {
			return nil, err
		}
		aead, err := newGCM(raw)
		clear(raw)
		if err != nil {
			return nil, err
		}
		k.keys[dk.ID] = aead
		k.current = max(k.current, dk.ID)
	}
	return k, nil
}

// unwrapWith unwraps dk with the master key among masters that has its
// fingerprint.
func unwrapWith(dk store.DataKey, masters []*masterKey) ([]byte, error) {
	if dk.ID < 1 || dk.ID > maxDataKeyID {
		return nil, fmt.Errorf("keys: the store holds a data key with id %d, outside 1..%d", dk.ID, int64(maxDataKeyID))
	}
	for _, m := range masters {
		if m.fp == dk.MasterFingerprint {
			return m.unwrapKey(dk)
		}
	}
	return nil, fmt.Errorf("keys: %w: data key %d is wrapped by the master key with fingerprint %s", ErrWrongMasterKey, dk.ID, dk.MasterFingerprint)
}

// checkFingerprints checks that every data key is wrapped under the master
// key with fingerprint fp.
func checkFingerprints(dks []store.DataKey, fp string) error {
	count := map[string]int{}
	for _, dk := range dks {
		count[dk.MasterFingerprint]++
	}
	if count[fp] == len(dks) {
		return nil
	}
	others := slices.Sorted(maps.Keys(count))
	others = slices.DeleteFunc(others, func(s string) bool { return s == fp })
	var desc []string
	for _, o := range others {
		desc = append(desc, fmt.Sprintf("%s (%d of %d)", o, count[o], len(dks)))
	}
	switch {
	case count[fp] > 0:
		return fmt.Errorf("keys: %w: %d of the store's %d data keys are wrapped by this master key (fingerprint %s) and the others by %s: "+
			"a master-key rotation was interrupted; run `pcad admin rotate-master-key` again with both keys to finish it",
			ErrRotationIncomplete, count[fp], len(dks), fp, strings.Join(desc, ", "))
	case len(others) > 1:
		return fmt.Errorf("keys: %w: this master key (fingerprint %s) wraps none of the store's data keys, which are wrapped by %s; "+
			"a master-key rotation between those keys was interrupted: run `pcad admin rotate-master-key` again with both of them",
			ErrWrongMasterKey, fp, strings.Join(desc, " and "))
	default:
		return fmt.Errorf("keys: %w: this master key (fingerprint %s) is not the one that wraps this store's data keys (fingerprint %s); "+
			"start with the master key the store was made with or last rotated to",
			ErrWrongMasterKey, fp, others[0])
	}
}

// createFirstDataKey checks m against values of the first format, if the
// store holds any, and stores data key 1 wrapped under m (ErrConflict from
// the store, another replica's insert, is not an error: the caller reloads).
func createFirstDataKey(ctx context.Context, st store.DataKeyStore, m *masterKey, r io.Reader) error {
	if err := probeFirstFormat(ctx, st, m); err != nil {
		return err
	}
	dek := make([]byte, dataKeySize)
	defer clear(dek)
	if _, err := io.ReadFull(r, dek); err != nil {
		return fmt.Errorf("keys: generate data key: %w", err)
	}
	const id = 1
	wrapped, err := m.wrapKey(id, dek, r)
	if err != nil {
		return err
	}
	err = st.InsertDataKey(ctx, store.DataKey{ID: id, Wrapped: wrapped, MasterFingerprint: m.fp, Created: time.Now()})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("keys: store data key: %w", err)
	}
	return nil
}

// probeFirstFormat opens the first stored value of each kind that is of the
// first format with m: one that does not open means m is not the key the
// store was made with. A value of the data-key format in a store without
// data keys means the data keys were lost.
func probeFirstFormat(ctx context.Context, st store.DataKeyStore, m *masterKey) error {
	for _, kind := range store.SealedKinds {
		vs, err := st.ListSealedValues(ctx, kind, "", 1)
		if err != nil {
			return fmt.Errorf("keys: check the master key: %w", err)
		}
		if len(vs) == 0 {
			continue
		}
		v := vs[0]
		if len(v.Sealed) > 0 && v.Sealed[0] == formatDataKey {
			return fmt.Errorf("keys: the store holds values sealed under data keys (the %s %q) but no data keys: "+
				"its data_keys table was emptied or lost; restore it from a backup", kind, v.ID)
		}
		aad, err := AAD(kind, v.ID)
		if err != nil {
			return err
		}
		pt, err := m.legacy.Open(v.Sealed, aad)
		if err != nil {
			return fmt.Errorf("keys: %w: this master key (fingerprint %s) does not open the store's sealed values (the %s %q does not open): "+
				"start with the master key the store was made with", ErrWrongMasterKey, m.fp, kind, v.ID)
		}
		clear(pt)
		return nil
	}
	return nil
}

// Fingerprint returns the fingerprint of the keyring's master key.
func (k *Keyring) Fingerprint() string { return k.master.fp }

// Seal encrypts plaintext under the current data key, binding it to aad
// (the record's name, so that a sealed value cannot be moved to another
// record).
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	k.mu.RLock()
	id, aead := k.current, k.keys[k.current]
	k.mu.RUnlock()
	if aead == nil {
		return nil, errors.New("keys: the keyring holds no data key")
	}
	n := aead.NonceSize()
	out := make([]byte, headerSize+n, headerSize+n+len(plaintext)+aead.Overhead())
	out[0] = formatDataKey
	binary.BigEndian.PutUint32(out[1:headerSize], uint32(id))
	if _, err := io.ReadFull(k.rand, out[headerSize:]); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return aead.Seal(out, out[headerSize:], plaintext, headerAAD(out[:headerSize], aad)), nil
}

func headerAAD(header, aad []byte) []byte {
	return append(append(make([]byte, 0, len(header)+len(aad)), header...), aad...)
}

// Open decrypts a value made by Seal (or by the first format's Sealer under
// the master key) with the same aad, or returns an error wrapping ErrOpen.
// A data key this process has not loaded yet (made by another replica) is
// read from the store once.
func (k *Keyring) Open(ctx context.Context, sealed, aad []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, ErrOpen
	}
	switch sealed[0] {
	case formatMaster:
		return k.master.legacy.Open(sealed, aad)
	case formatDataKey:
	default:
		return nil, ErrOpen
	}
	if len(sealed) < headerSize {
		return nil, ErrOpen
	}
	id := int64(binary.BigEndian.Uint32(sealed[1:headerSize]))
	aead, err := k.dataKey(ctx, id)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(sealed) < headerSize+n+aead.Overhead() {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, sealed[headerSize:headerSize+n], sealed[headerSize+n:], headerAAD(sealed[:headerSize], aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// dataKey returns data key id, loading it from the store if needed.
func (k *Keyring) dataKey(ctx context.Context, id int64) (cipher.AEAD, error) {
	k.mu.RLock()
	aead := k.keys[id]
	k.mu.RUnlock()
	if aead != nil {
		return aead, nil
	}
	dk, err := k.st.GetDataKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: the value names data key %d, which the store does not hold", ErrOpen, id)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: load data key %d: %w", id, err)
	}
	if dk.MasterFingerprint != k.master.fp {
		return nil, fmt.Errorf("%w: data key %d is wrapped by the master key with fingerprint %s, and this process runs with %s: restart it with the current master key",
			ErrOpen, id, dk.MasterFingerprint, k.master.fp)
	}
	raw, err := k.master.unwrapKey(dk)
	if err != nil {
		return nil, err
	}
	aead, err = newGCM(raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.keys[id] = aead
	k.mu.Unlock()
	return aead, nil
}

// SealSigner seals a private key (PKCS#8) bound to ref.
func (k *Keyring) SealSigner(key crypto.Signer, ref string) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal key: %w", err)
	}
	defer clear(der)
	return k.Seal(der, keyAAD(ref))
}

// OpenSigner opens a private key sealed by SealSigner (or by the first
// format's Sealer) under ref.
func (k *Keyring) OpenSigner(ctx context.Context, sealed []byte, ref string) (crypto.Signer, error) {
	der, err := k.Open(ctx, sealed, keyAAD(ref))
	if err != nil {
		return nil, err
	}
	defer clear(der)
	return parseSigner(der)
}

func parseSigner(der []byte) (crypto.Signer, error) {
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: parse key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: key of type %T is not a signer", key)
	}
	return signer, nil
}

// Associated data of each kind of sealed value: the service seals with
// these, and rotation re-seals with them.

func keyAAD(ref string) []byte { return []byte("key:" + ref) }

// AccessKeyAAD is the associated data of AccessKey id's sealed secret.
func AccessKeyAAD(id string) []byte { return []byte("ak:" + id) }

// SecretAAD is the associated data of the server secret name.
func SecretAAD(name string) []byte { return []byte("secret:" + name) }

// AAD returns the associated data a value of kind named id is sealed with.
func AAD(kind store.SealedKind, id string) ([]byte, error) {
	switch kind {
	case store.SealedPrivateKey:
		return keyAAD(id), nil
	case store.SealedAccessKey:
		return AccessKeyAAD(id), nil
	case store.SealedSecret:
		return SecretAAD(id), nil
	}
	return nil, fmt.Errorf("keys: unknown sealed kind %v", kind)
}
