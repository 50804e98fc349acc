package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
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

// lintCert runs the zlint RFC 5280 certificate lints on der; any finding of
// Warn or worse fails the test.
func lintCert(t *testing.T, name string, der []byte) {
	t.Helper()
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280}})
	if err != nil {
		t.Fatal(err)
	}
	zc, err := zx509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("zcrypto parse %s: %v", name, err)
	}
	var bad []string
	for n, r := range zlint.LintCertificateEx(zc, reg).Results {
		if r.Status >= lint.Warn && toleratedLints[n] == "" {
			bad = append(bad, n+"="+r.Status.String()+" "+r.Details)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("zlint %s: %s", name, strings.Join(bad, "; "))
	}
}

// rawATV and rawRDNSET read a DER Name keeping the raw values (a slice type
// whose name ends in SET is a SET OF for encoding/asn1).
type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

type rawRDNSET []rawATV

// rawRDNs returns the attributes of a DER Name with their raw values.
func rawRDNs(t *testing.T, der []byte) []rawATV {
	t.Helper()
	var seq []rawRDNSET
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 {
		t.Fatalf("parse name: %v", err)
	}
	var out []rawATV
	for _, rdn := range seq {
		if len(rdn) != 1 {
			t.Fatalf("multi-valued RDN %v", rdn)
		}
		out = append(out, rdn[0])
	}
	return out
}

func criticality(c *x509.Certificate) map[string]bool {
	out := map[string]bool{}
	for _, e := range c.Extensions {
		out[e.Id.String()] = e.Critical
	}
	return out
}

