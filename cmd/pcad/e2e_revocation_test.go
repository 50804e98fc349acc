package main

// Revocation that clients can check: the served CRL, the OCSP responder,
// CA revocation, outside judges (openssl, zlint) and a real mTLS handshake.

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
	"golang.org/x/crypto/ocsp"

	"github.com/pcad-dev/pcad/internal/keys"
)

// revFixture is a root, a sub-CA publishing a CRL, and helpers around them.
type revFixture struct {
	ts        *testServer
	c         *openapiclient.Client
	root, sub ca
	dir       string
}

func newRevFixture(t *testing.T) *revFixture {
	t.Helper()
	ts := startServer(t, 0)
	c := ts.client(t, "v3")
	root := createRoot(t, c, "ECC_256", nil)
	sub := createSub(t, c, root.ID, "ECC_256", map[string]string{"EnableCrl": "true", "CrlDay": "7",
		"ExtendedKeyUsages.1": "serverAuth", "ExtendedKeyUsages.2": "clientAuth"})
	return &revFixture{ts: ts, c: c, root: root, sub: sub, dir: t.TempDir()}
}

// issue makes a certificate with the service-generated key and returns its
// identifier and parsed certificate.
func (f *revFixture) issue(t *testing.T, action string, over map[string]string) (string, *x509.Certificate) {
	t.Helper()
	params := serverParams(f.sub.ID)
	if action == "CreateClientCertificate" {
		params = clientParams(f.sub.ID)
	}
	b := mustCall(t, f.c, action, with(params, over))
	return jStr(t, b, "Identifier"), parsePEM(t, jStr(t, b, "X509Certificate"))
}

