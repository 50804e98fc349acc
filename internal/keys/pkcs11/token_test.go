//go:build pkcs11 && cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/keys/pkcs11/softhsmtest"
	"github.com/pcad-dev/pcad/internal/pca"
)

// openToken opens the token label of module with the test PIN and closes
// it at the end of the test.
func openToken(t *testing.T, module, label string) *Token {
	t.Helper()
	h, err := Open(context.Background(), Config{Module: module, Token: label, PIN: softhsmtest.PIN})
	if err != nil {
		t.Fatalf("Open(%s): %v", label, err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	return h.(*Token)
}

// TestPKCS11GenerateSign generates each algorithm in the token, signs a
// certificate with it (checked by crypto/x509), finds the key again by its
// ref, and checks that the private key is sensitive, not extractable and
// cannot be marshalled or exported.
func TestPKCS11GenerateSign(t *testing.T) {
	module := softhsmtest.Setup(t, "unit")
	tok := openToken(t, module, "unit")
	ctx := context.Background()
	tests := []struct {
		alg   pca.Algorithm
		check func(crypto.PublicKey) bool
	}{
		{pca.ECC256, func(p crypto.PublicKey) bool { k, ok := p.(*ecdsa.PublicKey); return ok && k.Curve == elliptic.P256() }},
		{pca.ECC384, func(p crypto.PublicKey) bool { k, ok := p.(*ecdsa.PublicKey); return ok && k.Curve == elliptic.P384() }},
		{pca.ECC512, func(p crypto.PublicKey) bool { k, ok := p.(*ecdsa.PublicKey); return ok && k.Curve == elliptic.P521() }},
		{pca.RSA2048, func(p crypto.PublicKey) bool { k, ok := p.(*rsa.PublicKey); return ok && k.N.BitLen() == 2048 }},
		{pca.RSA4096, func(p crypto.PublicKey) bool { k, ok := p.(*rsa.PublicKey); return ok && k.N.BitLen() == 4096 }},
	}
	refs := map[string]bool{}
	for _, tc := range tests {
		t.Run(string(tc.alg), func(t *testing.T) {
			ref, s, err := tok.Generate(ctx, tc.alg, "pcad test "+string(tc.alg))
			if err != nil {
				t.Fatal(err)
			}
			if !keys.IsHSMRef(ref) || len(ref) != len(keys.HSMRefPrefix)+2*idSize || refs[ref] {
				t.Errorf("ref %q: want a fresh %s<32 hex digits>", ref, keys.HSMRefPrefix)
			}
			refs[ref] = true
			if !tc.check(s.Public()) {
				t.Fatalf("public key %T, want %s", s.Public(), tc.alg)
			}
			selfSigned(t, s)

			again, err := tok.Signer(ctx, ref)
			if err != nil {
				t.Fatalf("Signer(%s): %v", ref, err)
			}
			if !again.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(s.Public()) {
				t.Error("Signer(ref) found another key")
			}
			selfSigned(t, again)

			// The key never leaves the token: not as Go key bytes ...
			if _, err := x509.MarshalPKCS8PrivateKey(again); err == nil {
				t.Error("MarshalPKCS8PrivateKey of a token key succeeded")
			}
			if _, err := keys.EncryptPKCS8PEM(again, []byte("pw"), rand.Reader); err == nil {
				t.Error("EncryptPKCS8PEM of a token key succeeded")
			}
			// ... nor through PKCS#11: sensitive, not extractable, and its
			// secret value attribute cannot be read.
			ck := again.(*signer).s
			attrs, err := tok.c.GetAttributes(ck, []crypto11.AttributeType{p11.CKA_SENSITIVE, p11.CKA_EXTRACTABLE,
				p11.CKA_NEVER_EXTRACTABLE, p11.CKA_TOKEN, p11.CKA_PRIVATE, p11.CKA_DECRYPT, p11.CKA_UNWRAP})
			if err != nil {
				t.Fatal(err)
			}
			for typ, want := range map[crypto11.AttributeType]bool{p11.CKA_SENSITIVE: true, p11.CKA_EXTRACTABLE: false,
				p11.CKA_NEVER_EXTRACTABLE: true, p11.CKA_TOKEN: true, p11.CKA_PRIVATE: true, p11.CKA_DECRYPT: false, p11.CKA_UNWRAP: false} {
				if a := attrs[typ]; a == nil || isTrue(a.Value) != want {
					t.Errorf("attribute %#x = %v, want %v", typ, a, want)
				}
			}
			secret := uint(p11.CKA_VALUE)
			if tc.alg.Family() == pca.FamilyRSA {
				secret = p11.CKA_PRIVATE_EXPONENT
			}
			if a, err := tok.c.GetAttribute(ck, secret); err == nil && a != nil && len(a.Value) > 0 {
				t.Errorf("read the private key's secret attribute %#x from the token (%d bytes)", secret, len(a.Value))
			}
		})
	}
}

// selfSigned makes a CA certificate signed by s and checks its signature.
func selfSigned(t *testing.T, s crypto.Signer) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pkcs11 test"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		t.Fatalf("sign a certificate in the token: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatalf("signature made in the token does not verify: %v", err)
	}
}