func TestNewCustomLeaf(t *testing.T) {
	now := time.Now()
	ecc := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	sub := ecc.sub.Cert
	key := testKey(t, pca.ECC256)
	serial, err := CustomSerial(ParamSerialNumber, " 123456789012345678901234567890 ")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("spiffe://example.org/device/42")
	nb, na, err := ParseValidity("Validity", "30d", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := FitIssuer("Validity", nb, na, sub.NotBefore, sub.NotAfter, 0); err != nil {
		t.Fatal(err)
	}
	ku, err := KeyUsageFromNames(ParamKeyUsage, map[string]bool{"digitalSignature": true, "KeyAgreement": true, "DataEncipherment": false})
	if err != nil {
		t.Fatal(err)
	}
	full := CustomRequest{
		Subject: pca.Subject{CommonName: " Device 42 ", Organization: "pcad", Country: "cn"},
		CustomAttributes: []Attribute{
			{OID: "2.5.4.12", Value: "Engineer"},
			{OID: "1.3.6.1.4.1.37244.1.1", Value: "DEDEDEDE00010001"},
			{OID: "2.5.4.5", Value: "SN-001"},
			{OID: "1.2.840.113549.1.9.1", Value: "dev@example.com"},
			{OID: "2.5.4.11", Value: "Second OU"},
			{OID: "2.5.4.3", Value: "Zweiter Name äö"},
		},
		KeyUsage:              ku,
		ExtKeyUsages:          []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:              []string{"device.example.com"},
		IPAddresses:           []net.IP{net.ParseIP("10.0.0.5")},
		EmailAddresses:        []string{"dev@example.com"},
		URIs:                  []*url.URL{u},
		Critical:              []string{"ExtendedKeyUsage", "keyUsage", "basicConstraints"},
		NotBefore:             nb,
		NotAfter:              na,
		Serial:                serial,
		PublicKey:             key.Public(),
		CRLDistributionPoints: []string{crlURL},
	}
	is, err := NewCustomLeaf(rand.Reader, full, sub, ecc.subKey)
	if err != nil {
		t.Fatalf("NewCustomLeaf: %v", err)
	}
	c := is.Cert
	if err := c.CheckSignatureFrom(sub); err != nil {
		t.Fatal(err)
	}
	wantAttrs := []struct {
		oid string
		tag int
		val string
	}{
		{"2.5.4.6", asn1.TagPrintableString, "CN"},
		{"2.5.4.10", asn1.TagPrintableString, "pcad"},
		{"2.5.4.3", asn1.TagPrintableString, "Device 42"},
		{"2.5.4.12", asn1.TagUTF8String, "Engineer"},
		{"1.3.6.1.4.1.37244.1.1", asn1.TagUTF8String, "DEDEDEDE00010001"},
		{"2.5.4.5", asn1.TagPrintableString, "SN-001"},
		{"1.2.840.113549.1.9.1", asn1.TagIA5String, "dev@example.com"},
		{"2.5.4.11", asn1.TagUTF8String, "Second OU"},
		{"2.5.4.3", asn1.TagUTF8String, "Zweiter Name äö"},
	}
	got := rawRDNs(t, c.RawSubject)
	if len(got) != len(wantAttrs) {
		t.Fatalf("subject has %d attributes, want %d: %s", len(got), len(wantAttrs), c.Subject)
	}
	for i, w := range wantAttrs {
		if got[i].Type.String() != w.oid || got[i].Value.Tag != w.tag || string(got[i].Value.Bytes) != w.val {
			t.Errorf("attribute %d: got %s tag %d %q, want %s tag %d %q", i, got[i].Type, got[i].Value.Tag, got[i].Value.Bytes, w.oid, w.tag, w.val)
		}
	}
	if c.SerialNumber.String() != "123456789012345678901234567890" {
		t.Errorf("serial %s", c.SerialNumber)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement {
		t.Errorf("key usage %b", c.KeyUsage)
	}
	if !reflect.DeepEqual(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}) {
		t.Errorf("EKU %v, want clientAuth, serverAuth without the duplicate", c.ExtKeyUsage)
	}
	wantCrit := map[string]bool{"2.5.29.15": true, "2.5.29.19": true, "2.5.29.37": true, "2.5.29.17": false}
	for oid, want := range wantCrit {
		if gotCrit, ok := criticality(c)[oid]; !ok || gotCrit != want {
			t.Errorf("extension %s: present %v critical %v, want critical %v", oid, ok, gotCrit, want)
		}
	}
	if c.IsCA || !c.BasicConstraintsValid || string(c.AuthorityKeyId) != string(sub.SubjectKeyId) || len(c.CRLDistributionPoints) != 1 {
		t.Errorf("IsCA %v AKI %x CRL DPs %q", c.IsCA, c.AuthorityKeyId, c.CRLDistributionPoints)
	}
	if got := SANsOf(c); len(got) != 4 {
		t.Errorf("SANs %+v", got)
	}
	lintCert(t, "custom/full", is.DER)
	verifyCustomOpenSSL(t, ecc, is.DER, "sslclient")

	t.Run("empty-subject-makes-san-critical", func(t *testing.T) {
		r := full
		r.Subject, r.CustomAttributes, r.Critical = pca.Subject{}, nil, nil
		r.KeyUsage, r.ExtKeyUsages = 0, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		is, err := NewCustomLeaf(rand.Reader, r, sub, ecc.subKey)
		if err != nil {
			t.Fatal(err)
		}
		if string(is.Cert.RawSubject) != "\x30\x00" {
			t.Errorf("subject %x, want empty", is.Cert.RawSubject)
		}
		if crit := criticality(is.Cert); !crit["2.5.29.17"] || crit["2.5.29.37"] {
			t.Errorf("criticality %v: want SAN critical, EKU not", crit)
		}
		if is.Cert.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Errorf("default key usage for ECDSA %b, want digitalSignature", is.Cert.KeyUsage)
		}
		lintCert(t, "custom/empty-subject", is.DER)
		verifyCustomOpenSSL(t, ecc, is.DER, "sslserver")
	})
	t.Run("san-critical-on-request", func(t *testing.T) {
		r := full
		r.Critical = []string{"subjectAltName"}
		is, err := NewCustomLeaf(rand.Reader, r, sub, ecc.subKey)
		if err != nil {
			t.Fatal(err)
		}
		if crit := criticality(is.Cert); !crit["2.5.29.17"] || crit["2.5.29.37"] || !crit["2.5.29.15"] {
			t.Errorf("criticality %v", crit)
		}
	})
	t.Run("rsa-default-key-usage", func(t *testing.T) {
		rsa := buildChain(t, now, pca.RSA2048, pca.RSA2048, pca.RSA2048)
		r := CustomRequest{Subject: pca.Subject{CommonName: "rsa.example.com"}, DNSNames: []string{"rsa.example.com"},
			ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: nb, NotAfter: na, Serial: big.NewInt(77),
			PublicKey: testKey(t, pca.RSA2048).Public()}
		is, err := NewCustomLeaf(rand.Reader, r, rsa.sub.Cert, rsa.subKey)
		if err != nil {
			t.Fatal(err)
		}
		if is.Cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
			t.Errorf("default key usage for RSA %b", is.Cert.KeyUsage)
		}
		lintCert(t, "custom/rsa", is.DER)
	})
}

