package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// chain is a root, a sub-CA and two leaves issued for a test.
type chain struct {
	root, sub, server, client *Issued
	rootKey, subKey           crypto.Signer
}

const crlURL = "http://crl.example.com/sub.crl"

// buildChain issues root -> sub-CA (pathlen 0, EKU serverAuth+clientAuth)
// -> server leaf (DNS + IP SANs) and client leaf (email + URI SANs), with the
// given algorithms, starting an hour before now.
func buildChain(t *testing.T, now time.Time, rootAlg, subAlg, leafAlg pca.Algorithm) chain {
	t.Helper()
	var c chain
	c.rootKey, c.subKey = testKey(t, rootAlg), testKey(t, subAlg)
	start := now.Add(-time.Hour).Truncate(time.Second)
	var err error
	c.root, err = NewRoot(rand.Reader, RootRequest{
		Subject:   pca.Subject{CommonName: "pcad Test Root " + string(rootAlg), Organization: "pcad", OrganizationUnit: "Test", Locality: "Hangzhou", State: "Zhejiang", Country: "cn"},
		NotBefore: start, NotAfter: start.AddDate(10, 0, 0), Serial: mustSerial(t),
	}, c.rootKey)
	if err != nil {
		t.Fatalf("NewRoot: %v", err)
	}
	c.sub, err = NewSubCA(rand.Reader, SubCARequest{
		Subject:   pca.Subject{CommonName: "pcad Test Sub " + string(subAlg), Organization: "pcad", OrganizationUnit: "Test", Locality: "Hangzhou", State: "Zhejiang", Country: "CN"},
		NotBefore: start, NotAfter: start.AddDate(5, 0, 0), Serial: mustSerial(t),
		PathLen: 0, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		PublicKey: c.subKey.Public(),
	}, c.root.Cert, c.rootKey)
	if err != nil {
		t.Fatalf("NewSubCA: %v", err)
	}
	nb, na, err := LeafWindow(now, Validity{Days: 90}, c.sub.Cert.NotBefore, c.sub.Cert.NotAfter, 0)
	if err != nil {
		t.Fatalf("LeafWindow: %v", err)
	}
	dns, ips, err := ServerNames("www.example.com", "api.example.com, 10.0.0.1, 2001:db8::1")
	if err != nil {
		t.Fatalf("ServerNames: %v", err)
	}
	c.server, err = NewLeaf(rand.Reader, LeafRequest{
		Profile: ProfileServer, Subject: pca.Subject{CommonName: "www.example.com", Organization: "pcad", Country: "CN"},
		NotBefore: nb, NotAfter: na, Serial: mustSerial(t), DNSNames: dns, IPAddresses: ips,
		PublicKey: testKey(t, leafAlg).Public(), CRLDistributionPoints: []string{crlURL},
		OCSPServers: []string{"http://ocsp.example.com"}, IssuingCertificateURLs: []string{"http://ca.example.com/sub.cer"},
	}, c.sub.Cert, c.subKey)
	if err != nil {
		t.Fatalf("NewLeaf(server): %v", err)
	}
	emails, _, err := ClientSANs(1, "alice@example.com")
	if err != nil {
		t.Fatalf("ClientSANs: %v", err)
	}
	_, uris, err := ClientSANs(6, "spiffe://example.org/ns/prod/sa/alice")
	if err != nil {
		t.Fatalf("ClientSANs: %v", err)
	}
	c.client, err = NewLeaf(rand.Reader, LeafRequest{
		Profile: ProfileClient, Subject: pca.Subject{CommonName: "Alice", Organization: "pcad", Country: "CN"},
		NotBefore: nb, NotAfter: na, Serial: mustSerial(t), EmailAddresses: emails, URIs: uris,
		PublicKey: testKey(t, leafAlg).Public(), CRLDistributionPoints: []string{crlURL},
	}, c.sub.Cert, c.subKey)
	if err != nil {
		t.Fatalf("NewLeaf(client): %v", err)
	}
	return c
}

