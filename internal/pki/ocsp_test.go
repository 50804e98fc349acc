package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
	"golang.org/x/crypto/ocsp"
)

// ocspChain is root -> sub-CA without EKU restriction -> client leaf, plus a
// delegated responder issued by the sub-CA.
type ocspChain struct {
	root, sub, leaf, responder *Issued
	rootKey, subKey, respKey   crypto.Signer
}

func newOCSPChain(t *testing.T, now time.Time, alg pca.Algorithm) ocspChain {
	t.Helper()
	var c ocspChain
	var err error
	c.rootKey, c.subKey, c.respKey = testKey(t, alg), testKey(t, alg), testKey(t, alg)
	start := now.Add(-time.Hour).Truncate(time.Second)
	if c.root, err = NewRoot(rand.Reader, RootRequest{Subject: pca.Subject{CommonName: "OCSP Root"}, NotBefore: start, NotAfter: start.AddDate(10, 0, 0), Serial: mustSerial(t)}, c.rootKey); err != nil {
		t.Fatal(err)
	}
	if c.sub, err = NewSubCA(rand.Reader, SubCARequest{Subject: pca.Subject{CommonName: "OCSP Sub"}, NotBefore: start, NotAfter: start.AddDate(5, 0, 0),
		Serial: mustSerial(t), PublicKey: c.subKey.Public()}, c.root.Cert, c.rootKey); err != nil {
		t.Fatal(err)
	}
	if c.leaf, err = NewLeaf(rand.Reader, LeafRequest{Profile: ProfileClient, Subject: pca.Subject{CommonName: "leaf"}, NotBefore: start,
		NotAfter: start.AddDate(0, 0, 30), Serial: mustSerial(t), PublicKey: testKey(t, alg).Public()}, c.sub.Cert, c.subKey); err != nil {
		t.Fatal(err)
	}
	if c.responder, err = NewOCSPResponder(rand.Reader, pca.Subject{CommonName: "OCSP Responder"}, start, start.AddDate(0, 0, 30),
		mustSerial(t), c.respKey.Public(), c.sub.Cert, c.subKey); err != nil {
		t.Fatalf("NewOCSPResponder: %v", err)
	}
	return c
}

// ocspRequest makes a DER request for leaf with crypto/ocsp and adds the
// given request extensions (and, with two, a second copy of the request).
func ocspRequest(t *testing.T, leaf, issuer *x509.Certificate, h crypto.Hash, twice bool, exts ...pkix.Extension) []byte {
	t.Helper()
	der, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		TBS struct{ RequestList []asn1.RawValue }
	}
	if _, err := asn1.Unmarshal(der, &in); err != nil {
		t.Fatal(err)
	}
	var out struct {
		TBS struct {
			RequestList []asn1.RawValue
			Extensions  []pkix.Extension `asn1:"explicit,tag:2,optional"`
		}
	}
	out.TBS.RequestList = in.TBS.RequestList
	if twice {
		out.TBS.RequestList = append(out.TBS.RequestList, in.TBS.RequestList...)
	}
	out.TBS.Extensions = exts
	if der, err = asn1.Marshal(out); err != nil {
		t.Fatal(err)
	}
	return der
}

func nonceExt(t *testing.T, nonce []byte) pkix.Extension {
	t.Helper()
	v, err := asn1.Marshal(nonce)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: OIDOCSPNonce, Value: v}
}