// TestPKCS11Reopen: a key is found again by its ref after the token was
// closed and opened again (a restart, or another replica).
func TestPKCS11Reopen(t *testing.T) {
	module := softhsmtest.Setup(t, "unit")
	ctx := context.Background()
	first, err := Open(ctx, Config{Module: module, Token: "unit", PIN: softhsmtest.PIN})
	if err != nil {
		t.Fatal(err)
	}
	ref, s, err := first.Generate(ctx, pca.ECC256, "reopen")
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(*ecdsa.PublicKey)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := openToken(t, module, "unit")
	again, err := second.Signer(ctx, ref)
	if err != nil {
		t.Fatalf("Signer(%s) after reopening: %v", ref, err)
	}
	if !pub.Equal(again.Public()) {
		t.Fatal("the reopened token gives another public key")
	}
	digest := sha256.Sum256([]byte("after a restart"))
	sig, err := again.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(pub, digest[:], sig) {
		t.Fatalf("signature after reopening: %v", err)
	}
}

// TestPKCS11SignerErrors: unknown and malformed refs.
func TestPKCS11SignerErrors(t *testing.T) {
	module := softhsmtest.Setup(t, "unit")
	tok := openToken(t, module, "unit")
	ctx := context.Background()
	for _, tc := range []struct {
		name, ref string
		notFound  bool
	}{
		{"unknown-id", keys.HSMRefPrefix + strings.Repeat("ab", idSize), true},
		{"software-ref", "sw:0190", false},
		{"not-hex", keys.HSMRefPrefix + "xyz", false},
		{"empty-id", keys.HSMRefPrefix, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tok.Signer(ctx, tc.ref)
			if err == nil || s != nil || errors.Is(err, keys.ErrKeyNotFound) != tc.notFound {
				t.Fatalf("Signer(%q) = %v, %v; want an error (ErrKeyNotFound: %v)", tc.ref, s, err, tc.notFound)
			}
		})
	}
	if _, _, err := tok.Generate(ctx, pca.Algorithm("SM2_256"), "sm2"); err == nil {
		t.Error("Generate(SM2_256) succeeded")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := tok.Generate(canceled, pca.ECC256, "late"); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a canceled context: %v", err)
	}
}

// TestPKCS11OpenErrors: each way of failing to open says which.
func TestPKCS11OpenErrors(t *testing.T) {
	module := softhsmtest.Setup(t, "unit", "other")
	dir := t.TempDir()
	notLib := filepath.Join(dir, "not-a-module.so")
	if err := os.WriteFile(notLib, []byte("not a shared library"), 0o600); err != nil {
		t.Fatal(err)
	}
	pinFile := func(text string) string {
		p := filepath.Join(t.TempDir(), "pin")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const wrongPIN = "98765"
	tests := []struct {
		name    string
		cfg     Config
		is      error // nil: success
		mention []string
	}{
		{"pin-file", Config{Module: module, Token: "unit", PINFile: pinFile(softhsmtest.PIN + "\n")}, nil, nil},
		{"pin-file-crlf", Config{Module: module, Token: "unit", PINFile: pinFile(softhsmtest.PIN + "\r\nignored\n")}, nil, nil},
		{"missing-module", Config{Module: filepath.Join(dir, "nope.so"), Token: "unit", PIN: softhsmtest.PIN}, ErrModule, []string{"nope.so"}},
		{"not-a-module", Config{Module: notLib, Token: "unit", PIN: softhsmtest.PIN}, ErrModule, []string{"not-a-module.so"}},
		{"missing-token", Config{Module: module, Token: "no-such-token", PIN: softhsmtest.PIN}, ErrTokenNotFound,
			[]string{`token "no-such-token"`, `"unit"`, `"other"`}},
		{"missing-serial", Config{Module: module, Serial: "0000", PIN: softhsmtest.PIN}, ErrTokenNotFound, []string{`serial "0000"`}},
		// A token no open Token is logged in to: a process logged in to a
		// token stays logged in for every session of it.
		{"wrong-pin", Config{Module: module, Token: "other", PIN: wrongPIN}, ErrPIN, []string{`token "other"`, "wrong PIN", "CKR_PIN_INCORRECT"}},
		{"wrong-pin-file", Config{Module: module, Token: "other", PINFile: pinFile(wrongPIN)}, ErrPIN, []string{`token "other"`}},
		{"missing-pin-file", Config{Module: module, Token: "unit", PINFile: filepath.Join(dir, "no-pin")}, os.ErrNotExist, []string{"pin-file"}},
		{"empty-pin-file", Config{Module: module, Token: "unit", PINFile: pinFile("\n1234")}, nil, []string{"first line is empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Open(context.Background(), tc.cfg)
			if tc.is == nil && tc.mention == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				h.Close()
				t.Fatalf("Open(%s) succeeded", tc.cfg)
			}
			t.Log(err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want one wrapping %v", err, tc.is)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), wrongPIN) || strings.Contains(err.Error(), softhsmtest.PIN) {
				t.Errorf("error %q shows a PIN", err)
			}
		})
	}
}

// TestPKCS11ConcurrentSign signs from several goroutines at once through
// one signer (crypto11 hands each operation its own session).
func TestPKCS11ConcurrentSign(t *testing.T) {
	module := softhsmtest.Setup(t, "unit")
	tok := openToken(t, module, "unit")
	_, s, err := tok.Generate(context.Background(), pca.ECC256, "concurrent")
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(*ecdsa.PublicKey)
	var wg sync.WaitGroup
	errs := make(chan error, 8*10)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				d := sha256.Sum256([]byte{byte(g), byte(i)})
				sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
				if err != nil {
					errs <- err
					continue
				}
				if !ecdsa.VerifyASN1(pub, d[:], sig) {
					errs <- errors.New("a concurrent signature does not verify")
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