func mustSerial(t *testing.T) *big.Int {
	t.Helper()
	s, err := NewSerial(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestChains(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name                     string
		rootAlg, subAlg, leafAlg pca.Algorithm
		wantSig                  string
	}{
		{name: "ok/rsa-2048", rootAlg: pca.RSA2048, subAlg: pca.RSA2048, leafAlg: pca.RSA2048, wantSig: "SHA256WITHRSA"},
		{name: "ok/ecc-256", rootAlg: pca.ECC256, subAlg: pca.ECC256, leafAlg: pca.ECC256, wantSig: "SHA256WITHECDSA"},
		{name: "ok/ecc-384", rootAlg: pca.ECC384, subAlg: pca.ECC384, leafAlg: pca.ECC384, wantSig: "SHA384WITHECDSA"},
		{name: "ok/ecc-512-root-256-leaves", rootAlg: pca.ECC512, subAlg: pca.ECC256, leafAlg: pca.ECC256, wantSig: "SHA256WITHECDSA"},
		{name: "ok/rsa-4096-leaf-under-rsa-2048", rootAlg: pca.RSA2048, subAlg: pca.RSA2048, leafAlg: pca.RSA4096, wantSig: "SHA256WITHRSA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := buildChain(t, now, tc.rootAlg, tc.subAlg, tc.leafAlg)
			checkShape(t, c, tc.leafAlg, tc.wantSig)
			verifyGo(t, c, now)
			lintZ(t, c)
			verifyOpenSSL(t, c)
		})
	}
}

// checkShape checks the fields NewRoot, NewSubCA and NewLeaf promise.
func checkShape(t *testing.T, c chain, leafAlg pca.Algorithm, wantSig string) {
	t.Helper()
	root, sub, srv, cli := c.root.Cert, c.sub.Cert, c.server.Cert, c.client.Cert
	if !root.IsCA || root.MaxPathLen != -1 || root.KeyUsage != caKeyUsage || len(root.ExtKeyUsage) != 0 {
		t.Errorf("root: IsCA %v MaxPathLen %d KeyUsage %b EKU %v", root.IsCA, root.MaxPathLen, root.KeyUsage, root.ExtKeyUsage)
	}
	if root.Subject.Country[0] != "CN" {
		t.Errorf("root country %q, want upper-cased CN", root.Subject.Country)
	}
	if !sub.IsCA || sub.MaxPathLen != 0 || !sub.MaxPathLenZero || sub.KeyUsage != caKeyUsage ||
		!reflect.DeepEqual(sub.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
		t.Errorf("sub: IsCA %v MaxPathLen %d zero %v KeyUsage %b EKU %v", sub.IsCA, sub.MaxPathLen, sub.MaxPathLenZero, sub.KeyUsage, sub.ExtKeyUsage)
	}
	if string(sub.AuthorityKeyId) != string(root.SubjectKeyId) || string(srv.AuthorityKeyId) != string(sub.SubjectKeyId) ||
		string(cli.AuthorityKeyId) != string(sub.SubjectKeyId) || len(srv.SubjectKeyId) != 20 {
		t.Error("key identifiers do not chain")
	}
	wantKU := x509.KeyUsageDigitalSignature
	if leafAlg.Family() == pca.FamilyRSA {
		wantKU |= x509.KeyUsageKeyEncipherment
	}
	if srv.IsCA || srv.KeyUsage != wantKU || !reflect.DeepEqual(srv.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("server: IsCA %v KeyUsage %b EKU %v", srv.IsCA, srv.KeyUsage, srv.ExtKeyUsage)
	}
	if cli.IsCA || cli.KeyUsage != x509.KeyUsageDigitalSignature || !reflect.DeepEqual(cli.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("client: IsCA %v KeyUsage %b EKU %v", cli.IsCA, cli.KeyUsage, cli.ExtKeyUsage)
	}
	wantSrvSANs := []pca.SAN{{Type: pca.SANDNS, Value: "www.example.com"}, {Type: pca.SANDNS, Value: "api.example.com"},
		{Type: pca.SANIP, Value: "10.0.0.1"}, {Type: pca.SANIP, Value: "2001:db8::1"}}
	if got := SANsOf(srv); !reflect.DeepEqual(got, wantSrvSANs) {
		t.Errorf("server SANs %+v, want %+v", got, wantSrvSANs)
	}
	wantCliSANs := []pca.SAN{{Type: pca.SANEmail, Value: "alice@example.com"}, {Type: pca.SANURI, Value: "spiffe://example.org/ns/prod/sa/alice"}}
	if got := SANsOf(cli); !reflect.DeepEqual(got, wantCliSANs) {
		t.Errorf("client SANs %+v, want %+v", got, wantCliSANs)
	}
	if got := SignatureAlgorithmName(srv); got != wantSig {
		t.Errorf("server signature %s, want %s", got, wantSig)
	}
	if got, err := AlgorithmOf(cli.PublicKey); err != nil || got != leafAlg {
		t.Errorf("client key %q, %v, want %s", got, err, leafAlg)
	}
	if got := SubjectDN(srv.Subject); got != "CN=www.example.com,O=pcad,C=CN" {
		t.Errorf("server SubjectDN %q", got)
	}
	if got := srv.CRLDistributionPoints; len(got) != 1 || got[0] != crlURL {
		t.Errorf("server CRL DPs %q", got)
	}
}

