package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// badSigner signs with one key but claims another's public key.
type badSigner struct {
	crypto.Signer
	pub crypto.PublicKey
}

func (b badSigner) Public() crypto.PublicKey { return b.pub }

// garbageSigner returns a signature that does not verify.
type garbageSigner struct{ crypto.Signer }

func (g garbageSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := g.Signer.Sign(r, digest, opts)
	if err == nil {
		sig[len(sig)/2] ^= 0xff
	}
	return sig, err
}

func TestIssueRefusals(t *testing.T) {
	now := time.Now()
	rsa := buildChain(t, now, pca.RSA2048, pca.RSA2048, pca.RSA2048)
	ecc := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	eccKey := testKey(t, pca.ECC256)
	rsaKey := testKey(t, pca.RSA2048)
	sub := ecc.sub.Cert
	start := sub.NotBefore
	subject := pca.Subject{CommonName: "x.example.com"}

	// A sub-CA with pathlen 1 and one restricted to serverAuth, under ecc.root.
	newSub := func(pathLen int, ekus []x509.ExtKeyUsage) (*Issued, crypto.Signer) {
		k := testKey(t, pca.ECC256)
		is, err := NewSubCA(rand.Reader, SubCARequest{Subject: pca.Subject{CommonName: "Sub"}, NotBefore: start, NotAfter: start.AddDate(1, 0, 0),
			Serial: big.NewInt(9), PathLen: pathLen, ExtKeyUsages: ekus, PublicKey: k.Public()}, ecc.root.Cert, ecc.rootKey)
		if err != nil {
			t.Fatalf("NewSubCA: %v", err)
		}
		return is, k
	}
	sub1, sub1Key := newSub(1, nil)
	srvOnly, srvOnlyKey := newSub(1, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})

	leaf := func(f func(*LeafRequest)) LeafRequest {
		r := LeafRequest{Profile: ProfileServer, Subject: subject, NotBefore: start, NotAfter: start.AddDate(0, 0, 30),
			Serial: big.NewInt(7), DNSNames: []string{"x.example.com"}, PublicKey: eccKey.Public()}
		if f != nil {
			f(&r)
		}
		return r
	}
	subReq := func(f func(*SubCARequest)) SubCARequest {
		r := SubCARequest{Subject: pca.Subject{CommonName: "Sub 2"}, NotBefore: start, NotAfter: start.AddDate(1, 0, 0),
			Serial: big.NewInt(8), PublicKey: eccKey.Public()}
		if f != nil {
			f(&r)
		}
		return r
	}
	u, _ := url.Parse("https://intranet/x")
	leafCert, err := NewLeaf(rand.Reader, leaf(nil), sub, ecc.subKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		issue     func() (*Issued, error)
		kind      pca.Kind
		param     string
		errSubstr string
	}{
		{name: "ok/leaf-baseline", issue: func() (*Issued, error) { return NewLeaf(rand.Reader, leaf(nil), sub, ecc.subKey) }},
		{name: "ok/sub-under-pathlen-1", issue: func() (*Issued, error) { return NewSubCA(rand.Reader, subReq(nil), sub1.Cert, sub1Key) }},
		{name: "ok/server-leaf-under-server-only-sub", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(nil), srvOnly.Cert, srvOnlyKey)
		}},

		{name: "fail/ecc-leaf-under-rsa-sub", kind: pca.KindInvalid, param: "Algorithm", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(nil), rsa.sub.Cert, rsa.subKey)
		}},
		{name: "fail/rsa-leaf-under-ecc-sub", kind: pca.KindInvalid, param: "Algorithm", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.PublicKey = rsaKey.Public() }), sub, ecc.subKey)
		}},
		{name: "fail/rsa-sub-under-ecc-root", kind: pca.KindInvalid, param: "Algorithm", issue: func() (*Issued, error) {
			return NewSubCA(rand.Reader, subReq(func(r *SubCARequest) { r.PublicKey = rsaKey.Public() }), ecc.root.Cert, ecc.rootKey)
		}},
		{name: "fail/sub-under-pathlen-0-sub", kind: pca.KindInvalid, param: "ParentIdentifier", issue: func() (*Issued, error) {
			return NewSubCA(rand.Reader, subReq(nil), sub, ecc.subKey)
		}},
		{name: "fail/pathlen-1-under-pathlen-1", kind: pca.KindInvalid, param: "PathLenConstraint", issue: func() (*Issued, error) {
			return NewSubCA(rand.Reader, subReq(func(r *SubCARequest) { r.PathLen = 1 }), sub1.Cert, sub1Key)
		}},
		{name: "fail/negative-pathlen", kind: pca.KindInvalid, param: "PathLenConstraint", issue: func() (*Issued, error) {
			return NewSubCA(rand.Reader, subReq(func(r *SubCARequest) { r.PathLen = -1 }), ecc.root.Cert, ecc.rootKey)
		}},
		{name: "fail/sub-eku-outside-parent", kind: pca.KindInvalid, param: "ExtendedKeyUsages", issue: func() (*Issued, error) {
			r := subReq(func(r *SubCARequest) { r.ExtKeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} })
			return NewSubCA(rand.Reader, r, srvOnly.Cert, srvOnlyKey)
		}},
		{name: "fail/client-leaf-under-server-only-sub", kind: pca.KindInvalid, param: "ParentIdentifier", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.Profile = ProfileClient }), srvOnly.Cert, srvOnlyKey)
		}},
		{name: "fail/issuer-is-a-leaf", kind: pca.KindInvalid, param: "ParentIdentifier", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(nil), leafCert.Cert, eccKey)
		}},
		{name: "fail/leaf-beyond-issuer", param: internal, errSubstr: "outside the issuer", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.NotAfter = sub.NotAfter.Add(time.Second) }), sub, ecc.subKey)
		}},
		{name: "fail/leaf-before-issuer", param: internal, errSubstr: "outside the issuer", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.NotBefore = sub.NotBefore.Add(-time.Second) }), sub, ecc.subKey)
		}},
		{name: "fail/sub-beyond-root", param: internal, errSubstr: "outside the issuer", issue: func() (*Issued, error) {
			return NewSubCA(rand.Reader, subReq(func(r *SubCARequest) { r.NotAfter = ecc.root.Cert.NotAfter.AddDate(0, 0, 1) }), ecc.root.Cert, ecc.rootKey)
		}},
		{name: "fail/empty-window", param: internal, errSubstr: "empty validity", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.NotAfter = r.NotBefore }), sub, ecc.subKey)
		}},
		{name: "fail/root-empty-window", param: internal, errSubstr: "empty validity", issue: func() (*Issued, error) {
			return NewRoot(rand.Reader, RootRequest{Subject: subject, NotBefore: start, NotAfter: start.Add(-time.Hour), Serial: big.NewInt(1)}, eccKey)
		}},
		{name: "fail/wrong-issuer-key", param: internal, errSubstr: "does not match", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(nil), sub, ecc.rootKey)
		}},
		{name: "fail/signer-lies-about-its-key", param: internal, issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(nil), sub, badSigner{Signer: ecc.rootKey, pub: ecc.subKey.Public()})
		}},
		{name: "fail/signature-does-not-verify", param: internal, issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(nil), sub, garbageSigner{ecc.subKey})
		}},
		{name: "fail/zero-serial", kind: pca.KindInvalid, param: "SerialNumber", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.Serial = big.NewInt(0) }), sub, ecc.subKey)
		}},
		{name: "fail/root-without-serial", kind: pca.KindMissing, param: "SerialNumber", issue: func() (*Issued, error) {
			return NewRoot(rand.Reader, RootRequest{Subject: subject, NotBefore: start, NotAfter: start.AddDate(1, 0, 0)}, eccKey)
		}},
		{name: "fail/root-bad-country", kind: pca.KindInvalid, param: "CountryCode", issue: func() (*Issued, error) {
			return NewRoot(rand.Reader, RootRequest{Subject: pca.Subject{CommonName: "R", Country: "CHN"}, NotBefore: start, NotAfter: start.AddDate(1, 0, 0), Serial: big.NewInt(1)}, eccKey)
		}},
		{name: "fail/leaf-bad-country", kind: pca.KindInvalid, param: "Country", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.Subject.Country = "C" }), sub, ecc.subKey)
		}},
		{name: "fail/leaf-without-cn", kind: pca.KindMissing, param: "CommonName", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.Subject = pca.Subject{Organization: "O"} }), sub, ecc.subKey)
		}},
		{name: "fail/server-without-names", param: internal, errSubstr: "without DNS or IP", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.DNSNames = nil }), sub, ecc.subKey)
		}},
		{name: "fail/unknown-profile", param: internal, errSubstr: "unknown profile", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.Profile = 0 }), sub, ecc.subKey)
		}},
		{name: "fail/upper-case-dns-name", kind: pca.KindInvalid, param: "Domain", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.DNSNames = []string{"X.example.com"} }), sub, ecc.subKey)
		}},
		{name: "fail/bad-ip-length", kind: pca.KindInvalid, param: "Domain", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.IPAddresses = []net.IP{{1, 2, 3}} }), sub, ecc.subKey)
		}},
		{name: "fail/bad-email", kind: pca.KindInvalid, param: "SanValue", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.Profile, r.EmailAddresses = ProfileClient, []string{"Bob <b@example.com>"} }), sub, ecc.subKey)
		}},
		{name: "fail/bad-uri", kind: pca.KindInvalid, param: "SanValue", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.Profile, r.URIs = ProfileClient, []*url.URL{u} }), sub, ecc.subKey)
		}},
		{name: "fail/unsupported-leaf-key", kind: pca.KindInvalid, param: "Algorithm", issue: func() (*Issued, error) {
			return NewLeaf(rand.Reader, leaf(func(r *LeafRequest) { r.PublicKey = fakeRSA(1024) }), rsa.sub.Cert, rsa.subKey)
		}},
		{name: "fail/nil-issuer", param: internal, issue: func() (*Issued, error) { return NewLeaf(rand.Reader, leaf(nil), nil, ecc.subKey) }},
		{name: "fail/nil-root-key", param: internal, issue: func() (*Issued, error) {
			return NewRoot(rand.Reader, RootRequest{Subject: subject, NotBefore: start, NotAfter: start.AddDate(1, 0, 0), Serial: big.NewInt(1)}, nil)
		}},
		{name: "fail/nil-random", param: internal, issue: func() (*Issued, error) { return NewLeaf(nil, leaf(nil), sub, ecc.subKey) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			is, err := tc.issue()
			wantErr(t, err, tc.kind, tc.param)
			if tc.errSubstr != "" && !strings.Contains(err.Error(), tc.errSubstr) {
				t.Errorf("error %q lacks %q", err, tc.errSubstr)
			}
			if tc.param == "" && (is == nil || is.Cert == nil || len(is.DER) == 0) {
				t.Fatalf("got %+v, want an issued certificate", is)
			}
			if tc.param != "" && is != nil {
				t.Errorf("got a certificate together with an error")
			}
		})
	}
}