// verifyCustomOpenSSL checks a custom leaf under chain c with openssl verify
// in strict mode.
func verifyCustomOpenSSL(t *testing.T, c chain, der []byte, purpose string) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Log("openssl not on PATH; skipping openssl verify")
		return
	}
	dir := t.TempDir()
	write := func(name string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := []string{"verify", "-x509_strict", "-purpose", purpose, "-CAfile", write("root.pem", c.root.DER),
		"-untrusted", write("sub.pem", c.sub.DER), write("leaf.pem", der)}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), ": OK") {
		t.Errorf("openssl %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func TestNewCustomLeafRefusals(t *testing.T) {
	now := time.Now()
	ecc := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	rsa := buildChain(t, now, pca.RSA2048, pca.RSA2048, pca.RSA2048)
	sub := ecc.sub.Cert
	start := sub.NotBefore
	eccKey := testKey(t, pca.ECC256)
	base := func(f func(*CustomRequest)) CustomRequest {
		r := CustomRequest{Subject: pca.Subject{CommonName: "x"}, DNSNames: []string{"x.example.com"},
			NotBefore: start, NotAfter: start.AddDate(0, 0, 30), Serial: big.NewInt(5), PublicKey: eccKey.Public()}
		if f != nil {
			f(&r)
		}
		return r
	}
	attr := func(oid, v string) func(*CustomRequest) {
		return func(r *CustomRequest) { r.CustomAttributes = []Attribute{{OID: oid, Value: v}} }
	}
	tests := []struct {
		name   string
		req    CustomRequest
		rsa    bool
		kind   pca.Kind
		param  string
		substr string
	}{
		{name: "ok/baseline", req: base(nil)},
		{name: "ok/custom-attribute-only-subject", req: base(func(r *CustomRequest) { r.Subject = pca.Subject{}; attr("2.5.4.12", "Title")(r) })},
		{name: "fail/oid-one-arc", req: base(attr("2", "v")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/oid-letters", req: base(attr("2.5.4.x", "v")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/oid-first-arc-3", req: base(attr("3.1", "v")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/oid-second-arc-40", req: base(attr("1.40", "v")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/oid-leading-zero", req: base(attr("1.2.03", "v")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/oid-empty-arc", req: base(attr("1..2", "v")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/oid-huge-arc", req: base(attr("2.25.329800735698586629295641978511506172918", "v")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/attribute-empty-value", req: base(attr("2.5.4.12", "  ")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/attribute-too-long", req: base(attr("2.5.4.12", strings.Repeat("a", MaxAttributeValue+1))), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/attribute-control-char", req: base(attr("2.5.4.12", "a\x01b")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/printable-string-attribute", req: base(attr("2.5.4.5", "a@b")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/ia5-attribute", req: base(attr("1.2.840.113549.1.9.1", "ä@example.com")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/country-attribute", req: base(attr("2.5.4.6", "CHN")), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/too-many-attributes", req: base(func(r *CustomRequest) {
			r.CustomAttributes = make([]Attribute, MaxCustomAttributes+1)
		}), kind: pca.KindInvalid, param: ParamCustomAttributes},
		{name: "fail/subject-cn-too-long", req: base(func(r *CustomRequest) { r.Subject.CommonName = strings.Repeat("c", 65) }), kind: pca.KindInvalid, param: "ApiPassthrough.Subject.CommonName"},
		{name: "fail/subject-country", req: base(func(r *CustomRequest) { r.Subject.Country = "China" }), kind: pca.KindInvalid, param: "ApiPassthrough.Subject.Country"},
		{name: "fail/no-subject-no-sans", req: base(func(r *CustomRequest) { r.Subject, r.DNSNames = pca.Subject{}, nil }), kind: pca.KindMissing, param: ParamSubject},
		{name: "fail/upper-case-dns", req: base(func(r *CustomRequest) { r.DNSNames = []string{"X.example.com"} }), kind: pca.KindInvalid, param: ParamSANs},
		{name: "fail/key-cert-sign", req: base(func(r *CustomRequest) { r.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign }), kind: pca.KindInvalid, param: ParamKeyUsage},
		{name: "fail/ecdsa-key-encipherment", req: base(func(r *CustomRequest) { r.KeyUsage = x509.KeyUsageKeyEncipherment }), kind: pca.KindInvalid, param: ParamKeyUsage},
		{name: "fail/encipher-only-without-key-agreement", req: base(func(r *CustomRequest) { r.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageEncipherOnly }), kind: pca.KindInvalid, param: ParamKeyUsage},
		{name: "fail/encipher-and-decipher-only", req: base(func(r *CustomRequest) {
			r.KeyUsage = x509.KeyUsageKeyAgreement | x509.KeyUsageEncipherOnly | x509.KeyUsageDecipherOnly
		}), kind: pca.KindInvalid, param: ParamKeyUsage},
		{name: "fail/rsa-key-agreement", rsa: true, req: base(func(r *CustomRequest) {
			r.KeyUsage, r.PublicKey = x509.KeyUsageKeyAgreement, testKey(t, pca.RSA2048).Public()
		}), kind: pca.KindInvalid, param: ParamKeyUsage},
		{name: "fail/key-usage-inconsistent-with-eku", req: base(func(r *CustomRequest) {
			r.KeyUsage, r.ExtKeyUsages = x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}), kind: pca.KindInvalid, param: ParamKeyUsage, substr: "4.2.1.12"},
		{name: "ok/content-commitment-without-eku", req: base(func(r *CustomRequest) { r.KeyUsage = x509.KeyUsageContentCommitment })},
		{name: "fail/eku-outside-issuer", req: base(func(r *CustomRequest) { r.ExtKeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning} }), kind: pca.KindInvalid, param: ParamExtKeyUsages, substr: "serverAuth, clientAuth"},
		{name: "fail/eku-unsupported", req: base(func(r *CustomRequest) { r.ExtKeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageIPSECUser} }), kind: pca.KindInvalid, param: ParamExtKeyUsages},
		{name: "fail/critical-unknown", req: base(func(r *CustomRequest) { r.Critical = []string{"authorityKeyIdentifier"} }), kind: pca.KindInvalid, param: ParamCriticals},
		{name: "fail/critical-eku-without-ekus", req: base(func(r *CustomRequest) { r.Critical = []string{"extendedKeyUsage"} }), kind: pca.KindInvalid, param: ParamCriticals},
		{name: "fail/critical-san-without-sans", req: base(func(r *CustomRequest) {
			r.DNSNames, r.Critical = nil, []string{"subjectAltName"}
		}), kind: pca.KindInvalid, param: ParamCriticals},
		{name: "fail/zero-serial", req: base(func(r *CustomRequest) { r.Serial = big.NewInt(0) }), kind: pca.KindInvalid, param: ParamSerialNumber},
		{name: "fail/rsa-key-under-ecc-ca", req: base(func(r *CustomRequest) { r.PublicKey = testKey(t, pca.RSA2048).Public() }), kind: pca.KindInvalid, param: "Csr"},
		{name: "fail/weak-key", req: base(func(r *CustomRequest) { r.PublicKey = fakeRSA(1024) }), kind: pca.KindInvalid, param: "Csr"},
		{name: "fail/outside-issuer", req: base(func(r *CustomRequest) { r.NotAfter = sub.NotAfter.Add(time.Second) }), param: internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			issuer, key := sub, ecc.subKey
			if tc.rsa {
				issuer, key = rsa.sub.Cert, rsa.subKey
			}
			is, err := NewCustomLeaf(rand.Reader, tc.req, issuer, key)
			wantErr(t, err, tc.kind, tc.param)
			if tc.substr != "" && !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q lacks %q", err, tc.substr)
			}
			if tc.param == "" && (is == nil || is.Cert == nil) {
				t.Fatal("no certificate")
			}
		})
	}
}

