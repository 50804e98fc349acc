package pki

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
)

// MaxCSRSize is the largest CSR text, in bytes, ParseCSR accepts. An 8192-bit
// RSA request with a long subject and many SANs stays well below it.
const MaxCSRSize = 64 << 10

// ParseCSR parses and checks the PEM text of a PKCS #10 certificate request
// given in API parameter param (usually "Csr").
//
// The text must hold exactly one PEM block of type "CERTIFICATE REQUEST" (or
// the older "NEW CERTIFICATE REQUEST"), without PEM headers; white space
// around it and CRLF line ends are accepted, any other text is not. It may
// be at most MaxCSRSize bytes. The public key must be one pcad signs for (see
// AlgorithmOf: RSA of MinRSABits to MaxRSABits bits with an odd public
// exponent of at least 65537, or ECDSA on P-256, P-384 or P-521), and the
// request's signature must verify with that key (proof of possession; SHA-1
// signatures are accepted there, MD5 ones are not).
//
// Only the key and, where the caller wants it, the subject of the request are
// meant to be used: ParseCSR does not look at the extensions it requests.
// Errors are pca.Missing(param) for empty text and pca.Invalid(param, ...)
// saying what is wrong; an unsupported key wraps ErrUnsupportedKey.
func ParseCSR(param, pemText string) (*x509.CertificateRequest, error) {
	bad := func(format string, args ...any) *pca.Error {
		return pca.Invalid(param, "The specified parameter %s is not valid: "+format, append([]any{param}, args...)...)
	}
	text := strings.TrimSpace(pemText)
	if text == "" {
		return nil, pca.Missing(param)
	}
	if len(pemText) > MaxCSRSize {
		return nil, pca.Invalid(param, "The specified parameter %s is too large: %d bytes, at most %d are allowed.", param, len(pemText), MaxCSRSize)
	}
	if !strings.HasPrefix(text, "-----BEGIN ") {
		return nil, bad("it must be a PEM certificate request starting with -----BEGIN CERTIFICATE REQUEST-----.")
	}
	block, rest := pem.Decode([]byte(text))
	if block == nil {
		return nil, bad("it is not a well-formed PEM block (check the BEGIN and END lines and the base64 text).")
	}
	if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
		return nil, bad("it holds a PEM block of type %q, not a CERTIFICATE REQUEST.", block.Type)
	}
	if len(block.Headers) > 0 {
		return nil, bad("PEM headers are not allowed in a certificate request.")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, bad("it must hold exactly one certificate request, but text follows its END line.")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		e := bad("it is not a valid PKCS #10 certificate request (%v).", err)
		e.Err = err
		return nil, e
	}
	if _, why := keyProblem(csr.PublicKey); why != "" {
		e := bad("%s", why)
		e.Err = ErrUnsupportedKey
		return nil, e
	}
	if k, ok := csr.PublicKey.(*rsa.PublicKey); ok && (k.E < 65537 || k.E%2 == 0) {
		e := bad("the RSA public exponent %d is not allowed: it must be odd and at least 65537.", k.E)
		e.Err = ErrUnsupportedKey
		return nil, e
	}
	if err := csr.CheckSignature(); err != nil {
		var insecure x509.InsecureAlgorithmError
		if errors.As(err, &insecure) {
			return nil, bad("it is signed with the insecure algorithm %s.", x509.SignatureAlgorithm(insecure))
		}
		e := bad("its signature does not verify with the public key it contains.")
		e.Err = err
		return nil, e
	}
	return csr, nil
}

// SanType values of CreateClientCertificateWithCsr beyond those of
// CreateClientCertificate (SanTypeEmail, SanTypeURI). They are the
// GeneralName tags of RFC 5280 4.2.1.6.
const (
	SanTypeOtherName     = 0 // refused; 0 with no SanValue means "not given", as SanTypeNone
	SanTypeDNS           = int(pca.SANDNS)
	SanTypeX400Address   = 3 // refused
	SanTypeDirectoryName = 4 // refused
	SanTypeEDIPartyName  = 5 // refused
	SanTypeIP            = int(pca.SANIP)
	SanTypeRegisteredID  = 8 // refused
)

