package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	master := bytes.Repeat([]byte{7}, MasterKeySize)
	s, err := NewSealer(master, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("secret"), []byte("ak:1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("sealed value contains the clear text")
	}
	other, _ := NewSealer(bytes.Repeat([]byte{8}, MasterKeySize), rand.Reader)
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name   string
		sealer *Sealer
		value  []byte
		aad    string
		want   error
	}{
		{"ok", s, sealed, "ak:1", nil},
		{"fail/wrong aad", s, sealed, "ak:2", ErrOpen},
		{"fail/wrong master key", other, sealed, "ak:1", ErrOpen},
		{"fail/tampered", s, tampered, "ak:1", ErrOpen},
		{"fail/truncated", s, sealed[:5], "ak:1", ErrOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sealer.Open(tc.value, []byte(tc.aad))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && string(got) != "secret" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func TestSealSignerRoundTrip(t *testing.T) {
	s, _ := NewSealer(bytes.Repeat([]byte{1}, MasterKeySize), rand.Reader)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealed, err := s.SealSigner(k, "ref-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenSigner(sealed, "ref-1")
	if err != nil {
		t.Fatal(err)
	}
	if !k.PublicKey.Equal(got.Public()) {
		t.Fatal("opened key differs")
	}
	if _, err := s.OpenSigner(sealed, "ref-2"); !errors.Is(err, ErrOpen) {
		t.Fatalf("moved key opened: %v", err)
	}
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	k1, created, err := LoadOrCreateMasterKey(path, rand.Reader)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreateMasterKey(path, rand.Reader)
	if err != nil || created {
		t.Fatalf("second load: created=%v err=%v", created, err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("key changed between loads")
	}
	os.WriteFile(path, []byte("nothex"), 0o600)
	if _, _, err := LoadOrCreateMasterKey(path, rand.Reader); err == nil {
		t.Fatal("bad key file accepted")
	}
}