func TestParseOCSPRequest(t *testing.T) {
	c := newOCSPChain(t, time.Now(), pca.ECC256)
	leaf, sub := c.leaf.Cert, c.sub.Cert
	nonce := bytes.Repeat([]byte{0xab}, 16)
	plain := ocspRequest(t, leaf, sub, crypto.SHA1, false)
	var signed []byte
	{ // add an optionalSignature [0] to the outer SEQUENCE
		var in struct{ TBS asn1.RawValue }
		if _, err := asn1.Unmarshal(plain, &in); err != nil {
			t.Fatal(err)
		}
		der, err := asn1.Marshal(struct{ TBS, Sig asn1.RawValue }{in.TBS,
			asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: []byte{0x30, 0x02, 0x05, 0x00}}})
		if err != nil {
			t.Fatal(err)
		}
		signed = der
	}
	tests := []struct {
		name      string
		der       []byte
		wantNonce []byte
		kind      pca.Kind
	}{
		{name: "ok/plain-sha1", der: plain},
		{name: "ok/sha256-with-nonce", der: ocspRequest(t, leaf, sub, crypto.SHA256, false, nonceExt(t, nonce)), wantNonce: nonce},
		{name: "ok/critical-nonce", der: ocspRequest(t, leaf, sub, crypto.SHA1, false, pkix.Extension{Id: OIDOCSPNonce, Critical: true, Value: nonceExt(t, []byte{1}).Value}), wantNonce: []byte{1}},
		{name: "ok/long-nonce-ignored", der: ocspRequest(t, leaf, sub, crypto.SHA1, false, nonceExt(t, bytes.Repeat([]byte{1}, 33)))},
		{name: "ok/raw-nonce-ignored", der: ocspRequest(t, leaf, sub, crypto.SHA1, false, pkix.Extension{Id: OIDOCSPNonce, Value: nonce})},
		{name: "ok/other-extension", der: ocspRequest(t, leaf, sub, crypto.SHA1, false, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 4}, Value: []byte{0x30, 0}})},
		{name: "fail/empty", kind: pca.KindMissing},
		{name: "fail/garbage", der: []byte("GET / HTTP/1.1"), kind: pca.KindInvalid},
		{name: "fail/too-large", der: make([]byte, MaxOCSPRequestSize+1), kind: pca.KindInvalid},
		{name: "fail/two-certificates", der: ocspRequest(t, leaf, sub, crypto.SHA1, true), kind: pca.KindInvalid},
		{name: "fail/critical-unknown-extension", der: ocspRequest(t, leaf, sub, crypto.SHA1, false, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte{5, 0}}), kind: pca.KindInvalid},
		{name: "fail/two-nonces", der: ocspRequest(t, leaf, sub, crypto.SHA1, false, nonceExt(t, nonce), nonceExt(t, nonce)), kind: pca.KindInvalid},
		{name: "fail/signed", der: signed, kind: pca.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, gotNonce, err := ParseOCSPRequest(tc.der)
			if tc.kind != 0 {
				wantErr(t, err, tc.kind, "OCSPRequest")
				return
			}
			wantErr(t, err, 0, "")
			if req.SerialNumber.Cmp(leaf.SerialNumber) != 0 || !OCSPRequestFor(req, sub) || OCSPRequestFor(req, c.root.Cert) {
				t.Errorf("request %+v does not name the leaf under the sub-CA", req)
			}
			if !bytes.Equal(gotNonce, tc.wantNonce) {
				t.Errorf("nonce %x, want %x", gotNonce, tc.wantNonce)
			}
		})
	}
}