// CSRClientSANs parses the SanType and SanValue parameters of
// CreateClientCertificateWithCsr, whose SanType is a GeneralName tag 0 to 8.
// sanValue is a comma-separated list, items trimmed and empty items ignored.
//
// Supported types: 1 (rfc822Name: email addresses) and 6 (URIs), checked as
// ClientSANs does; 2 (dNSName): DNS names as ServerNames checks them but
// without wildcards, lower-cased; 7 (iPAddress): IPv4 or IPv6 literals, IPv4
// in 4-byte form. SanType 0 without any SanValue means "not given" and yields
// no names (the API cannot tell 0 from absent). Duplicates are removed,
// keeping the first occurrence; at most MaxNames names.
//
// Errors: otherName (0 with a value), x400Address (3), directoryName (4),
// ediPartyName (5) and registeredID (8) are pca.Invalid("SanType", ... not
// supported ...), as is any number outside 0 to 8; a SanType without any
// SanValue is pca.Missing("SanValue"); a bad item is
// pca.Invalid("SanValue", ...).
func CSRClientSANs(sanType int, sanValue string) (dns []string, ips []net.IP, emails []string, uris []*url.URL, err error) {
	items := splitList(sanValue)
	switch sanType {
	case SanTypeEmail, SanTypeURI:
		emails, uris, err = ClientSANs(sanType, sanValue)
		return nil, nil, emails, uris, err
	case SanTypeDNS, SanTypeIP:
	case SanTypeOtherName:
		if len(items) == 0 {
			return nil, nil, nil, nil, nil
		}
		return nil, nil, nil, nil, pca.Invalid("SanType", "The specified parameter SanType value 0 (otherName) is not supported: use 1 (email), 2 (DNS), 6 (URI) or 7 (IP).")
	case SanTypeX400Address, SanTypeDirectoryName, SanTypeEDIPartyName, SanTypeRegisteredID:
		names := map[int]string{3: "x400Address", 4: "directoryName", 5: "ediPartyName", 8: "registeredID"}
		return nil, nil, nil, nil, pca.Invalid("SanType", "The specified parameter SanType value %d (%s) is not supported: use 1 (email), 2 (DNS), 6 (URI) or 7 (IP).", sanType, names[sanType])
	default:
		return nil, nil, nil, nil, pca.Invalid("SanType", "The specified parameter SanType value %d is not valid: it must be 0 to 8, and pcad supports 1 (email), 2 (DNS), 6 (URI) and 7 (IP).", sanType)
	}
	if len(items) == 0 {
		return nil, nil, nil, nil, pca.Missing("SanValue")
	}
	seen := make(map[string]bool)
	for _, item := range items {
		var key string
		if sanType == SanTypeIP {
			ip := parseIP(item)
			if ip == nil {
				return nil, nil, nil, nil, pca.Invalid("SanValue", "The specified parameter SanValue is not valid: %q is not an IPv4 or IPv6 address.", item)
			}
			if key = ip.String(); !seen[key] {
				ips = append(ips, ip)
			}
		} else {
			if parseIP(item) != nil {
				return nil, nil, nil, nil, pca.Invalid("SanValue", "The specified parameter SanValue is not valid: %q is an IP address; use SanType 7 for IP addresses.", item)
			}
			key = strings.ToLower(item)
			if err := checkDNSName(key, false); err != nil {
				return nil, nil, nil, nil, pca.Invalid("SanValue", "The specified parameter SanValue is not valid: %q is not a valid DNS name (%v).", item, err)
			}
			if !seen[key] {
				dns = append(dns, key)
			}
		}
		seen[key] = true
		if len(seen) > MaxNames {
			return nil, nil, nil, nil, pca.Invalid("SanValue", "The specified parameter SanValue lists too many names: at most %d are allowed.", MaxNames)
		}
	}
	return dns, ips, nil, nil, nil
}
