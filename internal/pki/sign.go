package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
)

// sign signs tmpl once, parses the DER again and compares the result with
// tmpl. parent is tmpl itself for a self-signed certificate. Every failure
// here is internal: the caller-facing checks have been done.
func sign(r io.Reader, tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, key crypto.Signer) (*Issued, error) {
	if r == nil {
		return nil, errors.New("pki: sign: nil random source")
	}
	der, err := x509.CreateCertificate(r, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse issued certificate: %w", err)
	}
	issuer := parent
	if parent == tmpl {
		issuer = c
	}
	// x509.CreateCertificate has verified the signature with key.Public();
	// that key being the issuer's certified key makes it the check that the
	// certificate verifies under its issuer (CheckSignatureFrom), without a
	// second signature verification.
	if err := signedByIssuer(issuer, key); err != nil {
		return nil, fmt.Errorf("pki: issued certificate does not verify: %w", err)
	}
	if err := compare(c, tmpl, pub, issuer); err != nil {
		return nil, fmt.Errorf("pki: issued certificate differs from the request: %w", err)
	}
	return &Issued{DER: der, Cert: c}, nil
}

// signedByIssuer checks what CheckSignatureFrom checks of the issuer besides
// the signature: it may sign certificates (a CA, with certSign when it has
// key usages), and key is the key its certificate names.
func signedByIssuer(issuer *x509.Certificate, key crypto.Signer) error {
	if issuer.Version == 3 && (!issuer.BasicConstraintsValid || !issuer.IsCA) {
		return errors.New("the issuer is not a CA")
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCertSign == 0 {
		return errors.New("the issuer's key usage does not allow signing certificates")
	}
	if !samePublicKey(key.Public(), issuer.PublicKey) {
		return errors.New("the signing key is not the key of the issuer's certificate")
	}
	return nil
}

// compare checks the parsed certificate c against the template it was made
// from and returns the first difference.
func compare(c, tmpl *x509.Certificate, pub crypto.PublicKey, issuer *x509.Certificate) error {
	wantSubject, err := asn1.Marshal(tmpl.Subject.ToRDNSequence())
	if err != nil {
		return fmt.Errorf("marshal subject: %w", err)
	}
	var diffs []string
	check := func(ok bool, what string) {
		if !ok {
			diffs = append(diffs, what)
		}
	}
	check(bytes.Equal(c.RawSubject, wantSubject), "subject")
	check(bytes.Equal(c.RawIssuer, issuer.RawSubject), "issuer")
	check(c.SerialNumber.Cmp(tmpl.SerialNumber) == 0, "serial number")
	check(c.NotBefore.Equal(tmpl.NotBefore), "notBefore")
	check(c.NotAfter.Equal(tmpl.NotAfter), "notAfter")
	check(samePublicKey(pub, c.PublicKey), "public key")
	check(c.SignatureAlgorithm == tmpl.SignatureAlgorithm, "signature algorithm")
	check(c.BasicConstraintsValid && c.IsCA == tmpl.IsCA, "basic constraints")
	check(!tmpl.IsCA || samePathLen(c, tmpl), "path length")
	check(c.KeyUsage == tmpl.KeyUsage, "key usage")
	check(slices.Equal(c.ExtKeyUsage, tmpl.ExtKeyUsage) && len(c.UnknownExtKeyUsage) == 0, "extended key usage")
	check(bytes.Equal(c.SubjectKeyId, tmpl.SubjectKeyId), "subject key identifier")
	check(bytes.Equal(c.AuthorityKeyId, issuer.SubjectKeyId), "authority key identifier")
	check(slices.Equal(c.DNSNames, tmpl.DNSNames), "DNS names")
	check(slices.EqualFunc(c.IPAddresses, tmpl.IPAddresses, net.IP.Equal), "IP addresses")
	check(slices.Equal(c.EmailAddresses, tmpl.EmailAddresses), "email addresses")
	check(slices.EqualFunc(c.URIs, tmpl.URIs, func(a, b *url.URL) bool { return a.String() == b.String() }), "URIs")
	check(slices.Equal(c.CRLDistributionPoints, tmpl.CRLDistributionPoints), "CRL distribution points")
	check(slices.Equal(c.OCSPServer, tmpl.OCSPServer), "OCSP servers")
	check(slices.Equal(c.IssuingCertificateURL, tmpl.IssuingCertificateURL), "CA issuers")
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, ", "))
	}
	return nil
}

// samePathLen compares the path length constraint of two CA certificates,
// treating every negative MaxPathLen as "no limit".
func samePathLen(c, tmpl *x509.Certificate) bool {
	if tmpl.MaxPathLen < 0 {
		return c.MaxPathLen < 0
	}
	return c.MaxPathLen == tmpl.MaxPathLen && c.MaxPathLenZero == (tmpl.MaxPathLen == 0)
}

// extKeyUsageNames maps the EKU names of the API (ExtendedKeyUsages.N) to Go
// values. Lookup is case-insensitive.
var extKeyUsageNames = []struct {
	name string
	eku  x509.ExtKeyUsage
}{
	{"serverAuth", x509.ExtKeyUsageServerAuth},
	{"clientAuth", x509.ExtKeyUsageClientAuth},
	{"codeSigning", x509.ExtKeyUsageCodeSigning},
	{"emailProtection", x509.ExtKeyUsageEmailProtection},
	{"timeStamping", x509.ExtKeyUsageTimeStamping},
	{"OCSPSigning", x509.ExtKeyUsageOCSPSigning},
}

// ParseExtKeyUsages turns the API's extended key usage names (serverAuth,
// clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning; any
// letter case) into x509 values, dropping duplicates and keeping order. An
// unknown name is pca.Invalid(param, ...). No names yields nil.
func ParseExtKeyUsages(param string, names []string) ([]x509.ExtKeyUsage, error) {
	var out []x509.ExtKeyUsage
next:
	for _, n := range names {
		n = strings.TrimSpace(n)
		for _, e := range extKeyUsageNames {
			if strings.EqualFold(n, e.name) {
				if !slices.Contains(out, e.eku) {
					out = append(out, e.eku)
				}
				continue next
			}
		}
		return nil, pca.Invalid(param, "The specified parameter %s value %q is not supported: use serverAuth, clientAuth, codeSigning, emailProtection, timeStamping or OCSPSigning.", param, n)
	}
	return out, nil
}

// ExtKeyUsageNames is the inverse of ParseExtKeyUsages: the API names of
// ekus in order; a usage without an API name is rendered as "EKU(<n>)".
func ExtKeyUsageNames(ekus []x509.ExtKeyUsage) []string {
	out := make([]string, 0, len(ekus))
next:
	for _, u := range ekus {
		for _, e := range extKeyUsageNames {
			if e.eku == u {
				out = append(out, e.name)
				continue next
			}
		}
		if u == x509.ExtKeyUsageAny {
			out = append(out, "anyExtendedKeyUsage")
			continue
		}
		out = append(out, fmt.Sprintf("EKU(%d)", int(u)))
	}
	return out
}
