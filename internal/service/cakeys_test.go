package service

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// fakeHSM is a keys.HSM in memory: what the service sees of a PKCS#11
// token (internal/keys/pkcs11 has the real one, tested against SoftHSM).
type fakeHSM struct {
	mu   sync.Mutex
	keys map[string]crypto.Signer
	n    int
}

func newFakeHSM() *fakeHSM { return &fakeHSM{keys: map[string]crypto.Signer{}} }

func (h *fakeHSM) Generate(ctx context.Context, alg pca.Algorithm, label string) (string, crypto.Signer, error) {
	k, err := pki.GenerateKey(alg, rand.Reader)
	if err != nil {
		return "", nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	ref := fmt.Sprintf("%s%032x", keys.HSMRefPrefix, h.n)
	h.keys[ref] = k
	return ref, tokenKey{k}, nil
}

func (h *fakeHSM) Signer(ctx context.Context, ref string) (crypto.Signer, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k, ok := h.keys[ref]
	if !ok {
		return nil, fmt.Errorf("fake HSM: %w: %s", keys.ErrKeyNotFound, ref)
	}
	return tokenKey{k}, nil
}

func (h *fakeHSM) Close() error { return nil }

// tokenKey hides a Go private key behind crypto.Signer, as a token's
// signer does: it cannot be marshalled.
type tokenKey struct{ k crypto.Signer }

func (t tokenKey) Public() crypto.PublicKey { return t.k.Public() }
func (t tokenKey) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return t.k.Sign(r, d, o)
}

// hsmWorld is a SQLite store with an account, and a way to open services on
// it with any HSM and default key store.
type hsmWorld struct {
	st     *sqlstore.Store
	master []byte
	a      Actor
}

func newHSMWorld(t *testing.T) *hsmWorld {
	t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "pcad.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &hsmWorld{st: st, master: bytes.Repeat([]byte{7}, keys.MasterKeySize)}
	k, _, err := w.service(t, Config{}).Bootstrap(context.Background(), "hsm")
	if err != nil {
		t.Fatal(err)
	}
	w.a = Actor{AccountID: k.AccountID, PrincipalID: k.PrincipalID}
	return w
}

