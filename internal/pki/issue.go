package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Issued is a signed certificate: its DER encoding and the certificate parsed
// back from that DER. Both belong to the caller.
type Issued struct {
	DER  []byte
	Cert *x509.Certificate
}

// RootRequest describes a self-signed root CA certificate. All fields are
// required. The subject written is the one ValidateSubject returns (trimmed,
// country upper-cased); read it back from Issued.Cert with SubjectFromName.
// NotBefore and NotAfter are truncated to whole seconds (X.509 keeps no
// more); compute them with CAWindow.
type RootRequest struct {
	Subject   pca.Subject
	NotBefore time.Time
	NotAfter  time.Time
	Serial    *big.Int
}

// SubCARequest describes a subordinate CA certificate. PathLen is the
// pathLenConstraint to write (0 means "may issue only end-entity
// certificates"; it is always written). ExtKeyUsages, when not empty,
// restricts what the CA may issue; nil writes no EKU extension. PublicKey is
// the sub-CA's own key. Times as in RootRequest; compute them with CAWindow.
// The URL lists (the parent's CRL distribution points and OCSP responders,
// and where the parent's certificate can be fetched) are written as given;
// they come from configuration, not from the caller. Nil writes no
// extension.
type SubCARequest struct {
	Subject                pca.Subject
	NotBefore              time.Time
	NotAfter               time.Time
	Serial                 *big.Int
	PathLen                int
	ExtKeyUsages           []x509.ExtKeyUsage
	PublicKey              crypto.PublicKey
	CRLDistributionPoints  []string
	OCSPServers            []string
	IssuingCertificateURLs []string
}

// Profile is the kind of an end-entity certificate.
type Profile int

const (
	// ProfileServer is a TLS server certificate: EKU serverAuth; key usage
	// digitalSignature, plus keyEncipherment for RSA keys (RSA key
	// transport in TLS 1.2 and earlier). It must carry a DNS or IP SAN.
	ProfileServer Profile = iota + 1
	// ProfileClient is a TLS client certificate: EKU clientAuth; key usage
	// digitalSignature only, for every key type (RFC 5280 4.2.1.12 pairs
	// clientAuth with digitalSignature and/or keyAgreement).
	ProfileClient
)

// String returns "server" or "client".
func (p Profile) String() string {
	switch p {
	case ProfileServer:
		return "server"
	case ProfileClient:
		return "client"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// LeafRequest describes an end-entity certificate. Compute the window with
// LeafWindow, the DNS names and IPs with ServerNames and the emails and URIs
// with ClientSANs; NewLeaf checks them again. The URL lists (CRL
// distribution points, OCSP responders, CA issuers) are written as given;
// they come from configuration, not from the caller.
type LeafRequest struct {
	Profile                Profile
	Subject                pca.Subject
	NotBefore              time.Time
	NotAfter               time.Time
	Serial                 *big.Int
	DNSNames               []string
	IPAddresses            []net.IP
	EmailAddresses         []string
	URIs                   []*url.URL
	PublicKey              crypto.PublicKey
	CRLDistributionPoints  []string
	OCSPServers            []string
	IssuingCertificateURLs []string
}

// caKeyUsage is the key usage of every CA certificate pcad makes.
const caKeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature

// NewRoot makes a self-signed root CA certificate for key, reading signing
// randomness from r. The certificate has BasicConstraints CA=true (critical,
// no path length limit), KeyUsage keyCertSign, cRLSign and digitalSignature
// (critical), a SubjectKeyId (RFC 7093 method 1) repeated as AuthorityKeyId,
// and a signature algorithm chosen by the key (SHA-256 for RSA and P-256,
// SHA-384 for P-384, SHA-512 for P-521).
//
// The subject is checked with ValidateSubject (country parameter
// "CountryCode"), and the serial with CheckSerial; their errors are
// *pca.Error. A key pcad does not support is Invalid("Algorithm"). A window
// that is empty is an internal error (CAWindow would have refused it).
func NewRoot(r io.Reader, req RootRequest, key crypto.Signer) (*Issued, error) {
	if key == nil {
		return nil, errors.New("pki: new root: nil key")
	}
	subject, err := ValidateSubject(req.Subject, "CountryCode")
	if err != nil {
		return nil, err
	}
	pub := key.Public()
	if _, err := AlgorithmOf(pub); err != nil {
		return nil, err
	}
	if err := CheckSerial("SerialNumber", req.Serial); err != nil {
		return nil, err
	}
	nb, na, err := window(req.NotBefore, req.NotAfter)
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	sigAlg, err := signatureAlgorithmFor(pub)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).Set(req.Serial),
		Subject:               Name(subject),
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              caKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            -1,
		SubjectKeyId:          ski,
		AuthorityKeyId:        ski,
		SignatureAlgorithm:    sigAlg,
	}
	return sign(r, tmpl, pub, tmpl, key)
}

