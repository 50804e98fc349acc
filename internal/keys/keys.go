// Package keys protects secrets and private keys held by the service.
//
// Values (private keys as PKCS#8, AccessKey secrets, server secrets) are
// sealed with AES-256-GCM under data keys: random 32-byte keys stored in the
// store wrapped (AES-256-GCM) under a 32-byte master key that the store
// never sees (Keyring). RotateMasterKey re-wraps every data key under a new
// master key. Values sealed directly under the master key by earlier
// versions (Sealer, the first format) still open, and rotation re-seals them
// under a data key.
//
// Private keys come back only as crypto.Signer values; nothing here hands
// out clear key bytes except EncryptPKCS8PEM, which exists for the one
// export use case.
package keys

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pcad-dev/pcad/internal/store"
)

// MasterKeySize is the size of the master key in bytes.
const MasterKeySize = 32

// sealVersion prefixes every value a Sealer seals (formatMaster).
const sealVersion = formatMaster

// ErrOpen is returned (or wrapped) when a sealed value does not open: wrong
// key, wrong associated data (the value was moved to another record), or
// tampering.
var ErrOpen = errors.New("keys: sealed value does not open")

// Sealer encrypts and authenticates small values directly under the master
// key: the first format, which a Keyring still opens. New values are sealed
// by a Keyring. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
	rand io.Reader
}

// NewSealer returns a Sealer using master (32 bytes) and nonces from r.
func NewSealer(master []byte, r io.Reader) (*Sealer, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("keys: master key must be %d bytes, got %d", MasterKeySize, len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return &Sealer{aead: aead, rand: r}, nil
}

// Seal encrypts plaintext, binding it to aad (for example the record's id,
// so a sealed value cannot be moved to another record).
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(s.rand, out[1:]); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, aad), nil
}

// Open decrypts a value made by Seal with the same aad, or returns ErrOpen.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrOpen
	}
	pt, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// SealSigner seals a private key (PKCS#8) bound to ref.
func (s *Sealer) SealSigner(key crypto.Signer, ref string) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal key: %w", err)
	}
	defer clear(der)
	return s.Seal(der, keyAAD(ref))
}

// OpenSigner opens a private key sealed by SealSigner under ref.
func (s *Sealer) OpenSigner(sealed []byte, ref string) (crypto.Signer, error) {
	der, err := s.Open(sealed, keyAAD(ref))
	if err != nil {
		return nil, err
	}
	defer clear(der)
	return parseSigner(der)
}

// LoadOrCreateMasterKey reads the hex master key at path, creating it with
// mode 0600 from r when the file does not exist. created reports a new key.
func LoadOrCreateMasterKey(path string, r io.Reader) (key []byte, created bool, err error) {
	key, err = LoadMasterKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	key, err = CreateMasterKeyFile(path, r)
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// LoadMasterKeyFile reads the master key (64 hex digits) in the file path.
// A missing file gives an error wrapping os.ErrNotExist.
func LoadMasterKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read master key: %w", err)
	}
	defer clear(b)
	key, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	return key, nil
}

// CreateMasterKeyFile generates a master key from r and writes it in hex to
// the new file path (mode 0600, synced; the directory is created 0700). An
// existing file is an error wrapping os.ErrExist: a key is never overwritten.
func CreateMasterKeyFile(path string, r io.Reader) ([]byte, error) {
	key := make([]byte, MasterKeySize)
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, fmt.Errorf("keys: generate master key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keys: create master key: %w", err)
	}
	if err := writeKeyFile(f, key); err != nil {
		os.Remove(path)
		return nil, err
	}
	return key, nil
}

// ReplaceMasterKeyFile writes key in hex to path atomically, replacing the
// file there: a temporary file beside it (mode 0600) is written and synced,
// renamed over path, and the directory is synced. A crash leaves either the
// old file or the new one, never a mix.
func ReplaceMasterKeyFile(path string, key []byte) error {
	if len(key) != MasterKeySize {
		return fmt.Errorf("keys: master key must be %d bytes, got %d", MasterKeySize, len(key))
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("keys: replace master key: %w", err)
	}
	tmp := f.Name()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("keys: replace master key: %w", err)
	}
	if err := writeKeyFile(f, key); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keys: replace master key: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("keys: replace master key: sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("keys: replace master key: sync directory: %w", err)
	}
	return nil
}

// writeKeyFile writes key in hex to f, syncs and closes it.
func writeKeyFile(f *os.File, key []byte) error {
	text := []byte(hex.EncodeToString(key) + "\n")
	defer clear(text)
	if _, err := f.Write(text); err != nil {
		f.Close()
		return fmt.Errorf("keys: write master key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keys: write master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keys: write master key: %w", err)
	}
	return nil
}

// HoldsSealedData reports whether the store keeps anything a master key
// protects: a data key or a sealed value. A store that does not is fresh,
// and any master key suits it.
func HoldsSealedData(ctx context.Context, st store.DataKeyStore) (bool, error) {
	dks, err := st.ListDataKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("keys: load data keys: %w", err)
	}
	if len(dks) > 0 {
		return true, nil
	}
	for _, kind := range store.SealedKinds {
		vs, err := st.ListSealedValues(ctx, kind, "", 1)
		if err != nil {
			return false, fmt.Errorf("keys: list %ss: %w", kind, err)
		}
		if len(vs) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// ParseMasterKey decodes a master key given as 64 hex digits.
func ParseMasterKey(s string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != MasterKeySize {
		return nil, fmt.Errorf("master key must be %d hex digits", 2*MasterKeySize)
	}
	return key, nil
}