func TestKeyUsageFromNames(t *testing.T) {
	ku, err := KeyUsageFromNames(ParamKeyUsage, map[string]bool{
		"DigitalSignature": true, "contentcommitment": true, "KeyEncipherment": true, "DataEncipherment": true,
		"KeyAgreement": true, "EncipherOnly": true, "DecipherOnly": false,
	})
	wantErr(t, err, 0, "")
	want := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment |
		x509.KeyUsageDataEncipherment | x509.KeyUsageKeyAgreement | x509.KeyUsageEncipherOnly
	if ku != want {
		t.Errorf("got %b, want %b", ku, want)
	}
	if ku, err := KeyUsageFromNames(ParamKeyUsage, map[string]bool{"NonRepudiation": true}); err != nil || ku != x509.KeyUsageContentCommitment {
		t.Errorf("NonRepudiation: got %b, %v", ku, err)
	}
	if ku, err := KeyUsageFromNames(ParamKeyUsage, nil); err != nil || ku != 0 {
		t.Errorf("none: got %b, %v", ku, err)
	}
	for _, n := range []string{"KeyCertSign", "CRLSign", "Signature"} {
		_, err := KeyUsageFromNames(ParamKeyUsage, map[string]bool{n: true})
		wantErr(t, err, pca.KindInvalid, ParamKeyUsage)
	}
}