// NewSubCA signs a subordinate CA certificate for req.PublicKey with the
// issuer's key, reading signing randomness from r. The certificate has
// BasicConstraints CA=true (critical) with pathLenConstraint req.PathLen,
// KeyUsage keyCertSign, cRLSign and digitalSignature (critical), the EKUs of
// req.ExtKeyUsages when there are any, a SubjectKeyId, an AuthorityKeyId
// equal to the issuer's SubjectKeyId, and the CRL distribution point and
// authority information access URLs of the request. The signature algorithm
// follows the issuer's key.
//
// Refusals, as *pca.Error: a bad subject (ValidateSubject, "CountryCode") or
// serial (CheckSerial); an unsupported key or one of another family than the
// issuer's (Invalid("Algorithm")); an issuer that is not a CA allowed to sign
// certificates, or whose path length leaves no room for another CA
// (Invalid("ParentIdentifier")); a negative PathLen or one the issuer's path
// length does not allow (Invalid("PathLenConstraint")); EKUs outside those
// the issuer is restricted to (Invalid("ExtendedKeyUsages")). An empty
// window, one outside the issuer's validity, or an issuerKey that does not
// match issuer are internal errors (CAWindow refuses bad windows first).
func NewSubCA(r io.Reader, req SubCARequest, issuer *x509.Certificate, issuerKey crypto.Signer) (*Issued, error) {
	subject, err := ValidateSubject(req.Subject, "CountryCode")
	if err != nil {
		return nil, err
	}
	if err := checkIssuer(issuer, issuerKey, req.PublicKey, "Algorithm"); err != nil {
		return nil, err
	}
	if issuer.MaxPathLenZero && issuer.MaxPathLen == 0 {
		return nil, pca.Invalid("ParentIdentifier", "The CA given in ParentIdentifier has a path length of 0 and may not issue subordinate CA certificates.")
	}
	if req.PathLen < 0 {
		return nil, pca.Invalid("PathLenConstraint", "The specified parameter PathLenConstraint is not valid: it must be 0 or more.")
	}
	if issuer.MaxPathLen > 0 && req.PathLen >= issuer.MaxPathLen {
		return nil, pca.Invalid("PathLenConstraint", "The specified parameter PathLenConstraint is not valid: the parent CA allows at most %d.", issuer.MaxPathLen-1)
	}
	for _, u := range req.ExtKeyUsages {
		if !issuerAllows(issuer, u) {
			return nil, pca.Invalid("ExtendedKeyUsages", "The specified parameter ExtendedKeyUsages is not valid: the parent CA is restricted to %s.", strings.Join(ExtKeyUsageNames(issuer.ExtKeyUsage), ", "))
		}
	}
	tmpl, err := childTemplate("SerialNumber", req.Serial, req.NotBefore, req.NotAfter, req.PublicKey, issuer, issuerKey)
	if err != nil {
		return nil, err
	}
	tmpl.Subject = Name(subject)
	tmpl.KeyUsage = caKeyUsage
	tmpl.ExtKeyUsage = slices.Clone(req.ExtKeyUsages)
	tmpl.IsCA = true
	tmpl.MaxPathLen, tmpl.MaxPathLenZero = req.PathLen, req.PathLen == 0
	setIssuerURLs(tmpl, req.CRLDistributionPoints, req.OCSPServers, req.IssuingCertificateURLs)
	return sign(r, tmpl, req.PublicKey, issuer, issuerKey)
}

