package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
)

// makeCSR returns the PEM of a CSR for key with the given subject.
func makeCSR(t *testing.T, key crypto.Signer, subject pkix.Name) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: []string{"ignored.example.com"}}, key)
	if err != nil {
		t.Fatalf("CreateCertificateRequest: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// rsaExponent3 builds a 2048-bit RSA key with public exponent 3.
func rsaExponent3(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	three := big.NewInt(3)
	prime := func() *big.Int {
		for {
			p, err := rand.Prime(rand.Reader, 1024)
			if err != nil {
				t.Fatal(err)
			}
			if new(big.Int).Mod(p, three).Int64() == 2 {
				return p
			}
		}
	}
	p, q := prime(), prime()
	one := big.NewInt(1)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 3},
		D: new(big.Int).ModInverse(three, phi), Primes: []*big.Int{p, q}}
	k.Precompute()
	if err := k.Validate(); err != nil {
		t.Skipf("cannot build an e=3 key here: %v", err)
	}
	return k
}

func TestParseCSR(t *testing.T) {
	ecc := testKey(t, pca.ECC256)
	good := makeCSR(t, ecc, pkix.Name{CommonName: "alice", Organization: []string{"pcad"}})
	block, _ := pem.Decode([]byte(good))
	tampered := append([]byte(nil), block.Bytes...)
	tampered[len(tampered)-5] ^= 0x01 // inside the signature
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}

	tests := []struct {
		name    string
		text    string
		kind    pca.Kind
		msgPart string
	}{
		{name: "ok/ecdsa-p256", text: good},
		{name: "ok/rsa-2048", text: makeCSR(t, testKey(t, pca.RSA2048), pkix.Name{CommonName: "bob"})},
		{name: "ok/ecdsa-p521", text: makeCSR(t, testKey(t, pca.ECC512), pkix.Name{CommonName: "carol"})},
		{name: "ok/crlf-and-white-space", text: "\r\n  " + strings.ReplaceAll(good, "\n", "\r\n") + "\r\n\t"},
		{name: "ok/new-certificate-request", text: pemOf("NEW CERTIFICATE REQUEST", block.Bytes)},

		{name: "fail/empty", text: " \n", kind: pca.KindMissing},
		{name: "fail/too-large", text: good + strings.Repeat(" ", MaxCSRSize), kind: pca.KindInvalid, msgPart: "too large"},
		{name: "fail/not-pem", text: "hello", kind: pca.KindInvalid, msgPart: "BEGIN CERTIFICATE REQUEST"},
		{name: "fail/text-before", text: "Certificate Request:\n" + good, kind: pca.KindInvalid, msgPart: "BEGIN CERTIFICATE REQUEST"},
		{name: "fail/two-blocks", text: good + good, kind: pca.KindInvalid, msgPart: "exactly one"},
		{name: "fail/text-after", text: good + "trailer", kind: pca.KindInvalid, msgPart: "exactly one"},
		{name: "fail/broken-base64", text: strings.Replace(good, "M", "*", 3), kind: pca.KindInvalid, msgPart: "well-formed PEM"},
		{name: "fail/certificate-block", text: pemOf("CERTIFICATE", block.Bytes), kind: pca.KindInvalid, msgPart: `"CERTIFICATE"`},
		{name: "fail/pem-headers", text: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: block.Bytes})), kind: pca.KindInvalid, msgPart: "headers"},
		{name: "fail/not-der", text: pemOf("CERTIFICATE REQUEST", []byte("not DER at all")), kind: pca.KindInvalid, msgPart: "PKCS #10"},
		{name: "fail/bad-signature", text: pemOf("CERTIFICATE REQUEST", tampered), kind: pca.KindInvalid, msgPart: "signature does not verify"},
		{name: "fail/rsa-1024", text: makeCSR(t, rsa1024, pkix.Name{CommonName: "weak"}), kind: pca.KindInvalid, msgPart: "2048 to 8192 bits"},
		{name: "fail/p224", text: makeCSR(t, p224, pkix.Name{CommonName: "p224"}), kind: pca.KindInvalid, msgPart: "P-224"},
		{name: "fail/ed25519", text: makeCSR(t, edKey, pkix.Name{CommonName: "ed"}), kind: pca.KindInvalid, msgPart: "only RSA and ECDSA"},
	}
	if !testing.Short() {
		tests = append(tests, struct {
			name    string
			text    string
			kind    pca.Kind
			msgPart string
		}{name: "fail/rsa-exponent-3", text: makeCSR(t, rsaExponent3(t), pkix.Name{CommonName: "e3"}), kind: pca.KindInvalid, msgPart: "exponent 3"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			csr, err := ParseCSR("Csr", tc.text)
			if tc.kind == 0 && tc.msgPart == "" {
				if err != nil {
					t.Fatalf("got %v, want none", err)
				}
				if csr.Subject.CommonName == "" || csr.PublicKey == nil {
					t.Errorf("parsed CSR lacks subject or key: %+v", csr.Subject)
				}
				return
			}
			param := "Csr"
			wantErr(t, err, tc.kind, param)
			if e, _ := pca.AsError(err); !strings.Contains(e.Msg, tc.msgPart) {
				t.Errorf("message %q lacks %q", e.Msg, tc.msgPart)
			}
			if strings.Contains(tc.name, "rsa-1024") || strings.Contains(tc.name, "ed25519") {
				if !errors.Is(err, ErrUnsupportedKey) {
					t.Errorf("%v does not wrap ErrUnsupportedKey", err)
				}
			}
		})
	}
}