// service opens a Service on the world's store with cfg's HSM, CAKeyStore and clock.
func (w *hsmWorld) service(t *testing.T, cfg Config) *Service {
	t.Helper()
	cfg.Store, cfg.Keyring = w.st, testKeyring(t, w.st, w.master)
	svc, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestCAKeyStoreChoice: the server's default and each create call's
// KeyStore decide where a CA key is generated; an HSM key is not in the
// store, a software key is.
func TestCAKeyStoreChoice(t *testing.T) {
	w := newHSMWorld(t)
	ctx := context.Background()
	hsm := newFakeHSM()
	tests := []struct {
		name     string
		def      KeyStore // Config.CAKeyStore
		asked    KeyStore // the request's KeyStore
		want     KeyStore
		noHSM    bool
		errParam string // non-empty: refused with KindInvalid naming this parameter
	}{
		{"default-software", KeyStoreDefault, KeyStoreDefault, KeyStoreSoftware, false, ""},
		{"default-software-ask-hsm", KeyStoreSoftware, KeyStoreHSM, KeyStoreHSM, false, ""},
		{"default-hsm", KeyStoreHSM, KeyStoreDefault, KeyStoreHSM, false, ""},
		{"default-hsm-ask-software", KeyStoreHSM, KeyStoreSoftware, KeyStoreSoftware, false, ""},
		{"no-hsm-ask-hsm", KeyStoreDefault, KeyStoreHSM, "", true, "KeyStore"},
		{"bad-value", KeyStoreDefault, KeyStore("hsm"), "", false, "KeyStore"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{HSM: hsm, CAKeyStore: tc.def}
			if tc.noHSM {
				cfg.HSM = nil
			}
			svc := w.service(t, cfg)
			root, err := svc.CreateRootCA(ctx, w.a, RootCARequest{Subject: subject("Root " + tc.name), Years: 10, Algorithm: pca.ECC256, KeyStore: tc.asked})
			if tc.errParam != "" {
				e, ok := pca.AsError(err)
				if !ok || e.Kind != pca.KindInvalid || e.Param != tc.errParam || !strings.Contains(e.Msg, "KeyStore") {
					t.Fatalf("CreateRootCA: %v, want KindInvalid for %s", err, tc.errParam)
				}
				_, err = svc.CreateSubCA(ctx, w.a, SubCARequest{ParentIdentifier: "x", Subject: subject("Sub"), Years: 5, Algorithm: pca.ECC256, KeyStore: tc.asked})
				if e, ok := pca.AsError(err); !ok || e.Kind != pca.KindInvalid || e.Param != tc.errParam {
					t.Fatalf("CreateSubCA: %v, want KindInvalid for %s", err, tc.errParam)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sub, err := svc.CreateSubCA(ctx, w.a, SubCARequest{ParentIdentifier: root.Identifier, Subject: subject("Sub " + tc.name), Years: 5,
				Algorithm: pca.ECC256, ExtendedKeyUsages: []string{"serverAuth"}, KeyStore: tc.asked})
			if err != nil {
				t.Fatal(err)
			}
			for _, ca := range []pca.CA{root, sub} {
				if got := CAKeyStoreOf(ca); got != tc.want {
					t.Errorf("%s: key store %q, want %q (ref %s)", ca.Type, got, tc.want, ca.KeyRef)
				}
				_, err := w.st.GetKey(ctx, w.a.AccountID, ca.KeyRef)
				_, inHSM := hsm.keys[ca.KeyRef]
				if tc.want == KeyStoreHSM && (!errors.Is(err, store.ErrNotFound) || !inHSM) {
					t.Errorf("%s: HSM key %s: store GetKey err %v (want ErrNotFound), in the HSM %v", ca.Type, ca.KeyRef, err, inHSM)
				}
				if tc.want == KeyStoreSoftware && (err != nil || inHSM) {
					t.Errorf("%s: software key %s: store GetKey err %v, in the HSM %v", ca.Type, ca.KeyRef, err, inHSM)
				}
			}
		})
	}
}

// TestNewCAKeyStoreConfig: a default of HSM needs an HSM.
func TestNewCAKeyStoreConfig(t *testing.T) {
	w := newHSMWorld(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"hsm-without-hsm", Config{CAKeyStore: KeyStoreHSM}, false},
		{"unknown", Config{CAKeyStore: "CLOUD", HSM: newFakeHSM()}, false},
		{"software-without-hsm", Config{CAKeyStore: KeyStoreSoftware}, true},
		{"hsm-with-hsm", Config{CAKeyStore: KeyStoreHSM, HSM: newFakeHSM()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Store, tc.cfg.Keyring = w.st, testKeyring(t, w.st, w.master)
			_, err := New(context.Background(), tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestHSMCAIssues: a root and a sub-CA with HSM keys issue a certificate
// that verifies, sign a CRL that verifies, and restart (a new Service on
// the same store and HSM) still signs.
func TestHSMCAIssues(t *testing.T) {
	w := newHSMWorld(t)
	ctx := context.Background()
	hsm := newFakeHSM()
	svc := w.service(t, Config{HSM: hsm, CAKeyStore: KeyStoreHSM})
	root, sub := hierarchy(t, svc, w.a)
	issueAndVerify := func(t *testing.T, svc *Service) pca.Certificate {
		t.Helper()
		c, err := svc.IssueCertificate(ctx, w.a, IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeServer,
			Algorithm: pca.ECC256, Subject: pca.Subject{CommonName: "www.example.com"}, Validity: pki.Validity{Days: 1}})
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(mustParse(t, root.DER))
		inter.AddCert(mustParse(t, sub.DER))
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "www.example.com"}); err != nil {
			t.Fatalf("leaf under an HSM sub-CA does not verify: %v", err)
		}
		return c
	}
	leaf := issueAndVerify(t, svc)
	if !KeyExportable(leaf.KeyRef) {
		t.Errorf("the leaf's software key %s is not exportable", leaf.KeyRef)
	}
	der, err := svc.CRL(ctx, root.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(mustParse(t, root.DER)); err != nil {
		t.Fatalf("CRL signed by the HSM root does not verify: %v", err)
	}
	restarted := w.service(t, Config{HSM: hsm})
	if err := restarted.CheckCAKeys(ctx); err != nil {
		t.Fatalf("CheckCAKeys: %v", err)
	}
	issueAndVerify(t, restarted)
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCAKeyExportRefused: DescribeCertificatePrivateKey on a CA's
// identifier is refused, saying whether the key is in an HSM.
func TestCAKeyExportRefused(t *testing.T) {
	w := newHSMWorld(t)
	ctx := context.Background()
	svc := w.service(t, Config{HSM: newFakeHSM()})
	hsmRoot, err := svc.CreateRootCA(ctx, w.a, RootCARequest{Subject: subject("HSM Root"), Years: 10, Algorithm: pca.ECC256, KeyStore: KeyStoreHSM})
	if err != nil {
		t.Fatal(err)
	}
	swRoot, err := svc.CreateRootCA(ctx, w.a, RootCARequest{Subject: subject("SW Root"), Years: 10, Algorithm: pca.ECC256})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		id      string
		detail  string
		mention string
	}{
		{"hsm-ca", hsmRoot.Identifier, "PrivateKeyNotExportable", "HSM"},
		{"software-ca", swRoot.Identifier, "PrivateKeyNotExportable", "never exports a CA's private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.ExportPrivateKey(ctx, w.a, tc.id, "", []byte("Passw0rd"))
			e, ok := pca.AsError(err)
			if !ok || e.Kind != pca.KindState || e.Detail != tc.detail || !strings.Contains(e.Msg, tc.mention) || !strings.Contains(e.Msg, tc.id) {
				t.Fatalf("ExportPrivateKey(%s): %v, want KindState %s mentioning %q", tc.id, err, tc.detail, tc.mention)
			}
		})
	}
	// Another account's CA is not found, as before.
	_, k, err := svc.CreateAccount(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	other := Actor{AccountID: k.AccountID, PrincipalID: k.PrincipalID}
	if _, err := svc.ExportPrivateKey(ctx, other, hsmRoot.Identifier, "", []byte("Passw0rd")); pca.KindOf(err) != pca.KindNotFound {
		t.Fatalf("another account's CA: %v, want KindNotFound", err)
	}
}

// TestCheckCAKeys: the start check finds every live HSM CA key in the
// HSM, and says what is wrong otherwise.
func TestCheckCAKeys(t *testing.T) {
	w := newHSMWorld(t)
	ctx := context.Background()
	hsm := newFakeHSM()
	svc := w.service(t, Config{HSM: hsm})
	root, err := svc.CreateRootCA(ctx, w.a, RootCARequest{Subject: subject("Root"), Years: 10, Algorithm: pca.ECC256, KeyStore: KeyStoreHSM})
	if err != nil {
		t.Fatal(err)
	}
	swapped := newFakeHSM() // holds a key under root's ref, but another one
	if _, _, err := swapped.Generate(ctx, pca.ECC256, "other"); err != nil {
		t.Fatal(err)
	}
	if _, ok := swapped.keys[root.KeyRef]; !ok {
		t.Fatalf("the fake HSMs name keys differently: %s", root.KeyRef)
	}
	late := func() time.Time { return root.NotAfter.Add(time.Hour) }
	tests := []struct {
		name    string
		cfg     Config
		mention []string // empty: no error
	}{
		{"found", Config{HSM: hsm}, nil},
		{"no-hsm", Config{}, []string{"1 CA(s)", root.Identifier, root.KeyRef, "no HSM is configured"}},
		{"other-token", Config{HSM: newFakeHSM()}, []string{root.Identifier, "no such key"}},
		{"other-key", Config{HSM: swapped}, []string{root.Identifier, "not the key of the CA certificate"}},
		{"expired-is-not-checked", Config{Now: late}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := w.service(t, tc.cfg).CheckCAKeys(ctx)
			if len(tc.mention) == 0 {
				if err != nil {
					t.Fatalf("CheckCAKeys: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("CheckCAKeys succeeded")
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

// TestSignerWithoutHSM: a CA whose key is in an HSM cannot sign on a
// service without one (the admin commands' case), with an internal error
// that says why.
func TestSignerWithoutHSM(t *testing.T) {
	w := newHSMWorld(t)
	ctx := context.Background()
	root, err := w.service(t, Config{HSM: newFakeHSM()}).CreateRootCA(ctx, w.a,
		RootCARequest{Subject: subject("Root"), Years: 10, Algorithm: pca.ECC256, KeyStore: KeyStoreHSM})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.service(t, Config{}).signer(ctx, w.a.AccountID, root.KeyRef)
	if pca.KindOf(err) != pca.KindInternal || !strings.Contains(err.Error(), "no HSM configured") {
		t.Fatalf("signer: %v, want an internal error saying no HSM is configured", err)
	}
}

func TestHSMLabel(t *testing.T) {
	for _, tc := range []struct{ cn, want string }{
		{"Root", "pcad CA Root"},
		{strings.Repeat("a", 100), "pcad CA " + strings.Repeat("a", 56)},
		{strings.Repeat("é", 40), "pcad CA " + strings.Repeat("é", 28)},
	} {
		got := hsmLabel(tc.cn)
		if got != tc.want || len(got) > 64 || !utf8.ValidString(got) {
			t.Errorf("hsmLabel(%q) = %q, want %q", tc.cn, got, tc.want)
		}
	}
}