// NewLeaf signs an end-entity certificate for req.PublicKey with the
// issuer's key, reading signing randomness from r. The certificate has
// BasicConstraints CA=false (critical), the key usage and EKU of req.Profile
// (see ProfileServer and ProfileClient), the SANs of the request, a
// SubjectKeyId, an AuthorityKeyId equal to the issuer's SubjectKeyId, and the
// CRL distribution point and authority information access URLs of the
// request. The signature algorithm follows the issuer's key.
//
// Refusals, as *pca.Error: a bad subject (ValidateSubject, "Country") or
// serial (CheckSerial); an unsupported key or one of another family than the
// issuer's (Invalid("Algorithm")); an issuer that is not a CA allowed to sign
// certificates, or whose EKUs do not cover the profile
// (Invalid("ParentIdentifier")); DNS names or IPs ServerNames would refuse
// (Invalid("Domain")); emails or URIs ClientSANs would refuse
// (Invalid("SanValue")); more than MaxNames names. An unknown profile, a
// server profile without DNS or IP names, an empty window or one outside the
// issuer's validity, and an issuerKey that does not match issuer are internal
// errors (LeafWindow and ServerNames refuse those first).
func NewLeaf(r io.Reader, req LeafRequest, issuer *x509.Certificate, issuerKey crypto.Signer) (*Issued, error) {
	var eku x509.ExtKeyUsage
	switch req.Profile {
	case ProfileServer:
		eku = x509.ExtKeyUsageServerAuth
		if len(req.DNSNames)+len(req.IPAddresses) == 0 {
			return nil, errors.New("pki: new leaf: server certificate without DNS or IP names")
		}
	case ProfileClient:
		eku = x509.ExtKeyUsageClientAuth
	default:
		return nil, fmt.Errorf("pki: new leaf: unknown profile %d", int(req.Profile))
	}
	subject, err := ValidateSubject(req.Subject, "Country")
	if err != nil {
		return nil, err
	}
	if err := checkIssuer(issuer, issuerKey, req.PublicKey, "Algorithm"); err != nil {
		return nil, err
	}
	if !issuerAllows(issuer, eku) {
		return nil, pca.Invalid("ParentIdentifier", "The CA given in ParentIdentifier is restricted to %s and may not issue %s certificates.", strings.Join(ExtKeyUsageNames(issuer.ExtKeyUsage), ", "), req.Profile)
	}
	if err := checkLeafNames(req); err != nil {
		return nil, err
	}
	tmpl, err := childTemplate("SerialNumber", req.Serial, req.NotBefore, req.NotAfter, req.PublicKey, issuer, issuerKey)
	if err != nil {
		return nil, err
	}
	tmpl.Subject = Name(subject)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if req.Profile == ProfileServer && keyFamily(req.PublicKey) == pca.FamilyRSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{eku}
	setNames(tmpl, req.DNSNames, req.IPAddresses, req.EmailAddresses, req.URIs)
	setIssuerURLs(tmpl, req.CRLDistributionPoints, req.OCSPServers, req.IssuingCertificateURLs)
	return sign(r, tmpl, req.PublicKey, issuer, issuerKey)
}

// checkIssuer checks that issuer may sign a certificate for pub with
// issuerKey. An unsupported pub, or one of another family than the issuer's,
// is reported as pca.Invalid(keyParam, ...).
func checkIssuer(issuer *x509.Certificate, issuerKey crypto.Signer, pub crypto.PublicKey, keyParam string) error {
	if issuer == nil || issuerKey == nil {
		return errors.New("pki: nil issuer or issuer key")
	}
	if !samePublicKey(issuerKey.Public(), issuer.PublicKey) {
		return errors.New("pki: issuer key does not match the issuer certificate")
	}
	if !issuer.BasicConstraintsValid || !issuer.IsCA || issuer.KeyUsage&x509.KeyUsageCertSign == 0 {
		return pca.Invalid("ParentIdentifier", "The certificate given in ParentIdentifier is not a CA allowed to sign certificates.")
	}
	if len(issuer.SubjectKeyId) == 0 {
		return errors.New("pki: issuer certificate has no subject key identifier")
	}
	alg, why := keyProblem(pub)
	if why != "" {
		e := pca.Invalid(keyParam, "The specified parameter %s is not valid: %s", keyParam, why)
		e.Err = ErrUnsupportedKey
		return e
	}
	if want := keyFamily(issuer.PublicKey); keyFamily(pub) != want {
		return pca.Invalid(keyParam, "The specified parameter %s is not valid: the issuing CA has an %s key, so the certificate key must be %s too, not %s.", keyParam, want, want, alg)
	}
	return nil
}