// responseExtensions reads the responseExtensions of a DER OCSP response.
func responseExtensions(t *testing.T, der []byte) []pkix.Extension {
	t.Helper()
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct{ TBS asn1.RawValue }
	var data struct {
		ResponderID asn1.RawValue
		ProducedAt  time.Time `asn1:"generalized"`
		Responses   asn1.RawValue
		Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(basic.TBS.FullBytes, &data); err != nil {
		t.Fatal(err)
	}
	return data.Extensions
}

func TestOCSPResponse(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280, lint.RFC6960, lint.CABFBaselineRequirements, lint.Community}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(reg.OcspResponseLints().Lints()); n < 3 {
		t.Fatalf("zlint has only %d OCSP lints", n)
	}
	nonce := []byte("0123456789abcdef")
	for _, alg := range []pca.Algorithm{pca.RSA2048, pca.ECC384} {
		c := newOCSPChain(t, now, alg)
		for _, delegated := range []bool{false, true} {
			responder, signer := c.sub.Cert, c.subKey
			if delegated {
				responder, signer = c.responder.Cert, c.respKey
			}
			for _, tc := range []struct {
				name   string
				answer OCSPAnswer
				nonce  []byte
			}{
				{name: "good", answer: OCSPAnswer{Status: OCSPGood}, nonce: nonce},
				{name: "good-sha256-no-nonce", answer: OCSPAnswer{Status: OCSPGood, Hash: crypto.SHA256}},
				{name: "revoked-key-compromise", answer: OCSPAnswer{Status: OCSPRevoked, RevokedAt: now.Add(-30 * time.Minute), Reason: 1}, nonce: nonce},
				{name: "revoked-no-reason", answer: OCSPAnswer{Status: OCSPRevoked, RevokedAt: now.Add(-30 * time.Minute)}},
				{name: "unknown", answer: OCSPAnswer{Status: OCSPUnknown}, nonce: []byte{7}},
			} {
				name := fmt.Sprintf("%s/delegated=%v/%s", alg, delegated, tc.name)
				t.Run(name, func(t *testing.T) {
					a := tc.answer
					a.Serial, a.ThisUpdate, a.NextUpdate, a.ProducedAt = c.leaf.Cert.SerialNumber, now.Add(-time.Minute), now.Add(time.Hour), now
					der, err := OCSPResponse(rand.Reader, a, c.sub.Cert, responder, signer, tc.nonce)
					if err != nil {
						t.Fatalf("OCSPResponse: %v", err)
					}
					resp, err := ocsp.ParseResponseForCert(der, c.leaf.Cert, c.sub.Cert)
					if err != nil {
						t.Fatalf("ParseResponseForCert: %v", err)
					}
					if resp.Status != int(a.Status) || resp.SerialNumber.Cmp(a.Serial) != 0 || !resp.ThisUpdate.Equal(a.ThisUpdate) ||
						!resp.NextUpdate.Equal(a.NextUpdate) || !resp.ProducedAt.Equal(now) {
						t.Errorf("got status %d serial %x times %v %v %v", resp.Status, resp.SerialNumber, resp.ThisUpdate, resp.NextUpdate, resp.ProducedAt)
					}
					if a.Status == OCSPRevoked && (!resp.RevokedAt.Equal(a.RevokedAt) || resp.RevocationReason != a.Reason) {
						t.Errorf("revoked at %v reason %d, want %v %d", resp.RevokedAt, resp.RevocationReason, a.RevokedAt, a.Reason)
					}
					wantHash := a.Hash
					if wantHash == 0 {
						wantHash = crypto.SHA1
					}
					if resp.IssuerHash != wantHash {
						t.Errorf("CertID hash %v, want %v", resp.IssuerHash, wantHash)
					}
					if delegated != (resp.Certificate != nil) || delegated && !resp.Certificate.Equal(c.responder.Cert) {
						t.Errorf("embedded certificate %v, delegated %v", resp.Certificate != nil, delegated)
					}
					exts := responseExtensions(t, der)
					if tc.nonce == nil && len(exts) != 0 {
						t.Errorf("extensions %v without a nonce", exts)
					}
					if tc.nonce != nil {
						var got []byte
						if len(exts) != 1 || !exts[0].Id.Equal(OIDOCSPNonce) || exts[0].Critical {
							t.Fatalf("extensions %v, want one non-critical nonce", exts)
						}
						if _, err := asn1.Unmarshal(exts[0].Value, &got); err != nil || !bytes.Equal(got, tc.nonce) {
							t.Errorf("nonce %x (%v), want %x", got, err, tc.nonce)
						}
					}
					var bad []string
					for n, r := range zlint.LintOcspResponseEx(resp, reg).Results {
						if r.Status >= lint.Warn {
							bad = append(bad, n+"="+r.Status.String()+" "+r.Details)
						}
					}
					sort.Strings(bad)
					if len(bad) > 0 {
						t.Errorf("zlint: %s", strings.Join(bad, "; "))
					}
					var reqExts []pkix.Extension
					if tc.nonce != nil {
						reqExts = append(reqExts, nonceExt(t, tc.nonce))
					}
					verifyOCSPOpenSSL(t, c, ocspRequest(t, c.leaf.Cert, c.sub.Cert, wantHash, false, reqExts...), der, a.Status)
				})
			}
		}
	}
}