func TestParseSANType(t *testing.T) {
	for in, want := range map[string]string{"rfc822Name": SANTypeRFC822Name, "DNSNAME": SANTypeDNSName, " uniformResourceIdentifier ": SANTypeURI, "ipaddress": SANTypeIPAddress} {
		if got, err := ParseSANType(in); err != nil || got != want {
			t.Errorf("ParseSANType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "DNS", "otherName", "directoryName", "URI"} {
		_, err := ParseSANType(in)
		wantErr(t, err, pca.KindInvalid, ParamSANs)
	}
}

func TestCustomSANs(t *testing.T) {
	dns, ips, emails, uris, err := CustomSANs([]SANItem{
		{"dNSName", "WWW.example.com"}, {"dnsname", "www.example.com"}, {"dNSName", "*.example.com"},
		{"iPAddress", "10.0.0.1"}, {"iPAddress", "::ffff:10.0.0.1"}, {"iPAddress", "2001:db8::1"},
		{"rfc822Name", "a@example.com"}, {"uniformResourceIdentifier", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"},
	})
	wantErr(t, err, 0, "")
	if !reflect.DeepEqual(dns, []string{"www.example.com", "*.example.com"}) || len(ips) != 2 || len(ips[0]) != 4 ||
		!reflect.DeepEqual(emails, []string{"a@example.com"}) || len(uris) != 1 {
		t.Errorf("got %q %v %q %v", dns, ips, emails, uris)
	}
	for name, items := range map[string][]SANItem{
		"bad-type":     {{"x400Address", "x"}},
		"empty-value":  {{"dNSName", " "}},
		"ip-as-dns":    {{"dNSName", "10.0.0.1"}},
		"bad-dns":      {{"dNSName", "a b"}},
		"bad-ip":       {{"iPAddress", "10.0.0"}},
		"bad-email":    {{"rfc822Name", "Bob <b@example.com>"}},
		"relative-uri": {{"uniformResourceIdentifier", "/x"}},
		"too-many":     manySANs(MaxNames + 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, _, _, err := CustomSANs(items)
			wantErr(t, err, pca.KindInvalid, ParamSANs)
		})
	}
}

func manySANs(n int) []SANItem {
	out := make([]SANItem, n)
	for i := range out {
		out[i] = SANItem{"dNSName", "h" + big.NewInt(int64(i)).String() + ".example.com"}
	}
	return out
}

func TestCustomSerial(t *testing.T) {
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))
	for in, want := range map[string]string{"1": "1", " 0042 ": "42", max.String(): max.String()} {
		got, err := CustomSerial(ParamSerialNumber, in)
		if err != nil || got.String() != want {
			t.Errorf("CustomSerial(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	_, err := CustomSerial(ParamSerialNumber, "")
	wantErr(t, err, pca.KindMissing, ParamSerialNumber)
	for _, in := range []string{"0", "000", "-1", "+1", "1e5", "0x10", "12 34", new(big.Int).Lsh(big.NewInt(1), 159).String(), strings.Repeat("9", 49)} {
		_, err := CustomSerial(ParamSerialNumber, in)
		wantErr(t, err, pca.KindInvalid, ParamSerialNumber)
	}
}

func TestSubjectFromCSR(t *testing.T) {
	key := testKey(t, pca.ECC256)
	text := makeCSR(t, key, pkix.Name{CommonName: "dev", Organization: []string{"pcad"}, OrganizationalUnit: []string{"A", "B"},
		Country: []string{"CN"}, ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 12}, Value: "Boss"}}})
	csr, err := ParseCSR("Csr", text)
	if err != nil {
		t.Fatal(err)
	}
	s, attrs, err := SubjectFromCSR("Csr", csr)
	if err != nil {
		t.Fatal(err)
	}
	if s != (pca.Subject{CommonName: "dev", Organization: "pcad", OrganizationUnit: "A", Country: "CN"}) {
		t.Errorf("subject %+v", s)
	}
	if !reflect.DeepEqual(attrs, []Attribute{{"2.5.4.11", "B"}, {"2.5.4.12", "Boss"}}) {
		t.Errorf("attributes %+v", attrs)
	}
	c := buildChain(t, time.Now(), pca.ECC256, pca.ECC256, pca.ECC256)
	is, err := NewCustomLeaf(rand.Reader, CustomRequest{Subject: s, CustomAttributes: attrs, NotBefore: c.sub.Cert.NotBefore,
		NotAfter: c.sub.Cert.NotBefore.AddDate(0, 1, 0), Serial: big.NewInt(3), PublicKey: csr.PublicKey}, c.sub.Cert, c.subKey)
	if err != nil {
		t.Fatal(err)
	}
	if ous := is.Cert.Subject.OrganizationalUnit; !reflect.DeepEqual(ous, []string{"A", "B"}) {
		t.Errorf("OUs %q", ous)
	}
}