func (f *revFixture) file(t *testing.T, name string, blocks ...*x509.Certificate) string {
	t.Helper()
	var buf bytes.Buffer
	for _, c := range blocks {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return b
}

// fetchCRL downloads and checks the CRL named by cert's distribution point.
func fetchCRL(t *testing.T, cert, issuer *x509.Certificate) *x509.RevocationList {
	t.Helper()
	if len(cert.CRLDistributionPoints) != 1 {
		t.Fatalf("certificate has CRL distribution points %v", cert.CRLDistributionPoints)
	}
	crl, err := x509.ParseRevocationList(httpGet(t, cert.CRLDistributionPoints[0]))
	if err != nil {
		t.Fatalf("served CRL does not parse: %v", err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		t.Fatalf("served CRL signature: %v", err)
	}
	return crl
}

func onCRL(crl *x509.RevocationList, serial *big.Int) bool {
	return slices.ContainsFunc(crl.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool { return e.SerialNumber.Cmp(serial) == 0 })
}

func openssl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func TestRevocationURLsInCertificates(t *testing.T) {
	f := newRevFixture(t)
	_, leaf := f.issue(t, "CreateServerCertificate", nil)
	base := "http://" + f.ts.endpoint
	if want := []string{base + "/pki/crl/" + f.sub.ID + ".crl"}; !slices.Equal(leaf.CRLDistributionPoints, want) {
		t.Errorf("leaf CRL DP %v, want %v", leaf.CRLDistributionPoints, want)
	}
	if want := []string{base + "/pki/ocsp"}; !slices.Equal(leaf.OCSPServer, want) {
		t.Errorf("leaf OCSP %v, want %v", leaf.OCSPServer, want)
	}
	if want := []string{base + "/pki/ca/" + f.sub.ID + ".crt"}; !slices.Equal(leaf.IssuingCertificateURL, want) {
		t.Errorf("leaf CA issuers %v, want %v", leaf.IssuingCertificateURL, want)
	}
	if want := []string{base + "/pki/crl/" + f.root.ID + ".crl"}; !slices.Equal(f.sub.Cert.CRLDistributionPoints, want) {
		t.Errorf("sub-CA CRL DP %v, want %v", f.sub.Cert.CRLDistributionPoints, want)
	}
	// The CA-issuers URL serves the issuer's certificate.
	if got := httpGet(t, leaf.IssuingCertificateURL[0]); !bytes.Equal(got, f.sub.Cert.Raw) {
		t.Error("CA issuers URL does not serve the sub-CA certificate")
	}
	// A sub-CA without EnableCrl publishes no CRL DP in its leaves.
	plain := createSub(t, f.c, f.root.ID, "ECC_256", nil)
	b := mustCall(t, f.c, "CreateServerCertificate", with(serverParams(plain.ID), nil))
	if dp := parsePEM(t, jStr(t, b, "X509Certificate")).CRLDistributionPoints; len(dp) != 0 {
		t.Errorf("leaf of a CA without CRL has CRL DP %v", dp)
	}
}

func TestCRLShowsRevocation(t *testing.T) {
	f := newRevFixture(t)
	id, leaf := f.issue(t, "CreateServerCertificate", nil)
	_, good := f.issue(t, "CreateServerCertificate", map[string]string{"CommonName": "good.example.com"})
	before := fetchCRL(t, leaf, f.sub.Cert)
	if onCRL(before, leaf.SerialNumber) {
		t.Fatal("fresh certificate already on the CRL")
	}
	if before.NextUpdate.Sub(before.ThisUpdate) != 7*24*time.Hour {
		t.Errorf("CRL validity %v, want CrlDay 7 days", before.NextUpdate.Sub(before.ThisUpdate))
	}
	rootPEM, subPEM := f.file(t, "root.pem", f.root.Cert), f.file(t, "sub.pem", f.sub.Cert)
	crlFile := func(crl *x509.RevocationList) string {
		p := filepath.Join(f.dir, "crl.pem")
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.Raw}), 0o600)
		return p
	}
	leafPEM := f.file(t, "leaf.pem", leaf)
	if out, err := openssl(t, "verify", "-crl_check", "-CAfile", rootPEM, "-untrusted", subPEM, "-CRLfile", crlFile(before), leafPEM); err != nil {
		t.Fatalf("openssl verify -crl_check before revocation: %v\n%s", err, out)
	}

	start := time.Now()
	revoke(t, f.c, id)
	var after *x509.RevocationList
	for {
		after = fetchCRL(t, leaf, f.sub.Cert)
		if onCRL(after, leaf.SerialNumber) {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("revocation not on the served CRL after 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("revocation visible on the served CRL after %v", time.Since(start).Round(time.Millisecond))
	if after.Number.Cmp(before.Number) <= 0 {
		t.Errorf("CRL number did not grow: %v then %v", before.Number, after.Number)
	}
	if onCRL(after, good.SerialNumber) {
		t.Error("unrevoked certificate on the CRL")
	}
	out, err := openssl(t, "verify", "-crl_check", "-CAfile", rootPEM, "-untrusted", subPEM, "-CRLfile", crlFile(after), leafPEM)
	if err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("openssl accepted a revoked certificate: %v\n%s", err, out)
	}
	if out, err := openssl(t, "verify", "-crl_check", "-CAfile", rootPEM, "-untrusted", subPEM, "-CRLfile", crlFile(after),
		f.file(t, "good.pem", good)); err != nil {
		t.Errorf("openssl refused a good certificate with the new CRL: %v\n%s", err, out)
	}
	lintCRL(t, after.Raw)
	lintCerts(t, map[string][]byte{"root": f.root.Cert.Raw, "sub": f.sub.Cert.Raw, "leaf": leaf.Raw})
}

// ocspQuery asks the responder about cert, by POST or GET, with or without a nonce.
func ocspQuery(t *testing.T, cert, issuer *x509.Certificate, get bool) *ocsp.Response {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	if get {
		resp, err = http.Get(cert.OCSPServer[0] + "/" + base64.StdEncoding.EncodeToString(req))
	} else {
		resp, err = http.Post(cert.OCSPServer[0], "application/ocsp-request", bytes.NewReader(req))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/ocsp-response" {
		t.Fatalf("OCSP content type %q", ct)
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		t.Fatalf("OCSP response: %v", err)
	}
	return r
}

func TestOCSPResponder(t *testing.T) {
	f := newRevFixture(t)
	id, leaf := f.issue(t, "CreateServerCertificate", nil)
	for _, get := range []bool{false, true} {
		if r := ocspQuery(t, leaf, f.sub.Cert, get); r.Status != ocsp.Good {
			t.Fatalf("fresh certificate: OCSP status %d (GET=%v)", r.Status, get)
		}
	}
	chain := f.file(t, "chain.pem", f.sub.Cert, f.root.Cert)
	subPEM, leafPEM := f.file(t, "sub.pem", f.sub.Cert), f.file(t, "leaf.pem", leaf)
	out, err := openssl(t, "ocsp", "-issuer", subPEM, "-cert", leafPEM, "-url", leaf.OCSPServer[0], "-CAfile", chain)
	if err != nil || !strings.Contains(out, leafPEM+": good") || !strings.Contains(out, "Response verify OK") || strings.Contains(out, "WARNING") {
		t.Fatalf("openssl ocsp before revocation: %v\n%s", err, out)
	}
	revoke(t, f.c, id)
	r := ocspQuery(t, leaf, f.sub.Cert, false)
	if r.Status != ocsp.Revoked || r.RevokedAt.IsZero() {
		t.Fatalf("revoked certificate: OCSP status %d at %v", r.Status, r.RevokedAt)
	}
	out, err = openssl(t, "ocsp", "-issuer", subPEM, "-cert", leafPEM, "-url", leaf.OCSPServer[0], "-CAfile", chain)
	if err != nil || !strings.Contains(out, leafPEM+": revoked") || !strings.Contains(out, "Response verify OK") {
		t.Fatalf("openssl ocsp after revocation: %v\n%s", err, out)
	}
	// A serial the CA never issued is unknown.
	fake := *leaf
	fake.SerialNumber = big.NewInt(0x1234567)
	if r := ocspQuery(t, &fake, f.sub.Cert, false); r.Status != ocsp.Unknown {
		t.Errorf("unissued serial: status %d, want unknown", r.Status)
	}
	// Garbage gets a malformedRequest response, not an HTTP error.
	resp, err := http.Post(leaf.OCSPServer[0], "application/ocsp-request", strings.NewReader("garbage"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, err := ocsp.ParseResponse(body, nil); !errors.As(err, new(ocsp.ResponseError)) {
		t.Errorf("garbage request: %v", err)
	}
}

func TestRevokeCA(t *testing.T) {
	f := newRevFixture(t)
	_, leaf := f.issue(t, "CreateServerCertificate", nil)
	mustCall(t, f.c, "UpdateCACertificateStatus", map[string]string{"Identifier": f.sub.ID, "Status": "REVOKE"})
	if r := ocspQuery(t, leaf, f.sub.Cert, false); r.Status != ocsp.Revoked {
		t.Errorf("leaf of a revoked CA: OCSP status %d", r.Status)
	}
	if r := ocspQuery(t, f.sub.Cert, f.root.Cert, false); r.Status != ocsp.Revoked {
		t.Errorf("revoked sub-CA: OCSP status %d", r.Status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !onCRL(fetchCRL(t, f.sub.Cert, f.root.Cert), f.sub.Cert.SerialNumber) {
		if time.Now().After(deadline) {
			t.Fatal("revoked sub-CA not on the root's CRL")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err := call(t, f.c, "CreateServerCertificate", serverParams(f.sub.ID))
	wantErr(t, err, 400, "OperationDenied.CARevoked")
	_, err = call(t, f.c, "UpdateCACertificateStatus", map[string]string{"Identifier": f.sub.ID, "Status": "REVOKE"})
	wantErr(t, err, 400, "OperationDenied.CARevoked")
	_, err = call(t, f.c, "UpdateCACertificateStatus", map[string]string{"Identifier": f.root.ID, "Status": "ISSUE"})
	wantErr(t, err, 400, "InvalidParameter.Status", "Status")
	b := mustCall(t, f.c, "DescribeCACertificate", map[string]string{"Identifier": f.sub.ID})
	if s := jStr(t, jObj(t, b, "Certificate"), "Status"); s != "REVOKE" {
		t.Errorf("revoked CA has status %q", s)
	}
}

func TestGetCaInstanceCrlAddress(t *testing.T) {
	f := newRevFixture(t)
	b := mustCall(t, f.c, "GetCaInstanceCrlAddress", map[string]string{"CaIdentifier": f.sub.ID})
	if got, want := jStr(t, b, "CrlUrl"), "http://"+f.ts.endpoint+"/pki/crl/"+f.sub.ID+".crl"; got != want {
		t.Errorf("CrlUrl %q, want %q", got, want)
	}
	next := jStr(t, b, "NextUpdateTime") // a string of milliseconds
	if ms, ok := new(big.Int).SetString(next, 10); !ok || ms.Int64() < time.Now().UnixMilli() {
		t.Errorf("NextUpdateTime %q", next)
	}
	hash := jStr(t, b, "HashCode")
	id, _ := f.issue(t, "CreateServerCertificate", nil)
	revoke(t, f.c, id)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b2 := mustCall(t, f.c, "GetCaInstanceCrlAddress", map[string]string{"CaIdentifier": f.sub.ID})
		if jStr(t, b2, "HashCode") != hash {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("HashCode did not change after a revocation")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err := call(t, f.c, "GetCaInstanceCrlAddress", map[string]string{"CaIdentifier": "01234567-89ab-7cde-8f01-23456789abcd"})
	wantErr(t, err, 404, "NotFound.CA", "CaIdentifier")
	_, err = call(t, f.c, "GetCaInstanceCrlAddress", map[string]string{})
	wantErr(t, err, 400, "MissingParameter", "CaIdentifier")
}

// TestMutualTLSWithRevocation: a Go server and client authenticate each
// other with issued certificates; once the client certificate is revoked, a
// server that asks the OCSP responder refuses it.
func TestMutualTLSWithRevocation(t *testing.T) {
	f := newRevFixture(t)
	srvID, _ := f.issue(t, "CreateServerCertificate", map[string]string{"CommonName": "localhost", "Domain": "127.0.0.1"})
	cliID, cliCert := f.issue(t, "CreateClientCertificate", nil)
	keyPair := func(id string) tls.Certificate {
		pw := "test,pw#1"
		b := mustCall(t, f.c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": id, "EncryptedCode": pw})
		key, err := keys.DecryptPKCS8PEM([]byte(jStr(t, b, "EncryptedData")), []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		d := mustCall(t, f.c, "DescribeClientCertificate", map[string]string{"Identifier": id})
		cert := parsePEM(t, jStr(t, jObj(t, d, "Certificate"), "X509Certificate"))
		return tls.Certificate{Certificate: [][]byte{cert.Raw, f.sub.Cert.Raw}, PrivateKey: key, Leaf: cert}
	}
	roots := x509.NewCertPool()
	roots.AddCert(f.root.Cert)
	serverCfg := &tls.Config{
		Certificates: []tls.Certificate{keyPair(srvID)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
		VerifyPeerCertificate: func(_ [][]byte, chains [][]*x509.Certificate) error {
			leaf, issuer := chains[0][0], chains[0][1]
			if r := ocspQuery(t, leaf, issuer, false); r.Status != ocsp.Good {
				return fmt.Errorf("client certificate is not good (OCSP status %d)", r.Status)
			}
			return nil
		},
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				if tc, ok := c.(*tls.Conn); ok && tc.Handshake() == nil {
					c.Write([]byte("hello"))
				}
			}(conn)
		}
	}()
	clientCfg := &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{keyPair(cliID)}}
	dial := func() error {
		conn, err := tls.Dial("tcp", ln.Addr().String(), clientCfg)
		if err != nil {
			return err
		}
		defer conn.Close()
		buf := make([]byte, 5)
		_, err = io.ReadFull(conn, buf)
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("mTLS with good certificates failed: %v", err)
	}
	revoke(t, f.c, cliID)
	if err := dial(); err == nil {
		t.Fatalf("mTLS succeeded with a revoked client certificate %x", cliCert.SerialNumber)
	}
}

// lintCRL runs zlint's RFC 5280 CRL lints.
func lintCRL(t *testing.T, der []byte) {
	t.Helper()
	reg := rfc5280Lints(t)
	crl, err := zx509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("zcrypto parse CRL: %v", err)
	}
	reportLints(t, "CRL", zlint.LintRevocationListEx(crl, reg).Results)
}

// lintCerts runs zlint's RFC 5280 certificate lints.
func lintCerts(t *testing.T, certs map[string][]byte) {
	t.Helper()
	reg := rfc5280Lints(t)
	for name, der := range certs {
		c, err := zx509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("zcrypto parse %s: %v", name, err)
		}
		reportLints(t, name, zlint.LintCertificateEx(c, reg).Results)
	}
}

func rfc5280Lints(t *testing.T) lint.Registry {
	t.Helper()
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280}})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func reportLints(t *testing.T, what string, results map[string]*lint.LintResult) {
	t.Helper()
	var bad []string
	for name, r := range results {
		if r.Status >= lint.Warn {
			bad = append(bad, name+"="+r.Status.String()+" "+r.Details)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("zlint %s: %s", what, strings.Join(bad, "; "))
	}
	if len(results) == 0 {
		t.Errorf("zlint ran no lint on %s", what)
	}
}

// TestOCSPNonceAnswers: an answer to a request with a nonce echoes it, is
// signed for it (never the cached answer), states the status as of now
// even when the status was read earlier, and a revocation reaches it at
// once, as it reaches the cached answers.
func TestOCSPNonceAnswers(t *testing.T) {
	f := newRevFixture(t)
	id, leaf := f.issue(t, "CreateServerCertificate", nil)
	plain, err := ocsp.CreateRequest(leaf, f.sub.Cert, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		TBS struct{ RequestList []asn1.RawValue }
	}
	if _, err := asn1.Unmarshal(plain, &in); err != nil || len(in.TBS.RequestList) != 1 {
		t.Fatalf("request encoding: %v", err)
	}
	post := func(der []byte) []byte {
		t.Helper()
		resp, err := http.Post(leaf.OCSPServer[0], "application/ocsp-request", bytes.NewReader(der))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return body
	}
	q := &ocspQuestion{cert: leaf, issuer: f.sub.Cert, single: in.TBS.RequestList[0]}
	steps := []struct {
		name   string
		wait   bool // a whole second first: a reused status's ThisUpdate must move with it
		revoke bool
		nonce  []byte // nil: a request without one
		want   int
	}{
		{"first, with a nonce", false, false, []byte("nonce-1"), ocsp.Good},
		{"without a nonce (cached from now on)", false, false, nil, ocsp.Good},
		{"with a nonce a second later, status from the cache", true, false, []byte("nonce-2"), ocsp.Good},
		{"with a nonce after the revocation", false, true, []byte("nonce-3"), ocsp.Revoked},
		{"without a nonce after the revocation", false, false, nil, ocsp.Revoked},
	}
	var answers [][]byte
	for _, st := range steps {
		if st.wait {
			time.Sleep(1100 * time.Millisecond)
		}
		if st.revoke {
			revoke(t, f.c, id)
		}
		der := plain
		if st.nonce != nil {
			if der, err = ocspRequestWithNonce(q.single, st.nonce); err != nil {
				t.Fatal(err)
			}
		}
		before := time.Now().Truncate(time.Second)
		body := post(der)
		q.want = st.want
		if err := q.check(body, st.nonce); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		r, err := ocsp.ParseResponseForCert(body, leaf, f.sub.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if st.nonce != nil && (r.ThisUpdate.Before(before) || r.ProducedAt.Before(before)) {
			t.Errorf("%s: ThisUpdate %v, ProducedAt %v; want both at or after %v", st.name, r.ThisUpdate, r.ProducedAt, before)
		}
		for _, a := range answers {
			if st.nonce != nil && bytes.Equal(a, body) {
				t.Errorf("%s: the same bytes as an earlier answer", st.name)
			}
		}
		answers = append(answers, body)
	}
}
