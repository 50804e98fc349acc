package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File modes of what the client commands write.
const (
	modeKey    os.FileMode = 0o600 // private keys
	modePublic os.FileMode = 0o644 // certificates, chains, CRLs
)

// outFile is one file a command is about to write.
type outFile struct {
	Path string
	What string // "certificate", "chain", "private key", "CRL"
	Data []byte
	Mode os.FileMode
}

// checkNew fails if any path already exists and force is off, so that a
// command refuses before it calls the API, not after.
func checkNew(force bool, paths ...string) error {
	if force {
		return nil
	}
	for _, p := range paths {
		if p == "" || p == "-" {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists; not overwriting it (--force replaces it)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check %s: %w", p, err)
		}
	}
	return nil
}

// writeNew writes f.Data to f.Path with f.Mode. Without force the file must
// not exist (O_EXCL); with force it is replaced atomically (a temporary file
// renamed over it), so a key file never has a wider mode even for a moment.
func writeNew(f outFile, force bool) error {
	if dir := filepath.Dir(f.Path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	if !force {
		fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.Mode)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists; not overwriting it (--force replaces it)", f.Path)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		if _, err := fh.Write(f.Data); err != nil {
			fh.Close()
			os.Remove(f.Path)
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		if err := fh.Close(); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".pcad-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(f.Mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	if _, err := tmp.Write(f.Data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	return nil
}

// writeAll writes files in order (the private key first, so a certificate
// file never exists without its key) and returns what was written.
func writeAll(files []outFile, force bool) ([]outFile, error) {
	var done []outFile
	for _, f := range files {
		if err := writeNew(f, force); err != nil {
			return done, err
		}
		done = append(done, f)
	}
	return done, nil
}

// fileBase turns a name (a common name, an identifier) into a file name
// stem: characters other than letters, digits, ".", "-" and "_" become "_",
// and a leading "*." becomes "wildcard.".
func fileBase(name string) string {
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		name = "wildcard." + rest
	}
	b := []byte(name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	s := strings.Trim(string(b), ".")
	if s == "" {
		s = "cert"
	}
	return s
}

// newKey generates a private key for an API algorithm name.
func newKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "RSA_2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "RSA_4096":
		return rsa.GenerateKey(rand.Reader, 4096)
	case "ECC_256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ECC_384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ECC_512":
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	}
	return nil, fmt.Errorf("--alg %q: want RSA_2048, RSA_4096, ECC_256, ECC_384 or ECC_512", alg)
}

// keyPEM returns key as an unencrypted PKCS#8 "PRIVATE KEY" PEM block.
func keyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
