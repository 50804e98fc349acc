// Package keys protects secrets and private keys held by the service.
//
// A Sealer encrypts small values with AES-256-GCM under a 32-byte master key.
// Private keys are sealed as PKCS#8 and come back only as crypto.Signer
// values; nothing here hands out clear key bytes except EncryptPKCS8PEM, which
// exists for the one export use case.
package keys

import (
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
)

// MasterKeySize is the size of the master key in bytes.
const MasterKeySize = 32

// sealVersion prefixes every sealed value so the format can evolve.
const sealVersion = 1

// ErrOpen is returned when a sealed value does not open: wrong master key,
// wrong associated data, or tampering.
var ErrOpen = errors.New("keys: sealed value does not open under this master key")

// Sealer encrypts and authenticates small values. It is safe for concurrent use.
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
	return s.Seal(der, []byte("key:"+ref))
}

// OpenSigner opens a private key sealed by SealSigner under ref.
func (s *Sealer) OpenSigner(sealed []byte, ref string) (crypto.Signer, error) {
	der, err := s.Open(sealed, []byte("key:"+ref))
	if err != nil {
		return nil, err
	}
	defer clear(der)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: parse key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: key of type %T is not a signer", k)
	}
	return signer, nil
}

// LoadOrCreateMasterKey reads the hex master key at path, creating it with
// mode 0600 from r when the file does not exist. created reports a new key.
func LoadOrCreateMasterKey(path string, r io.Reader) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseMasterKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("keys: %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("keys: read master key: %w", err)
	}
	key = make([]byte, MasterKeySize)
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, false, fmt.Errorf("keys: generate master key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("keys: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("keys: create master key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("keys: write master key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("keys: write master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("keys: write master key: %w", err)
	}
	return key, true, nil
}

// ParseMasterKey decodes a master key given as 64 hex digits.
func ParseMasterKey(s string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != MasterKeySize {
		return nil, fmt.Errorf("master key must be %d hex digits", 2*MasterKeySize)
	}
	return key, nil
}
