package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const testPassword = "s3cret,.+-_#"

// opensslCmd runs openssl, skipping the test when it is not installed.
func opensslCmd(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	return exec.Command("openssl", args...).CombinedOutput()
}

func spki(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// opensslSPKI returns the DER public key openssl reads from an encrypted key file.
func opensslSPKI(t *testing.T, path, password string) []byte {
	t.Helper()
	out, err := opensslCmd(t, "pkey", "-in", path, "-passin", "pass:"+password, "-pubout")
	if err != nil {
		t.Fatalf("openssl pkey -pubout: %v\n%s", err, out)
	}
	b, _ := pem.Decode(out)
	if b == nil || b.Type != "PUBLIC KEY" {
		t.Fatalf("openssl pkey -pubout: no PUBLIC KEY in\n%s", out)
	}
	return b.Bytes
}

func TestEncryptPKCS8PEM(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		key  crypto.Signer
	}{
		{"RSA 2048", rsaKey},
		{"ECDSA P-256", p256},
		{"ECDSA P-384", p384},
		{"Ed25519", edKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc, err := EncryptPKCS8PEM(tc.key, []byte(testPassword), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(enc, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")) {
				t.Fatalf("not an ENCRYPTED PRIVATE KEY block:\n%s", enc)
			}
			got, err := DecryptPKCS8PEM(enc, []byte(testPassword))
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !bytes.Equal(spki(t, got), spki(t, tc.key)) {
				t.Fatal("round trip changed the key")
			}
			if _, err := DecryptPKCS8PEM(enc, []byte("wrong")); !errors.Is(err, ErrBadPassword) {
				t.Fatalf("wrong password: err = %v, want ErrBadPassword", err)
			}

			path := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(path, enc, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := opensslCmd(t, "pkey", "-in", path, "-passin", "pass:"+testPassword, "-noout"); err != nil {
				t.Fatalf("openssl pkey: %v\n%s", err, out)
			}
			if _, err := opensslCmd(t, "pkey", "-in", path, "-passin", "pass:wrong", "-noout"); err == nil {
				t.Fatal("openssl pkey accepted a wrong password")
			}
			if !bytes.Equal(opensslSPKI(t, path, testPassword), spki(t, tc.key)) {
				t.Fatal("openssl sees a different public key")
			}
		})
	}
}

func TestEncryptPKCS8PEMFormat(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	params := func(enc []byte) (pbkdf2Params, pbes2Params) {
		b, _ := pem.Decode(enc)
		var info encryptedPrivateKeyInfo
		var scheme pbes2Params
		var kdf pbkdf2Params
		if err := unmarshalExact(b.Bytes, &info); err != nil {
			t.Fatal(err)
		}
		if err := unmarshalExact(info.EncryptionAlgorithm.Parameters.FullBytes, &scheme); err != nil {
			t.Fatal(err)
		}
		if err := unmarshalExact(scheme.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
			t.Fatal(err)
		}
		return kdf, scheme
	}
	enc1, err := EncryptPKCS8PEM(key, []byte(testPassword), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enc2, _ := EncryptPKCS8PEM(key, []byte(testPassword), rand.Reader)
	kdf, scheme := params(enc1)
	kdf2, scheme2 := params(enc2)
	checks := []struct {
		name string
		ok   bool
	}{
		{"iterations", kdf.IterationCount == PBKDF2Iterations},
		{"salt is 16 bytes", len(kdf.Salt) == 16},
		{"prf is hmacWithSHA256", kdf.PRF.Algorithm.Equal(oidHMACWithSHA256)},
		{"cipher is aes256-CBC", scheme.EncryptionScheme.Algorithm.Equal(oidAES256CBC)},
		{"fresh salt", !bytes.Equal(kdf.Salt, kdf2.Salt)},
		{"fresh IV", !bytes.Equal(scheme.EncryptionScheme.Parameters.FullBytes, scheme2.EncryptionScheme.Parameters.FullBytes)},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: failed", c.name)
		}
	}
	if _, err := EncryptPKCS8PEM(key, nil, rand.Reader); err == nil {
		t.Error("empty password accepted")
	}
}

func TestDecryptPKCS8PEMErrors(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc, err := EncryptPKCS8PEM(key, []byte(testPassword), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clearPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0}})
	tests := []struct {
		name     string
		pem      []byte
		password string
		badPW    bool // want ErrBadPassword; otherwise another error
	}{
		{"wrong password", enc, "s3cret", true},
		{"password with extra char", enc, testPassword + "!", true},
		{"empty password", enc, "", true},
		{"not PEM", []byte("hello"), testPassword, false},
		{"clear PRIVATE KEY block", clearPEM, testPassword, false},
		{"truncated", enc[:len(enc)/2], testPassword, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := DecryptPKCS8PEM(tc.pem, []byte(tc.password))
			if err == nil || k != nil {
				t.Fatalf("got key %T, err %v; want an error", k, err)
			}
			if errors.Is(err, ErrBadPassword) != tc.badPW {
				t.Fatalf("err = %v, ErrBadPassword wanted: %v", err, tc.badPW)
			}
		})
	}
}

func TestDecryptPKCS8PEMOpenSSL(t *testing.T) {
	dir := t.TempDir()
	clearKey := filepath.Join(dir, "clear.pem")
	if out, err := opensslCmd(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", clearKey); err != nil {
		t.Fatalf("openssl genpkey: %v\n%s", err, out)
	}
	tests := []struct {
		name string
		args []string // openssl arguments writing the encrypted key to "-out" path
	}{
		{"genpkey P-256 -aes256", []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:" + testPassword}},
		{"genpkey RSA -aes256", []string{"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes256", "-pass", "pass:" + testPassword}},
		{"pkcs8 aes-128-cbc hmacWithSHA1", []string{"pkcs8", "-topk8", "-in", clearKey, "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1", "-passout", "pass:" + testPassword}},
		{"pkcs8 aes-192-cbc hmacWithSHA256", []string{"pkcs8", "-topk8", "-in", clearKey, "-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA256", "-passout", "pass:" + testPassword}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i))+".pem")
			if out, err := opensslCmd(t, append(tc.args, "-out", path)...); err != nil {
				t.Fatalf("openssl: %v\n%s", err, out)
			}
			enc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			k, err := DecryptPKCS8PEM(enc, []byte(testPassword))
			if err != nil {
				t.Fatalf("decrypt: %v\n%s", err, enc)
			}
			if !bytes.Equal(spki(t, k), opensslSPKI(t, path, testPassword)) {
				t.Fatal("decrypted key differs from openssl's")
			}
			if _, err := DecryptPKCS8PEM(enc, []byte("wrong")); !errors.Is(err, ErrBadPassword) {
				t.Fatalf("wrong password: err = %v, want ErrBadPassword", err)
			}
		})
	}
}
