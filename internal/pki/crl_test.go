package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// sliceEntries adapts a slice to WriteCRL's entries function.
func sliceEntries(es []CRLEntry) func(func(CRLEntry) error) error {
	return func(fn func(CRLEntry) error) error {
		for _, e := range es {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
}

// testEntries makes n entries with serials of varied lengths (1 to 20
// octets, some with the top bit set), times before thisUpdate and a cycle of
// reasons including 0.
func testEntries(n int, thisUpdate time.Time) []CRLEntry {
	reasons := []int{0, 1, 2, 3, 4, 5, 6, 9, 10}
	out := make([]CRLEntry, 0, n)
	seen := map[string]bool{}
	for i := 0; len(out) < n; i++ {
		b := make([]byte, 1+i%20)
		rand.Read(b)
		b[0] |= 0x01
		if i%3 == 0 {
			b[0] |= 0x80
		}
		if len(b) == 20 {
			b[0] &= 0x7f
		}
		serial := new(big.Int).SetBytes(b)
		if seen[serial.String()] {
			continue
		}
		seen[serial.String()] = true
		k := len(out)
		out = append(out, CRLEntry{Serial: serial, RevokedAt: thisUpdate.Add(-time.Duration(k+1) * time.Minute), Reason: reasons[k%len(reasons)]})
	}
	return out
}

// crlLintRegistry is zlint's CRL lints of RFC 5280 and the community.
func crlLintRegistry(t *testing.T) lint.Registry {
	t.Helper()
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280, lint.Community}})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestWriteCRL(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	reg := crlLintRegistry(t)
	if n := len(reg.RevocationListLints().Lints()); n < 10 {
		t.Fatalf("zlint has only %d CRL lints", n)
	}
	y2050 := time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		alg        pca.Algorithm
		n          int
		thisUpdate time.Time
	}{
		{name: "rsa-2048/empty", alg: pca.RSA2048, n: 0, thisUpdate: now},
		{name: "rsa-2048/one", alg: pca.RSA2048, n: 1, thisUpdate: now},
		{name: "rsa-4096/3000", alg: pca.RSA4096, n: 3000, thisUpdate: now},
		{name: "ecc-256/empty", alg: pca.ECC256, n: 0, thisUpdate: now},
		{name: "ecc-256/500", alg: pca.ECC256, n: 500, thisUpdate: now},
		{name: "ecc-384/50", alg: pca.ECC384, n: 50, thisUpdate: now},
		{name: "ecc-521/50", alg: pca.ECC512, n: 50, thisUpdate: now},
		{name: "ecc-256/across-2050", alg: pca.ECC256, n: 30, thisUpdate: y2050.Add(10 * time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := buildChain(t, now, tc.alg, tc.alg, tc.alg)
			entries := testEntries(tc.n, tc.thisUpdate)
			tmpl := CRLTemplate{Number: big.NewInt(int64(1000 + tc.n)), ThisUpdate: tc.thisUpdate, NextUpdate: tc.thisUpdate.Add(7 * 24 * time.Hour)}
			var buf bytes.Buffer
			n, err := WriteCRL(&buf, rand.Reader, tmpl, c.sub.Cert, c.subKey, sliceEntries(entries))
			if err != nil {
				t.Fatalf("WriteCRL: %v", err)
			}
			if n != int64(buf.Len()) {
				t.Errorf("returned %d, wrote %d", n, buf.Len())
			}
			checkCRL(t, buf.Bytes(), tmpl, entries, c.sub.Cert)
			lintCRL(t, reg, buf.Bytes())
			verifyCRLOpenSSL(t, buf.Bytes(), c)
			if tc.alg.Family() == pca.FamilyRSA {
				sameAsGo(t, buf.Bytes(), tmpl, entries, c)
			}
		})
	}
}