func TestCSRClientSANs(t *testing.T) {
	tests := []struct {
		name                   string
		sanType                int
		value                  string
		dns, ips, emails, uris []string
		kind                   pca.Kind
		param                  string
	}{
		{name: "ok/none", sanType: 0},
		{name: "ok/email", sanType: 1, value: "a@example.com, b@example.com", emails: []string{"a@example.com", "b@example.com"}},
		{name: "ok/uri", sanType: 6, value: "spiffe://example.org/x", uris: []string{"spiffe://example.org/x"}},
		{name: "ok/dns-lower-cased-deduplicated", sanType: 2, value: "Host.Example.com, host.example.com ,db", dns: []string{"host.example.com", "db"}},
		{name: "ok/ip", sanType: 7, value: "10.0.0.1, ::1, 10.0.0.1, ::ffff:10.0.0.2", ips: []string{"10.0.0.1", "::1", "10.0.0.2"}},

		{name: "fail/other-name", sanType: 0, value: "x", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/x400", sanType: 3, value: "x", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/directory-name", sanType: 4, value: "CN=x", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/edi-party", sanType: 5, value: "x", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/registered-id", sanType: 8, value: "1.2.3", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/nine", sanType: 9, value: "x", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/negative", sanType: -1, kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/dns-without-value", sanType: 2, value: " , ", kind: pca.KindMissing, param: "SanValue"},
		{name: "fail/dns-wildcard", sanType: 2, value: "*.example.com", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/dns-is-ip", sanType: 2, value: "10.0.0.1", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/dns-underscore", sanType: 2, value: "a_b.example.com", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/ip-not-ip", sanType: 7, value: "host.example.com", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/ip-too-many", sanType: 7, value: manyIPs(MaxNames + 1), kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/bad-email", sanType: 1, value: "not an email", kind: pca.KindInvalid, param: "SanValue"},
	}
	str := func(v any) []string {
		var out []string
		switch v := v.(type) {
		case []string:
			out = v
		case []net.IP:
			for _, ip := range v {
				out = append(out, ip.String())
			}
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dns, ips, emails, uris, err := CSRClientSANs(tc.sanType, tc.value)
			wantErr(t, err, tc.kind, tc.param)
			if tc.param != "" {
				if strings.Contains(tc.name, "x400") && !strings.Contains(err.Error(), "not supported") {
					t.Errorf("message %q does not say the type is not supported", err)
				}
				return
			}
			var gotURIs []string
			for _, u := range uris {
				gotURIs = append(gotURIs, u.String())
			}
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"dns", str(dns), tc.dns}, {"ips", str(ips), tc.ips}, {"emails", emails, tc.emails}, {"uris", gotURIs, tc.uris}} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
			for _, ip := range ips {
				if ip.To4() != nil && len(ip) != net.IPv4len {
					t.Errorf("IPv4 %s in %d-byte form", ip, len(ip))
				}
			}
		})
	}
}

func manyIPs(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(net.IPv4(10, 1, byte(i/256), byte(i%256)).String())
	}
	return b.String()
}