func TestSubCAURLs(t *testing.T) {
	now := time.Now()
	c := buildChain(t, now, pca.ECC256, pca.ECC256, pca.ECC256)
	k := testKey(t, pca.ECC256)
	req := SubCARequest{Subject: pca.Subject{CommonName: "Sub with URLs"}, NotBefore: c.root.Cert.NotBefore, NotAfter: c.root.Cert.NotBefore.AddDate(5, 0, 0),
		Serial: big.NewInt(11), PublicKey: k.Public(), CRLDistributionPoints: []string{"http://crl.example.com/root.crl"},
		OCSPServers: []string{"http://ocsp.example.com/root"}, IssuingCertificateURLs: []string{"http://ca.example.com/root.cer"}}
	is, err := NewSubCA(rand.Reader, req, c.root.Cert, c.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(is.Cert.CRLDistributionPoints, req.CRLDistributionPoints) || !reflect.DeepEqual(is.Cert.OCSPServer, req.OCSPServers) ||
		!reflect.DeepEqual(is.Cert.IssuingCertificateURL, req.IssuingCertificateURLs) {
		t.Errorf("URLs %q %q %q", is.Cert.CRLDistributionPoints, is.Cert.OCSPServer, is.Cert.IssuingCertificateURL)
	}
	lintCert(t, "sub-with-urls", is.DER)
}