// checkCRL parses der with crypto/x509 and compares it with what was asked.
func checkCRL(t *testing.T, der []byte, tmpl CRLTemplate, entries []CRLEntry, issuer *x509.Certificate) {
	t.Helper()
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("ParseRevocationList: %v", err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		t.Fatalf("CheckSignatureFrom: %v", err)
	}
	if crl.Number.Cmp(tmpl.Number) != 0 || !crl.ThisUpdate.Equal(tmpl.ThisUpdate) || !crl.NextUpdate.Equal(tmpl.NextUpdate) {
		t.Errorf("number %v this %v next %v, want %v %v %v", crl.Number, crl.ThisUpdate, crl.NextUpdate, tmpl.Number, tmpl.ThisUpdate, tmpl.NextUpdate)
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) || !bytes.Equal(crl.AuthorityKeyId, issuer.SubjectKeyId) {
		t.Errorf("issuer or AKI differ")
	}
	if len(crl.RevokedCertificateEntries) != len(entries) {
		t.Fatalf("%d entries, want %d", len(crl.RevokedCertificateEntries), len(entries))
	}
	for i, got := range crl.RevokedCertificateEntries {
		want := entries[i]
		if got.SerialNumber.Cmp(want.Serial) != 0 || !got.RevocationTime.Equal(want.RevokedAt.Truncate(time.Second)) || got.ReasonCode != want.Reason {
			t.Fatalf("entry %d: got %x %v %d, want %x %v %d", i, got.SerialNumber, got.RevocationTime, got.ReasonCode, want.Serial, want.RevokedAt, want.Reason)
		}
		if want.Reason == 0 && len(got.Extensions) != 0 {
			t.Fatalf("entry %d: reason 0 has extensions %v", i, got.Extensions)
		}
	}
	for _, e := range crl.Extensions {
		if e.Critical {
			t.Errorf("critical CRL extension %s", e.Id)
		}
	}
}

// lintCRL runs zlint's CRL lints; a finding of Warn or worse fails.
func lintCRL(t *testing.T, reg lint.Registry, der []byte) {
	t.Helper()
	zc, err := zx509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("zcrypto ParseRevocationList: %v", err)
	}
	var bad []string
	for name, r := range zlint.LintRevocationListEx(zc, reg).Results {
		if r.Status >= lint.Warn {
			bad = append(bad, name+"="+r.Status.String()+" "+r.Details)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("zlint: %s", strings.Join(bad, "; "))
	}
}

// verifyCRLOpenSSL has openssl check the CRL's signature against the
// issuing sub-CA.
func verifyCRLOpenSSL(t *testing.T, der []byte, c chain) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Log("openssl not on PATH; skipping openssl crl")
		return
	}
	dir := t.TempDir()
	crlPath, caPath := filepath.Join(dir, "sub.crl"), filepath.Join(dir, "sub.pem")
	if err := os.WriteFile(crlPath, der, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.sub.DER}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "crl", "-inform", "DER", "-in", crlPath, "-CAfile", caPath, "-noout").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verify OK") {
		t.Errorf("openssl crl: %v: %s", err, out)
	}
}

// sameAsGo checks that, for an RSA issuer (deterministic signatures), the
// CRL is byte for byte what crypto/x509 makes from the same input.
func sameAsGo(t *testing.T, der []byte, tmpl CRLTemplate, entries []CRLEntry, c chain) {
	t.Helper()
	goTmpl := &x509.RevocationList{Number: tmpl.Number, ThisUpdate: tmpl.ThisUpdate, NextUpdate: tmpl.NextUpdate, SignatureAlgorithm: x509.SHA256WithRSA}
	for _, e := range entries {
		goTmpl.RevokedCertificateEntries = append(goTmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: e.Serial, RevocationTime: e.RevokedAt, ReasonCode: e.Reason})
	}
	want, err := x509.CreateRevocationList(rand.Reader, goTmpl, c.sub.Cert, c.subKey)
	if err != nil {
		t.Fatalf("CreateRevocationList: %v", err)
	}
	if !bytes.Equal(der, want) {
		t.Errorf("CRL differs from crypto/x509's (%d vs %d octets)", len(der), len(want))
	}
}