// verifyOCSPOpenSSL has openssl ocsp check a response against its request:
// signature and responder authorisation, nonce, CertID and status.
func verifyOCSPOpenSSL(t *testing.T, c ocspChain, reqDER, respDER []byte, status OCSPStatus) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Log("openssl not on PATH; skipping openssl ocsp")
		return
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pemOf := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }
	args := []string{"ocsp", "-reqin", write("req.der", reqDER), "-respin", write("resp.der", respDER),
		"-CAfile", write("root.pem", pemOf(c.root.DER)), "-verify_other", write("sub.pem", pemOf(c.sub.DER)),
		"-issuer", filepath.Join(dir, "sub.pem"), "-resp_text"}
	out, err := exec.Command(bin, args...).CombinedOutput()
	want := map[OCSPStatus]string{OCSPGood: "Cert Status: good", OCSPRevoked: "Cert Status: revoked", OCSPUnknown: "Cert Status: unknown"}[status]
	if err != nil || !strings.Contains(string(out), "Response verify OK") || !strings.Contains(string(out), want) ||
		strings.Contains(string(out), "WARNING") || strings.Contains(string(out), "rror") {
		t.Errorf("openssl %s: %v:\n%s", strings.Join(args, " "), err, out)
	}
}

func TestOCSPResponseRefusals(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	c := newOCSPChain(t, now, pca.ECC256)
	other := newOCSPChain(t, now, pca.ECC256)
	good := OCSPAnswer{Status: OCSPGood, Serial: big.NewInt(9), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
	with := func(f func(*OCSPAnswer)) OCSPAnswer { a := good; f(&a); return a }
	clientKey := testKey(t, pca.ECC256)
	client, err := NewLeaf(rand.Reader, LeafRequest{Profile: ProfileClient, Subject: pca.Subject{CommonName: "not a responder"}, NotBefore: now.Add(-time.Minute),
		NotAfter: now.AddDate(0, 0, 10), Serial: big.NewInt(99), PublicKey: clientKey.Public()}, c.sub.Cert, c.subKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		answer    OCSPAnswer
		issuer    *x509.Certificate
		responder *x509.Certificate
		signer    crypto.Signer
		nonce     []byte
		substr    string
	}{
		{name: "signer-mismatch", answer: good, signer: c.rootKey, substr: "does not match"},
		{name: "delegated-without-eku", answer: good, responder: client.Cert, signer: clientKey, substr: "OCSPSigning"},
		{name: "delegated-by-other-ca", answer: good, responder: other.responder.Cert, signer: other.respKey, substr: "not signed by the issuer"},
		{name: "delegated-expired", answer: with(func(a *OCSPAnswer) { a.ThisUpdate = now.AddDate(0, 2, 0); a.NextUpdate = a.ThisUpdate.Add(time.Hour) }),
			responder: c.responder.Cert, signer: c.respKey, substr: "not valid at"},
		{name: "issuer-not-ca", answer: good, issuer: client.Cert, responder: client.Cert, signer: clientKey, substr: "not a CA"},
		{name: "nil-serial", answer: with(func(a *OCSPAnswer) { a.Serial = nil }), substr: "serial"},
		{name: "no-this-update", answer: with(func(a *OCSPAnswer) { a.ThisUpdate = time.Time{} }), substr: "thisUpdate is required"},
		{name: "next-before-this", answer: with(func(a *OCSPAnswer) { a.NextUpdate = now.Add(-time.Second) }), substr: "nextUpdate"},
		{name: "produced-before-this", answer: with(func(a *OCSPAnswer) { a.ProducedAt = now.Add(-time.Second) }), substr: "producedAt"},
		{name: "revoked-without-time", answer: with(func(a *OCSPAnswer) { a.Status = OCSPRevoked }), substr: "revocation time"},
		{name: "revoked-after-this-update", answer: with(func(a *OCSPAnswer) { a.Status, a.RevokedAt = OCSPRevoked, now.Add(time.Second) }), substr: "revocation time"},
		{name: "reason-7", answer: with(func(a *OCSPAnswer) { a.Status, a.RevokedAt, a.Reason = OCSPRevoked, now, 7 }), substr: "reason code 7"},
		{name: "bad-status", answer: with(func(a *OCSPAnswer) { a.Status = 5 }), substr: "unknown status"},
		{name: "md5-cert-id", answer: with(func(a *OCSPAnswer) { a.Hash = crypto.MD5 }), substr: "CertID hash"},
		{name: "long-nonce", answer: good, nonce: make([]byte, MaxNonce+1), substr: "nonce"},
		{name: "garbage-signer", answer: good, signer: garbageSigner{c.subKey}, substr: "does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			issuer, responder, signer := tc.issuer, tc.responder, tc.signer
			if issuer == nil {
				issuer = c.sub.Cert
			}
			if responder == nil {
				responder = issuer
			}
			if signer == nil {
				signer = c.subKey
			}
			der, err := OCSPResponse(rand.Reader, tc.answer, issuer, responder, signer, tc.nonce)
			wantErr(t, err, 0, internal)
			if der != nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q lacks %q", err, tc.substr)
			}
		})
	}
}