// TestLeafWindowAgainstIssuedCA ties LeafWindow to a real sub-CA: asking for
// more than the CA has left is refused with the parameter that set the end.
func TestLeafWindowAgainstIssuedCA(t *testing.T) {
	now := time.Now()
	c := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	_, _, err := LeafWindow(now, Validity{Years: 6}, c.sub.Cert.NotBefore, c.sub.Cert.NotAfter, 0)
	wantErr(t, err, pca.KindInvalid, "Years")
	e, _ := pca.AsError(err)
	if want := c.sub.Cert.NotAfter.UTC().Format(time.RFC3339); !strings.Contains(e.Msg, want) {
		t.Errorf("message %q lacks the CA's notAfter %s", e.Msg, want)
	}
}

// TestCompare shows that the post-signing comparison catches each kind of
// difference between the request and the parsed certificate.
func TestCompare(t *testing.T) {
	c := buildChain(t, time.Now(), pca.ECC256, pca.ECC256, pca.ECC256)
	issued := c.server.Cert
	base := func() *x509.Certificate {
		tmpl := *issued
		tmpl.AuthorityKeyId = c.sub.Cert.SubjectKeyId
		return &tmpl
	}
	other, _ := url.Parse("spiffe://example.org/other")
	tests := []struct {
		name   string
		mutate func(*x509.Certificate)
		want   string
	}{
		{"same", func(*x509.Certificate) {}, ""},
		{"subject", func(c *x509.Certificate) { c.Subject = Name(pca.Subject{CommonName: "other"}) }, "subject"},
		{"serial", func(c *x509.Certificate) { c.SerialNumber = big.NewInt(1) }, "serial number"},
		{"not-before", func(c *x509.Certificate) { c.NotBefore = c.NotBefore.Add(time.Second) }, "notBefore"},
		{"not-after", func(c *x509.Certificate) { c.NotAfter = c.NotAfter.Add(time.Second) }, "notAfter"},
		{"key-usage", func(c *x509.Certificate) { c.KeyUsage |= x509.KeyUsageKeyAgreement }, "key usage"},
		{"eku", func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }, "extended key usage"},
		{"ca", func(c *x509.Certificate) { c.IsCA = true }, "basic constraints"},
		{"dns", func(c *x509.Certificate) { c.DNSNames = c.DNSNames[:1] }, "DNS names"},
		{"ip", func(c *x509.Certificate) { c.IPAddresses = []net.IP{net.ParseIP("10.9.9.9")} }, "IP addresses"},
		{"email", func(c *x509.Certificate) { c.EmailAddresses = []string{"x@example.com"} }, "email addresses"},
		{"uri", func(c *x509.Certificate) { c.URIs = []*url.URL{other} }, "URIs"},
		{"ski", func(c *x509.Certificate) { c.SubjectKeyId = []byte{1} }, "subject key identifier"},
		{"crl", func(c *x509.Certificate) { c.CRLDistributionPoints = nil }, "CRL distribution points"},
		{"signature-algorithm", func(c *x509.Certificate) { c.SignatureAlgorithm = x509.ECDSAWithSHA384 }, "signature algorithm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := base()
			tc.mutate(tmpl)
			err := compare(issued, tmpl, issued.PublicKey, c.sub.Cert)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no difference", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a difference in %s", err, tc.want)
			}
		})
	}
	if err := compare(issued, base(), testKey(t, pca.ECC256).Public(), c.sub.Cert); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Errorf("other public key: got %v", err)
	}
	if err := compare(issued, base(), issued.PublicKey, c.root.Cert); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("other issuer: got %v", err)
	}
}