// countingSigner counts the signatures it makes.
type countingSigner struct {
	crypto.Signer
	calls int
}

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls++
	return s.Signer.Sign(r, digest, opts)
}

// TestWriteCRLECDSALength writes many small ECDSA CRLs: each must have the
// length WriteCRL committed to, verify, and need about one signature.
func TestWriteCRLECDSALength(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	c := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	signer := &countingSigner{Signer: c.subKey}
	const runs = 200
	for i := range runs {
		tmpl := CRLTemplate{Number: big.NewInt(int64(i)), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
		var buf bytes.Buffer
		if _, err := WriteCRL(&buf, rand.Reader, tmpl, c.sub.Cert, signer, sliceEntries(nil)); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		crl, err := x509.ParseRevocationList(buf.Bytes())
		if err != nil || crl.CheckSignatureFrom(c.sub.Cert) != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if signer.calls > runs*11/10 {
		t.Errorf("%d signatures for %d CRLs", signer.calls, runs)
	}
}

func TestFitECDSA(t *testing.T) {
	key := testKey(t, pca.ECC256).(*ecdsa.PrivateKey)
	scheme, err := schemeFor(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	want := scheme.sigLen()
	if want != 71 {
		t.Fatalf("P-256 target length %d, want 71", want)
	}
	digest := make([]byte, 32)
	fitted, other := 0, 0
	for range 400 {
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest)
		if err != nil {
			t.Fatal(err)
		}
		got := fitECDSA(sig, key.Curve.Params().N, want)
		if got == nil {
			other++
			continue
		}
		if int64(len(got)) != want || !ecdsa.VerifyASN1(&key.PublicKey, digest, got) {
			t.Fatalf("fitted signature of %d octets does not verify", len(got))
		}
		if !bytes.Equal(got, sig) {
			fitted++
		}
	}
	if fitted == 0 || other > 20 {
		t.Errorf("fitted %d, unfit %d of 400", fitted, other)
	}
	for alg, wantLen := range map[pca.Algorithm]int64{pca.ECC384: 103, pca.ECC512: 138} {
		s, _ := schemeFor(testKey(t, alg).Public())
		if got := s.sigLen(); got != wantLen {
			t.Errorf("%s target length %d, want %d", alg, got, wantLen)
		}
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteCRLRefusals(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	c := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	tmpl := CRLTemplate{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
	ok := []CRLEntry{{Serial: big.NewInt(5), RevokedAt: now.Add(-time.Hour), Reason: 1}}
	one := func(e CRLEntry) func(func(CRLEntry) error) error { return sliceEntries([]CRLEntry{e}) }
	calls := 0
	growing := func(fn func(CRLEntry) error) error {
		calls++
		for i := range calls {
			if err := fn(CRLEntry{Serial: big.NewInt(int64(i + 1)), RevokedAt: now}); err != nil {
				return err
			}
		}
		return nil
	}
	pass := 0
	resized := func(fn func(CRLEntry) error) error {
		pass++
		return fn(CRLEntry{Serial: new(big.Int).Lsh(big.NewInt(1), uint(8*pass)), RevokedAt: now})
	}
	boom := errors.New("store down")
	tests := []struct {
		name    string
		w       io.Writer
		tmpl    CRLTemplate
		issuer  *x509.Certificate
		key     crypto.Signer
		entries func(func(CRLEntry) error) error
		is      error
		substr  string
	}{
		{name: "entries-grow", entries: growing, is: ErrCRLEntriesChanged},
		{name: "entries-resize", entries: resized, is: ErrCRLEntriesChanged},
		{name: "entries-fail", entries: func(func(CRLEntry) error) error { return boom }, is: boom},
		{name: "zero-serial", entries: one(CRLEntry{Serial: big.NewInt(0), RevokedAt: now}), substr: "positive"},
		{name: "nil-serial", entries: one(CRLEntry{RevokedAt: now}), substr: "positive"},
		{name: "long-serial", entries: one(CRLEntry{Serial: new(big.Int).Lsh(big.NewInt(1), 159), RevokedAt: now}), substr: "20 octets"},
		{name: "revoked-after-this-update", entries: one(CRLEntry{Serial: big.NewInt(1), RevokedAt: now.Add(time.Second)}), substr: "after thisUpdate"},
		{name: "revoked-before-1950", entries: one(CRLEntry{Serial: big.NewInt(1), RevokedAt: time.Date(1949, 1, 1, 0, 0, 0, 0, time.UTC)}), substr: "1950"},
		{name: "reason-7", entries: one(CRLEntry{Serial: big.NewInt(1), RevokedAt: now, Reason: 7}), substr: "reason code 7"},
		{name: "reason-8", entries: one(CRLEntry{Serial: big.NewInt(1), RevokedAt: now, Reason: 8}), substr: "reason code 8"},
		{name: "reason-11", entries: one(CRLEntry{Serial: big.NewInt(1), RevokedAt: now, Reason: 11}), substr: "reason code 11"},
		{name: "nil-number", tmpl: CRLTemplate{ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, substr: "CRL number"},
		{name: "negative-number", tmpl: CRLTemplate{Number: big.NewInt(-1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, substr: "CRL number"},
		{name: "next-before-this", tmpl: CRLTemplate{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now}, substr: "after thisUpdate"},
		{name: "no-this-update", tmpl: CRLTemplate{Number: big.NewInt(1), NextUpdate: now}, substr: "after thisUpdate"},
		{name: "issuer-is-leaf", issuer: c.server.Cert, key: c.subKey, substr: "does not match"},
		{name: "wrong-key", key: c.rootKey, substr: "does not match"},
		{name: "garbage-signer", key: garbageSigner{c.subKey}, substr: "does not verify"},
		{name: "write-fails", w: &failWriter{n: 10}, substr: "disk full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, tm, issuer, key, entries := tc.w, tc.tmpl, tc.issuer, tc.key, tc.entries
			if w == nil {
				w = io.Discard
			}
			if tm.Number == nil && tm.ThisUpdate.IsZero() && tm.NextUpdate.IsZero() {
				tm = tmpl
			}
			if issuer == nil {
				issuer = c.sub.Cert
			}
			if key == nil {
				key = c.subKey
			}
			if entries == nil {
				entries = sliceEntries(ok)
			}
			_, err := WriteCRL(w, rand.Reader, tm, issuer, key, entries)
			wantErr(t, err, 0, internal)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if tc.substr != "" && !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q lacks %q", err, tc.substr)
			}
		})
	}
	// Entries that change but keep their size go undetected; the CRL then
	// lists what the second pass yielded, and is still valid.
	same := 0
	swapped := func(fn func(CRLEntry) error) error {
		same++
		return fn(CRLEntry{Serial: big.NewInt(int64(10 + same)), RevokedAt: now})
	}
	var buf bytes.Buffer
	if _, err := WriteCRL(&buf, rand.Reader, tmpl, c.sub.Cert, c.subKey, swapped); err != nil {
		t.Fatalf("same-size change: %v", err)
	}
	checkCRL(t, buf.Bytes(), tmpl, []CRLEntry{{Serial: big.NewInt(12), RevokedAt: now}}, c.sub.Cert)

	// An issuer that is a CA without cRLSign may not sign CRLs.
	leafLike := *c.sub.Cert
	leafLike.KeyUsage = x509.KeyUsageCertSign
	if _, err := WriteCRL(io.Discard, rand.Reader, tmpl, &leafLike, c.subKey, sliceEntries(ok)); err == nil || !strings.Contains(err.Error(), "CRLs") {
		t.Errorf("issuer without cRLSign: %v", err)
	}
}

// TestWriteCRLLarge writes a CRL of more than 16 MiB, whose lengths need
// four octets, and has crypto/x509 and openssl read it back.
func TestWriteCRLLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large CRL")
	}
	now := time.Now().Truncate(time.Second)
	c := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	const n = 400_000
	tmpl := CRLTemplate{Number: big.NewInt(7), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
	var buf bytes.Buffer
	size, err := WriteCRL(&buf, rand.Reader, tmpl, c.sub.Cert, c.subKey, genEntries(n, now))
	if err != nil {
		t.Fatal(err)
	}
	if size < 1<<24 || buf.Bytes()[1] != 0x84 {
		t.Fatalf("%d octets, length form %x: want more than 16 MiB", size, buf.Bytes()[1])
	}
	crl, err := x509.ParseRevocationList(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(c.sub.Cert); err != nil {
		t.Fatal(err)
	}
	if len(crl.RevokedCertificateEntries) != n {
		t.Fatalf("%d entries, want %d", len(crl.RevokedCertificateEntries), n)
	}
	var want []CRLEntry
	genEntries(n, now)(func(e CRLEntry) error {
		e.Serial = new(big.Int).Set(e.Serial)
		want = append(want, e)
		return nil
	})
	for _, i := range []int{0, 1, n / 2, n - 1} {
		got := crl.RevokedCertificateEntries[i]
		if got.SerialNumber.Cmp(want[i].Serial) != 0 || !got.RevocationTime.Equal(want[i].RevokedAt) || got.ReasonCode != want[i].Reason {
			t.Errorf("entry %d: got %x %v %d, want %x %v %d", i, got.SerialNumber, got.RevocationTime, got.ReasonCode, want[i].Serial, want[i].RevokedAt, want[i].Reason)
		}
	}
	verifyCRLOpenSSL(t, buf.Bytes(), c)

	// CreateCRL makes the same TBSCertList from the same entries.
	l := new(CRLEntries)
	if err := genEntries(n, now)(func(e CRLEntry) error { return l.Add(e.Serial.Bytes(), e.RevokedAt, e.Reason) }); err != nil {
		t.Fatal(err)
	}
	der, err := CreateCRL(rand.Reader, tmpl, c.sub.Cert, c.subKey, l)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(der)) != size {
		t.Errorf("CreateCRL made %d octets, WriteCRL %d", len(der), size)
	}
	sameTBS(t, der, buf.Bytes())
}

// listOf adds es to a CRLEntries, through Add (hex false) or AddHex.
func listOf(t *testing.T, es []CRLEntry, hex bool) *CRLEntries {
	t.Helper()
	l := new(CRLEntries)
	for i, e := range es {
		var err error
		if hex {
			err = l.AddHex(e.Serial.Text(16), e.RevokedAt, e.Reason)
		} else {
			err = l.Add(e.Serial.Bytes(), e.RevokedAt, e.Reason)
		}
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if l.Len() != int64(len(es)) {
		t.Fatalf("Len %d, want %d", l.Len(), len(es))
	}
	return l
}

// TestCreateCRL checks that CreateCRL makes the CRL WriteCRL writes: the
// same TBSCertList for every algorithm (byte for byte with RSA, whose
// signatures are deterministic), that parses, verifies and lints.
func TestCreateCRL(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	reg := crlLintRegistry(t)
	y2050 := time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		alg        pca.Algorithm
		n          int
		thisUpdate time.Time
		hex        bool
	}{
		{name: "rsa-2048/empty", alg: pca.RSA2048, n: 0, thisUpdate: now},
		{name: "rsa-2048/one", alg: pca.RSA2048, n: 1, thisUpdate: now},
		{name: "rsa-2048/300-hex", alg: pca.RSA2048, n: 300, thisUpdate: now, hex: true},
		{name: "ecc-256/empty", alg: pca.ECC256, n: 0, thisUpdate: now},
		{name: "ecc-256/500", alg: pca.ECC256, n: 500, thisUpdate: now},
		{name: "ecc-256/500-hex", alg: pca.ECC256, n: 500, thisUpdate: now, hex: true},
		{name: "ecc-384/50", alg: pca.ECC384, n: 50, thisUpdate: now},
		{name: "ecc-521/50", alg: pca.ECC512, n: 50, thisUpdate: now},
		{name: "ecc-256/across-2050", alg: pca.ECC256, n: 30, thisUpdate: y2050.Add(10 * time.Minute), hex: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := buildChain(t, now, tc.alg, tc.alg, tc.alg)
			entries := testEntries(tc.n, tc.thisUpdate)
			tmpl := CRLTemplate{Number: big.NewInt(int64(77 + tc.n)), ThisUpdate: tc.thisUpdate, NextUpdate: tc.thisUpdate.Add(7 * 24 * time.Hour)}
			der, err := CreateCRL(rand.Reader, tmpl, c.sub.Cert, c.subKey, listOf(t, entries, tc.hex))
			if err != nil {
				t.Fatalf("CreateCRL: %v", err)
			}
			checkCRL(t, der, tmpl, entries, c.sub.Cert)
			lintCRL(t, reg, der)
			verifyCRLOpenSSL(t, der, c)
			var buf bytes.Buffer
			if _, err := WriteCRL(&buf, rand.Reader, tmpl, c.sub.Cert, c.subKey, sliceEntries(entries)); err != nil {
				t.Fatalf("WriteCRL: %v", err)
			}
			sameTBS(t, der, buf.Bytes())
			if tc.alg.Family() == pca.FamilyRSA && !bytes.Equal(der, buf.Bytes()) {
				t.Errorf("RSA CRL differs from WriteCRL's (%d vs %d octets)", len(der), buf.Len())
			}
		})
	}
}

// sameTBS fails the test unless two CRLs have the same TBSCertList.
func sameTBS(t *testing.T, a, b []byte) {
	t.Helper()
	ca, err := x509.ParseRevocationList(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := x509.ParseRevocationList(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca.RawTBSRevocationList, cb.RawTBSRevocationList) {
		t.Errorf("TBSCertList differs (%d vs %d octets)", len(ca.RawTBSRevocationList), len(cb.RawTBSRevocationList))
	}
}

// TestCRLEntriesAdd checks what Add and AddHex accept, how they read a
// serial, and that a refused entry is not added.
func TestCRLEntriesAdd(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	max20 := append([]byte{0x7f}, bytes.Repeat([]byte{0xff}, 19)...)
	tests := []struct {
		name   string
		serial []byte // Add when hex is empty
		hex    string
		at     time.Time
		reason int
		want   *big.Int // the serial the CRL lists; nil: refused
		substr string
	}{
		{name: "one-octet", serial: []byte{5}, want: big.NewInt(5)},
		{name: "top-bit", serial: []byte{0x80, 1}, want: big.NewInt(0x8001)},
		{name: "leading-zeros", serial: []byte{0, 0, 0x80, 1}, want: big.NewInt(0x8001)},
		{name: "20-octets", serial: max20, want: new(big.Int).SetBytes(max20)},
		{name: "20-octets-top-bit", serial: append([]byte{0x80}, make([]byte, 19)...), substr: "20 octets"},
		{name: "21-octets", serial: append([]byte{1}, make([]byte, 20)...), substr: "20 octets"},
		{name: "zero", serial: []byte{0, 0}, substr: "positive"},
		{name: "empty", serial: []byte{}, substr: "positive"},
		{name: "hex-lower", hex: "8001", want: big.NewInt(0x8001)},
		{name: "hex-upper-odd", hex: "ABCDE", want: big.NewInt(0xabcde)},
		{name: "hex-one-digit", hex: "7", want: big.NewInt(7)},
		{name: "hex-leading-zeros", hex: "000f0", want: big.NewInt(0xf0)},
		{name: "hex-40-digits", hex: strings.Repeat("7f", 1) + strings.Repeat("ff", 19), want: new(big.Int).SetBytes(max20)},
		{name: "hex-41-digits", hex: "1" + strings.Repeat("0", 40), substr: "20 octets"},
		{name: "hex-20-octets-top-bit", hex: "8" + strings.Repeat("0", 39), substr: "20 octets"},
		{name: "hex-zero", hex: "000", substr: "positive"},
		{name: "hex-bad-digit", hex: "12g4", substr: "not hexadecimal"},
		{name: "hex-prefix", hex: "0x12", substr: "not hexadecimal"},
		{name: "before-1950", serial: []byte{1}, at: time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC), substr: "1950"},
		{name: "after-9999", serial: []byte{1}, at: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), substr: "9999"},
		{name: "reason-7", serial: []byte{1}, reason: 7, substr: "reason code 7"},
		{name: "reason-8", serial: []byte{1}, reason: 8, substr: "reason code 8"},
		{name: "reason-negative", serial: []byte{1}, reason: -1, substr: "reason code -1"},
		{name: "reason-10", serial: []byte{1}, reason: 10, want: big.NewInt(1)},
	}
	c := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	tmpl := CRLTemplate{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := new(CRLEntries)
			// A first entry, so that errors name the second.
			if err := l.Add([]byte{0x42}, now.Add(-time.Hour), 0); err != nil {
				t.Fatal(err)
			}
			at := tc.at
			if at.IsZero() {
				at = now.Add(-time.Minute)
			}
			var err error
			if tc.hex != "" {
				err = l.AddHex(tc.hex, at, tc.reason)
			} else {
				err = l.Add(tc.serial, at, tc.reason)
			}
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.substr) || !strings.HasPrefix(err.Error(), "pki: crl: entry 2: ") {
					t.Fatalf("error %v, want one about entry 2 with %q", err, tc.substr)
				}
				if l.Len() != 1 {
					t.Fatalf("Len %d after a refused entry, want 1", l.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			der, err := CreateCRL(rand.Reader, tmpl, c.sub.Cert, c.subKey, l)
			if err != nil {
				t.Fatal(err)
			}
			checkCRL(t, der, tmpl, []CRLEntry{
				{Serial: big.NewInt(0x42), RevokedAt: now.Add(-time.Hour)},
				{Serial: tc.want, RevokedAt: at, Reason: tc.reason},
			}, c.sub.Cert)
		})
	}
}

func TestCreateCRLRefusals(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	c := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	tmpl := CRLTemplate{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
	ok := new(CRLEntries)
	if err := ok.Add([]byte{5}, now, 1); err != nil {
		t.Fatal(err)
	}
	late := new(CRLEntries)
	for i, at := range []time.Time{now.Add(-time.Hour), now.Add(time.Second), now.Add(time.Hour), now, now.Add(time.Hour)} {
		if err := late.Add([]byte{byte(i + 1)}, at, 0); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		nilRand bool
		tmpl    CRLTemplate
		issuer  *x509.Certificate
		key     crypto.Signer
		entries *CRLEntries
		substr  string
	}{
		{name: "revoked-after-this-update", entries: late, substr: "entry 3: revocation time"},
		{name: "nil-entries", entries: nil, substr: "nil"},
		{name: "nil-random", nilRand: true, substr: "nil"},
		{name: "nil-number", tmpl: CRLTemplate{ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, substr: "CRL number"},
		{name: "next-before-this", tmpl: CRLTemplate{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now}, substr: "after thisUpdate"},
		{name: "issuer-is-leaf", issuer: c.server.Cert, substr: "does not match"},
		{name: "wrong-key", key: c.rootKey, substr: "does not match"},
		{name: "garbage-signer", key: garbageSigner{c.subKey}, substr: "does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = rand.Reader
			if tc.nilRand {
				r = nil
			}
			tm, issuer, key, entries := tc.tmpl, tc.issuer, tc.key, tc.entries
			if tm.Number == nil && tm.ThisUpdate.IsZero() && tm.NextUpdate.IsZero() {
				tm = tmpl
			}
			if issuer == nil {
				issuer = c.sub.Cert
			}
			if key == nil {
				key = c.subKey
			}
			if entries == nil && tc.name != "nil-entries" {
				entries = ok
			}
			der, err := CreateCRL(r, tm, issuer, key, entries)
			wantErr(t, err, 0, internal)
			if der != nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("CreateCRL = %d octets, %v; want an error with %q", len(der), err, tc.substr)
			}
		})
	}
}