func TestNewOCSPResponder(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	c := newOCSPChain(t, now, pca.ECC256)
	r := c.responder.Cert
	if r.IsCA || r.KeyUsage != x509.KeyUsageDigitalSignature || len(r.ExtKeyUsage) != 1 || r.ExtKeyUsage[0] != x509.ExtKeyUsageOCSPSigning ||
		len(r.CRLDistributionPoints)+len(r.OCSPServer)+len(r.IssuingCertificateURL) != 0 {
		t.Errorf("responder: IsCA %v KU %b EKU %v URLs %q %q", r.IsCA, r.KeyUsage, r.ExtKeyUsage, r.CRLDistributionPoints, r.OCSPServer)
	}
	found := false
	for _, e := range r.Extensions {
		if e.Id.Equal(oidOCSPNoCheck) {
			found = !e.Critical && bytes.Equal(e.Value, []byte{5, 0})
		}
	}
	if !found {
		t.Error("no non-critical id-pkix-ocsp-nocheck with a NULL value")
	}
	lintCert(t, "ocsp-responder", c.responder.DER)

	restricted := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256) // sub-CA limited to serverAuth, clientAuth
	k := testKey(t, pca.ECC256).Public()
	start := c.sub.Cert.NotBefore
	tests := []struct {
		name   string
		issue  func() (*Issued, error)
		kind   pca.Kind
		param  string
		substr string
	}{
		{name: "ok/90-days", issue: func() (*Issued, error) {
			return NewOCSPResponder(rand.Reader, pca.Subject{CommonName: "r"}, start, start.AddDate(0, 0, 90), big.NewInt(5), k, c.sub.Cert, c.subKey)
		}},
		{name: "fail/91-days", param: internal, substr: "longer than 90 days", issue: func() (*Issued, error) {
			return NewOCSPResponder(rand.Reader, pca.Subject{CommonName: "r"}, start, start.AddDate(0, 0, 91), big.NewInt(5), k, c.sub.Cert, c.subKey)
		}},
		{name: "fail/eku-restricted-issuer", param: internal, substr: "OCSPSigning", issue: func() (*Issued, error) {
			s := restricted.sub.Cert.NotBefore
			return NewOCSPResponder(rand.Reader, pca.Subject{CommonName: "r"}, s, s.AddDate(0, 0, 30), big.NewInt(5), k, restricted.sub.Cert, restricted.subKey)
		}},
		{name: "fail/before-issuer", param: internal, substr: "outside the issuer", issue: func() (*Issued, error) {
			return NewOCSPResponder(rand.Reader, pca.Subject{CommonName: "r"}, start.Add(-time.Hour), start.AddDate(0, 0, 30), big.NewInt(5), k, c.sub.Cert, c.subKey)
		}},
		{name: "fail/no-common-name", kind: pca.KindMissing, param: "CommonName", issue: func() (*Issued, error) {
			return NewOCSPResponder(rand.Reader, pca.Subject{}, start, start.AddDate(0, 0, 30), big.NewInt(5), k, c.sub.Cert, c.subKey)
		}},
		{name: "fail/rsa-key-under-ecc", kind: pca.KindInvalid, param: "Algorithm", issue: func() (*Issued, error) {
			return NewOCSPResponder(rand.Reader, pca.Subject{CommonName: "r"}, start, start.AddDate(0, 0, 30), big.NewInt(5), testKey(t, pca.RSA2048).Public(), c.sub.Cert, c.subKey)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			is, err := tc.issue()
			wantErr(t, err, tc.kind, tc.param)
			if tc.substr != "" && !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q lacks %q", err, tc.substr)
			}
			if tc.param == "" && is == nil {
				t.Fatal("no certificate")
			}
		})
	}
}
