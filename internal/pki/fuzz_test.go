package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/pcad-dev/pcad/internal/pca"
)

// seedCSR returns a valid PEM CSR for the seed corpora.
func seedCSR(f *testing.F) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "fuzz.example", Organization: []string{"Acme"}}, DNSNames: []string{"fuzz.example"}}, key)
	if err != nil {
		f.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// FuzzParseCSR: any text either parses to a CSR whose signature checks and
// whose key pcad supports, or is refused with a parameter error naming the
// parameter; never a panic or another kind of error.
//
//	go test ./internal/pki -run '^$' -fuzz FuzzParseCSR -fuzztime 10m
func FuzzParseCSR(f *testing.F) {
	valid := seedCSR(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")
	f.Add("-----BEGIN NEW CERTIFICATE REQUEST-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END NEW CERTIFICATE REQUEST-----")
	f.Add(valid + valid)
	f.Fuzz(func(t *testing.T, text string) {
		csr, err := ParseCSR("Csr", text)
		if err != nil {
			var pe *pca.Error
			if !errors.As(err, &pe) || (pe.Kind != pca.KindInvalid && pe.Kind != pca.KindMissing) {
				t.Fatalf("ParseCSR error is not a parameter error: %T %v", err, err)
			}
			return
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("accepted a CSR whose signature does not check: %v", err)
		}
		if _, err := AlgorithmOf(csr.PublicKey); err != nil {
			t.Fatalf("accepted a CSR with an unsupported key: %v", err)
		}
	})
}

// FuzzParseOCSPRequest: any bytes either parse to a request about exactly
// one certificate, or are refused as a parameter error; never a panic.
//
//	go test ./internal/pki -run '^$' -fuzz FuzzParseOCSPRequest -fuzztime 10m
func FuzzParseOCSPRequest(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, NotBefore: time.Now(),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ca, _ := x509.ParseCertificate(der)
	req, err := ocsp.CreateRequest(ca, ca, &ocsp.RequestOptions{Hash: 0})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(req)
	f.Add(req[:len(req)-1])
	f.Add([]byte{0x30, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, der []byte) {
		r, _, err := ParseOCSPRequest(der)
		if err != nil {
			var pe *pca.Error
			if !errors.As(err, &pe) || (pe.Kind != pca.KindInvalid && pe.Kind != pca.KindMissing) {
				t.Fatalf("ParseOCSPRequest error is not a parameter error: %T %v", err, err)
			}
			return
		}
		if r == nil || r.SerialNumber == nil {
			t.Fatal("accepted a request without a serial number")
		}
	})
}

// FuzzCustomInputs: the ApiPassthrough parsers (validity window, serial,
// OID, SAN type) refuse bad text with parameter errors and never panic.
//
//	go test ./internal/pki -run '^$' -fuzz FuzzCustomInputs -fuzztime 10m
func FuzzCustomInputs(f *testing.F) {
	f.Add("2026-01-01T00:00:00Z/2027-01-01T00:00:00Z", "12345", "1.2.840.113549.1.9.1", "DNS")
	f.Add("P1Y", "-1", "2.5.29.17.", "")
	f.Add("", "0x10", "99999999999999999999.1", "IP")
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, validity, serial, oid, sanType string) {
		check := func(what string, err error) {
			if err == nil {
				return
			}
			var pe *pca.Error
			if !errors.As(err, &pe) && what != "oid" {
				t.Fatalf("%s: error is not a parameter error: %T %v", what, err, err)
			}
		}
		nb, na, err := ParseValidity("Validity", validity, now)
		check("validity", err)
		if err == nil && !na.After(nb) {
			t.Fatalf("ParseValidity(%q) accepted an empty window %v..%v", validity, nb, na)
		}
		n, err := CustomSerial("SerialNumber", serial)
		check("serial", err)
		if err == nil && n.Sign() <= 0 {
			t.Fatalf("CustomSerial(%q) accepted %v", serial, n)
		}
		_, err = ParseOID(oid)
		check("oid", err)
		_, err = ParseSANType(sanType)
		check("san type", err)
	})
}