// verifyGo judges the chain with crypto/x509, including cases that must fail.
func verifyGo(t *testing.T, c chain, now time.Time) {
	t.Helper()
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(c.root.Cert)
	inter.AddCert(c.sub.Cert)
	tests := []struct {
		name  string
		leaf  *x509.Certificate
		host  string
		usage x509.ExtKeyUsage
		ok    bool
	}{
		{"server/dns", c.server.Cert, "www.example.com", x509.ExtKeyUsageServerAuth, true},
		{"server/second-dns", c.server.Cert, "api.example.com", x509.ExtKeyUsageServerAuth, true},
		{"server/ipv4", c.server.Cert, "10.0.0.1", x509.ExtKeyUsageServerAuth, true},
		{"server/ipv6", c.server.Cert, "2001:db8::1", x509.ExtKeyUsageServerAuth, true},
		{"server/wrong-host", c.server.Cert, "evil.example.com", x509.ExtKeyUsageServerAuth, false},
		{"server/as-client", c.server.Cert, "", x509.ExtKeyUsageClientAuth, false},
		{"client", c.client.Cert, "", x509.ExtKeyUsageClientAuth, true},
		{"client/as-server", c.client.Cert, "", x509.ExtKeyUsageServerAuth, false},
	}
	for _, tc := range tests {
		_, err := tc.leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: tc.host,
			KeyUsages: []x509.ExtKeyUsage{tc.usage}, CurrentTime: now})
		if (err == nil) != tc.ok {
			t.Errorf("x509 Verify %s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	// Without the intermediate the leaf must not verify.
	if _, err := c.server.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "www.example.com", CurrentTime: now}); err == nil {
		t.Error("server verified without its intermediate")
	}
}

// toleratedLints lists zlint RFC 5280 findings accepted for pcad's
// certificates, with the reason. It is empty: every finding is a failure.
var toleratedLints = map[string]string{}

// lintZ runs the zlint RFC 5280 lints on every certificate of c.
func lintZ(t *testing.T, c chain) {
	t.Helper()
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(reg.Names()); n < 50 {
		t.Fatalf("zlint registry has only %d RFC 5280 lints", n)
	}
	for _, it := range []struct {
		name string
		der  []byte
	}{{"root", c.root.DER}, {"sub", c.sub.DER}, {"server", c.server.DER}, {"client", c.client.DER}} {
		zc, err := zx509.ParseCertificate(it.der)
		if err != nil {
			t.Fatalf("zcrypto parse %s: %v", it.name, err)
		}
		res := zlint.LintCertificateEx(zc, reg)
		var bad []string
		for name, r := range res.Results {
			if r.Status >= lint.Warn && toleratedLints[name] == "" {
				bad = append(bad, name+"="+r.Status.String()+" "+r.Details)
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("zlint %s: %s", it.name, strings.Join(bad, "; "))
		}
	}
}

// verifyOpenSSL judges the chain with openssl verify in strict mode.
func verifyOpenSSL(t *testing.T, c chain) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	dir := t.TempDir()
	write := func(name string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	root, sub := write("root.pem", c.root.DER), write("sub.pem", c.sub.DER)
	server, client := write("server.pem", c.server.DER), write("client.pem", c.client.DER)
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"server", []string{"-purpose", "sslserver", "-verify_hostname", "www.example.com", server}, true},
		{"server/ip", []string{"-purpose", "sslserver", "-verify_ip", "10.0.0.1", server}, true},
		{"client", []string{"-purpose", "sslclient", "-verify_email", "alice@example.com", client}, true},
		{"server/wrong-host", []string{"-purpose", "sslserver", "-verify_hostname", "evil.example.com", server}, false},
		{"client/as-server", []string{"-purpose", "sslserver", client}, false},
	}
	for _, tc := range tests {
		args := append([]string{"verify", "-x509_strict", "-CAfile", root, "-untrusted", sub}, tc.args...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		ok := err == nil && strings.HasSuffix(strings.TrimSpace(string(out)), ": OK")
		if ok != tc.ok {
			t.Errorf("openssl %s: want ok=%v, got %v: %s", strings.Join(args, " "), tc.ok, err, out)
		}
	}
}