// issuerAllows reports whether issuer's EKU extension, if any, permits u.
func issuerAllows(issuer *x509.Certificate, u x509.ExtKeyUsage) bool {
	if len(issuer.ExtKeyUsage) == 0 && len(issuer.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(issuer.ExtKeyUsage, x509.ExtKeyUsageAny) || slices.Contains(issuer.ExtKeyUsage, u)
}

// checkLeafNames re-checks the SANs of a leaf request with the rules of
// ServerNames and ClientSANs.
func checkLeafNames(req LeafRequest) error {
	return checkNames("Domain", "SanValue", req.DNSNames, req.IPAddresses, req.EmailAddresses, req.URIs)
}

// checkNames checks SANs with the rules of ServerNames and ClientSANs: DNS
// names and IPs are reported under dnsParam, emails and URIs under
// otherParam.
func checkNames(dnsParam, otherParam string, dns []string, ips []net.IP, emails []string, uris []*url.URL) error {
	if n := len(dns) + len(ips) + len(emails) + len(uris); n > MaxNames {
		return pca.Invalid(dnsParam, "The certificate would have %d subject alternative names: at most %d are allowed (%s).", n, MaxNames, dnsParam)
	}
	for _, d := range dns {
		if err := checkDNSName(d, true); err != nil || d != strings.ToLower(d) {
			return pca.Invalid(dnsParam, "The specified parameter %s is not valid: %q is not a valid lower-case DNS name.", dnsParam, d)
		}
	}
	for _, ip := range ips {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return pca.Invalid(dnsParam, "The specified parameter %s is not valid: %v is not an IP address.", dnsParam, ip)
		}
	}
	for _, e := range emails {
		if err := checkEmail(e); err != nil {
			return pca.Invalid(otherParam, "The specified parameter %s is not valid: %q is not a plain email address (%v).", otherParam, e, err)
		}
	}
	for _, u := range uris {
		if u == nil {
			return errors.New("pki: nil URI")
		}
		if _, err := parseSANURI(u.String()); err != nil {
			return pca.Invalid(otherParam, "The specified parameter %s is not valid: %q is not usable as a subject alternative name (%v).", otherParam, u, err)
		}
	}
	return nil
}

// window normalises a validity window to UTC whole seconds and checks that
// it is not empty.
func window(notBefore, notAfter time.Time) (time.Time, time.Time, error) {
	nb := notBefore.UTC().Truncate(time.Second)
	na := notAfter.UTC().Truncate(time.Second)
	if nb.IsZero() || na.IsZero() || !nb.Before(na) {
		return time.Time{}, time.Time{}, fmt.Errorf("pki: empty validity window [%s, %s]", utc(nb), utc(na))
	}
	return nb, na, nil
}

// childWindow is window plus containment in the issuer's validity.
func childWindow(notBefore, notAfter time.Time, issuer *x509.Certificate) (time.Time, time.Time, error) {
	nb, na, err := window(notBefore, notAfter)
	if err != nil {
		return nb, na, err
	}
	if nb.Before(issuer.NotBefore) || na.After(issuer.NotAfter) {
		return time.Time{}, time.Time{}, fmt.Errorf("pki: validity [%s, %s] is outside the issuer's [%s, %s]",
			utc(nb), utc(na), utc(issuer.NotBefore), utc(issuer.NotAfter))
	}
	return nb, na, nil
}

// childTemplate checks the serial (CheckSerial, reporting under
// serialParam) and the window (childWindow: UTC whole seconds, within the
// issuer's validity) of a certificate that issuer signs for pub, and returns
// a template holding what every such certificate has: that serial (a copy)
// and window, BasicConstraints (CA=false until the caller says otherwise), a
// SubjectKeyId of pub, an AuthorityKeyId equal to the issuer's SubjectKeyId
// and the signature algorithm of issuerKey. The caller adds the subject, the
// usages, the names and the URLs. The checks run in that order, so a bad
// serial is reported before a bad window.
func childTemplate(serialParam string, serial *big.Int, notBefore, notAfter time.Time, pub crypto.PublicKey, issuer *x509.Certificate, issuerKey crypto.Signer) (*x509.Certificate, error) {
	if err := CheckSerial(serialParam, serial); err != nil {
		return nil, err
	}
	nb, na, err := childWindow(notBefore, notAfter, issuer)
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	sigAlg, err := signatureAlgorithmFor(issuerKey.Public())
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber:          new(big.Int).Set(serial),
		NotBefore:             nb,
		NotAfter:              na,
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
		AuthorityKeyId:        issuer.SubjectKeyId,
		SignatureAlgorithm:    sigAlg,
	}, nil
}

// setNames writes copies of the subject alternative names into tmpl.
func setNames(tmpl *x509.Certificate, dns []string, ips []net.IP, emails []string, uris []*url.URL) {
	tmpl.DNSNames = slices.Clone(dns)
	tmpl.IPAddresses = slices.Clone(ips)
	tmpl.EmailAddresses = slices.Clone(emails)
	tmpl.URIs = slices.Clone(uris)
}

// setIssuerURLs writes copies of the CRL distribution points, the OCSP
// responders and the CA issuers URLs into tmpl; nil writes no extension.
func setIssuerURLs(tmpl *x509.Certificate, crl, ocspServers, issuers []string) {
	tmpl.CRLDistributionPoints = slices.Clone(crl)
	tmpl.OCSPServer = slices.Clone(ocspServers)
	tmpl.IssuingCertificateURL = slices.Clone(issuers)
}
