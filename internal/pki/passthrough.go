package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"net"
	"net/url"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
)

// SAN type names of ApiPassthrough.Extensions.SubjectAlternativeNames.N.Type.
const (
	SANTypeRFC822Name = "rfc822Name"
	SANTypeDNSName    = "dNSName"
	SANTypeURI        = "uniformResourceIdentifier"
	SANTypeIPAddress  = "iPAddress"
)

// ParseSANType returns the canonical spelling of a SAN type name of
// CreateCustomCertificate: rfc822Name, dNSName, uniformResourceIdentifier or
// iPAddress, matched in any letter case after trimming. Anything else is
// pca.Invalid(ParamSANs, ...).
func ParseSANType(name string) (string, error) {
	n := strings.TrimSpace(name)
	for _, t := range []string{SANTypeRFC822Name, SANTypeDNSName, SANTypeURI, SANTypeIPAddress} {
		if strings.EqualFold(n, t) {
			return t, nil
		}
	}
	return "", pca.Invalid(ParamSANs, "The specified parameter %s is not valid: the type %q is not supported; use rfc822Name, dNSName, uniformResourceIdentifier or iPAddress.", ParamSANs, name)
}

// CustomSANs parses the SubjectAlternativeNames of CreateCustomCertificate.
// Values are trimmed and must not be empty. dNSName values are checked and
// lower-cased as ServerNames does (wildcards allowed, IP literals refused),
// iPAddress values must be IPv4 or IPv6 literals (IPv4 returned in 4-byte
// form), rfc822Name and uniformResourceIdentifier values are checked as
// ClientSANs does. Duplicates are removed, keeping the first; at most
// MaxNames names. Every error is pca.Invalid(ParamSANs, ...).
func CustomSANs(items []SANItem) (dns []string, ips []net.IP, emails []string, uris []*url.URL, err error) {
	fail := func(format string, args ...any) ([]string, []net.IP, []string, []*url.URL, error) {
		return nil, nil, nil, nil, pca.Invalid(ParamSANs, "The specified parameter %s is not valid: "+format, append([]any{ParamSANs}, args...)...)
	}
	seen := make(map[string]bool)
	for _, it := range items {
		typ, err := ParseSANType(it.Type)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		v := strings.TrimSpace(it.Value)
		if v == "" {
			return fail("the value of a %s name is empty.", typ)
		}
		key := typ + ":" + v
		switch typ {
		case SANTypeDNSName:
			if parseIP(v) != nil {
				return fail("%q is an IP address; give it with type iPAddress.", v)
			}
			v = strings.ToLower(v)
			if err := checkDNSName(v, true); err != nil {
				return fail("%q is not a valid DNS name (%v).", it.Value, err)
			}
			if key = typ + ":" + v; !seen[key] {
				dns = append(dns, v)
			}
		case SANTypeIPAddress:
			ip := parseIP(v)
			if ip == nil {
				return fail("%q is not an IPv4 or IPv6 address.", v)
			}
			if key = typ + ":" + ip.String(); !seen[key] {
				ips = append(ips, ip)
			}
		case SANTypeRFC822Name:
			if err := checkEmail(v); err != nil {
				return fail("%q is not a plain email address like user@example.com (%v).", v, err)
			}
			if !seen[key] {
				emails = append(emails, v)
			}
		case SANTypeURI:
			u, err := parseSANURI(v)
			if err != nil {
				return fail("%q is not an absolute URI usable as a subject alternative name (%v).", v, err)
			}
			if !seen[key] {
				uris = append(uris, u)
			}
		}
		seen[key] = true
		if len(seen) > MaxNames {
			return fail("at most %d names are allowed.", MaxNames)
		}
	}
	return dns, ips, emails, uris, nil
}

// CustomSerial parses the caller's serial number of CreateCustomCertificate
// (ApiPassthrough.SerialNumber, given in decimal) into a certificate serial:
// surrounding white space is ignored; the rest must be decimal digits, the
// value positive (not zero) and at most 20 octets in DER (CheckSerial). An
// empty value is pca.Missing(param), anything else wrong
// pca.Invalid(param, ...).
func CustomSerial(param, decimal string) (*big.Int, error) {
	s := strings.TrimSpace(decimal)
	if s == "" {
		return nil, pca.Missing(param)
	}
	if !allDigits(s) || len(s) > 48 {
		return nil, pca.Invalid(param, "The specified parameter %s is not valid: %q is not a positive decimal number of at most 48 digits.", param, decimal)
	}
	n, _ := new(big.Int).SetString(s, 10)
	if n.Sign() == 0 {
		return nil, pca.Invalid(param, "The specified parameter %s is not valid: a serial number must not be zero.", param)
	}
	if err := CheckSerial(param, n); err != nil {
		return nil, err
	}
	return n, nil
}

// OIDs of the subject attributes pca.Subject holds.
var subjectOIDs = map[string]func(*pca.Subject) *string{
	"2.5.4.3":  func(s *pca.Subject) *string { return &s.CommonName },
	"2.5.4.10": func(s *pca.Subject) *string { return &s.Organization },
	"2.5.4.11": func(s *pca.Subject) *string { return &s.OrganizationUnit },
	"2.5.4.7":  func(s *pca.Subject) *string { return &s.Locality },
	"2.5.4.8":  func(s *pca.Subject) *string { return &s.State },
	"2.5.4.6":  func(s *pca.Subject) *string { return &s.Country },
}

// SubjectFromCSR splits the subject of csr into the fields of pca.Subject
// (the first CN, O, OU, L, ST and C) and custom attributes for everything
// else (further values of those types, and any other attribute), in the
// order of the request. Use it when CreateCustomCertificate gives no Subject
// and the CSR's is to be used; NewCustomLeaf then checks both parts and
// writes them in its own fixed order. An attribute whose value is not text
// is pca.Invalid(param, ...) (param is usually "Csr").
func SubjectFromCSR(param string, csr *x509.CertificateRequest) (pca.Subject, []Attribute, error) {
	var s pca.Subject
	var attrs []Attribute
	for _, atv := range csr.Subject.Names {
		v, ok := atv.Value.(string)
		if !ok {
			return pca.Subject{}, nil, pca.Invalid(param, "The specified parameter %s is not valid: the subject attribute %s of the certificate request is not text.", param, asn1.ObjectIdentifier(atv.Type))
		}
		if field, ok := subjectOIDs[atv.Type.String()]; ok && *field(&s) == "" {
			*field(&s) = v
			continue
		}
		attrs = append(attrs, Attribute{OID: atv.Type.String(), Value: v})
	}
	return s, attrs, nil
}
