package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
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

// API parameter names of CreateCustomCertificate's ApiPassthrough, as
// NewCustomLeaf and its helpers report them.
const (
	ParamSubject          = "ApiPassthrough.Subject"
	ParamCustomAttributes = "ApiPassthrough.Subject.CustomAttributes"
	ParamKeyUsage         = "ApiPassthrough.Extensions.KeyUsage"
	ParamExtKeyUsages     = "ApiPassthrough.Extensions.ExtendedKeyUsages"
	ParamSANs             = "ApiPassthrough.Extensions.SubjectAlternativeNames"
	ParamCriticals        = "ApiPassthrough.Extensions.Criticals"
	ParamSerialNumber     = "ApiPassthrough.SerialNumber"
)

// Limits on custom subject attributes.
const (
	MaxCustomAttributes = 16  // attributes per certificate
	MaxAttributeValue   = 256 // characters per value
)

// Attribute is one extra subject attribute of a custom certificate: an OID in
// dotted-decimal form (such as "2.5.4.12" for title) and its text value.
type Attribute struct {
	OID   string
	Value string
}

// SANItem is one ApiPassthrough.Extensions.SubjectAlternativeNames entry:
// Type is a name ParseSANType accepts, Value the name itself.
type SANItem struct {
	Type  string
	Value string
}

// CustomRequest describes a CreateCustomCertificate end-entity certificate.
//
// Subject fields are all optional (trimmed, checked as ValidateSubject
// does); CustomAttributes add further subject attributes after them. The
// subject is written in a fixed order: C, ST, L, O, OU, CN, then the custom
// attributes in the order given, one RDN each. KeyUsage zero means the
// default: digitalSignature, plus keyEncipherment for an RSA key when the
// EKUs allow it.
// ExtKeyUsages nil writes no EKU extension. DNSNames, IPAddresses,
// EmailAddresses and URIs are the SANs (see CustomSANs). Critical names
// extensions to mark critical (see NewCustomLeaf). Times as in LeafRequest
// (use ParseValidity and FitIssuer). Serial is the caller's (CustomSerial)
// or a random one (NewSerial). PublicKey is the key of the request's CSR.
// The URL lists come from configuration and are written as given.
type CustomRequest struct {
	Subject                pca.Subject
	CustomAttributes       []Attribute
	KeyUsage               x509.KeyUsage
	ExtKeyUsages           []x509.ExtKeyUsage
	DNSNames               []string
	IPAddresses            []net.IP
	EmailAddresses         []string
	URIs                   []*url.URL
	Critical               []string
	NotBefore, NotAfter    time.Time
	Serial                 *big.Int
	PublicKey              crypto.PublicKey
	CRLDistributionPoints  []string
	OCSPServers            []string
	IssuingCertificateURLs []string
}

// Extension OIDs NewCustomLeaf writes or checks.
var (
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// criticalNames maps the names Critical accepts to extension OIDs.
var criticalNames = []struct {
	name string
	oid  asn1.ObjectIdentifier
}{
	{"keyUsage", oidExtKeyUsage},
	{"extendedKeyUsage", oidExtExtKeyUsage},
	{"subjectAltName", oidExtSubjectAltName},
	{"basicConstraints", oidExtBasicConstraints},
}

// NewCustomLeaf signs a CreateCustomCertificate end-entity certificate for
// req.PublicKey with the issuer's key, reading signing randomness from r,
// with the same discipline as NewLeaf: everything is checked before signing,
// and the issued certificate is parsed again and compared with the request.
// It has BasicConstraints CA=false, the key usage, EKUs and SANs of the
// request, a SubjectKeyId, an AuthorityKeyId equal to the issuer's
// SubjectKeyId, and the request's CRL and AIA URLs.
//
// Criticality: keyUsage and basicConstraints are always critical (RFC 5280
// 4.2.1.3 asks for it; naming them in Critical is accepted and changes
// nothing). extendedKeyUsage is critical when named. subjectAltName is
// critical when named (RFC 5280 4.2.1.6 says SHOULD NOT with a non-empty
// subject; the pass-through API gives the caller that choice), and always
// when the subject is empty.
//
// Subject: it may be empty only when the certificate has at least one SAN;
// subjectAltName is then made critical, as RFC 5280 4.2.1.6 requires.
//
// Refusals, as *pca.Error: subject fields as ValidateSubject would refuse
// them (Param "ApiPassthrough.Subject.<Field>", CommonName optional); a bad
// custom attribute (ParamCustomAttributes); no subject and no SAN
// (KindMissing, ParamSubject); SANs CustomSANs would refuse (ParamSANs); key
// usages a leaf or its key type cannot have (ParamKeyUsage): keyCertSign,
// cRLSign, keyEncipherment or dataEncipherment with an ECDSA key,
// keyAgreement with an RSA key, encipherOnly or decipherOnly without
// keyAgreement or together, a bit RFC 5280 4.2.1.12 does not pair with any
// of the EKUs (for example contentCommitment with serverAuth only); EKUs
// outside those the issuer is restricted to, or without an API name
// (ParamExtKeyUsages); an unknown or pointless Critical name
// (ParamCriticals); a bad serial (ParamSerialNumber); an unsupported key or
// one of another family than the issuer's (Invalid("Csr")); an issuer that
// is not a CA (Invalid("ParentIdentifier")). A window outside the issuer's
// validity (FitIssuer refuses it first) and an issuerKey that does not match
// issuer are internal errors.
func NewCustomLeaf(r io.Reader, req CustomRequest, issuer *x509.Certificate, issuerKey crypto.Signer) (*Issued, error) {
	if err := checkIssuer(issuer, issuerKey, req.PublicKey, "Csr"); err != nil {
		return nil, err
	}
	name, err := customName(req.Subject, req.CustomAttributes)
	if err != nil {
		return nil, err
	}
	nSANs := len(req.DNSNames) + len(req.IPAddresses) + len(req.EmailAddresses) + len(req.URIs)
	if err := checkNames(ParamSANs, ParamSANs, req.DNSNames, req.IPAddresses, req.EmailAddresses, req.URIs); err != nil {
		return nil, err
	}
	if len(name.ExtraNames) == 0 && nSANs == 0 {
		return nil, &pca.Error{Kind: pca.KindMissing, Param: ParamSubject,
			Msg: "The certificate would have neither a subject nor a subject alternative name: give " + ParamSubject + " or " + ParamSANs + "."}
	}
	var ekus []x509.ExtKeyUsage
	for _, u := range req.ExtKeyUsages {
		if _, ok := ekuOID(u); !ok {
			return nil, pca.Invalid(ParamExtKeyUsages, "The specified parameter %s is not valid: %s is not supported.", ParamExtKeyUsages, ExtKeyUsageNames([]x509.ExtKeyUsage{u})[0])
		}
		if !issuerAllows(issuer, u) {
			return nil, pca.Invalid(ParamExtKeyUsages, "The specified parameter %s is not valid: the issuing CA is restricted to %s.", ParamExtKeyUsages, strings.Join(ExtKeyUsageNames(issuer.ExtKeyUsage), ", "))
		}
		if !slices.Contains(ekus, u) {
			ekus = append(ekus, u)
		}
	}
	ku, err := customKeyUsage(req.KeyUsage, req.PublicKey, ekus)
	if err != nil {
		return nil, err
	}
	critical, err := parseCriticals(req.Critical, len(ekus) > 0, nSANs > 0)
	if err != nil {
		return nil, err
	}
	if len(name.ExtraNames) == 0 {
		critical[oidExtSubjectAltName.String()] = true
	}
	tmpl, err := childTemplate(ParamSerialNumber, req.Serial, req.NotBefore, req.NotAfter, req.PublicKey, issuer, issuerKey)
	if err != nil {
		return nil, err
	}
	tmpl.Subject, tmpl.KeyUsage, tmpl.ExtKeyUsage = name, ku, ekus
	setNames(tmpl, req.DNSNames, req.IPAddresses, req.EmailAddresses, req.URIs)
	setIssuerURLs(tmpl, req.CRLDistributionPoints, req.OCSPServers, req.IssuingCertificateURLs)
	// crypto/x509 writes EKU never critical and SAN critical only for an
	// empty subject; a wanted criticality is written by hand instead.
	if critical[oidExtExtKeyUsage.String()] {
		ext, err := ekuExtension(ekus)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	if critical[oidExtSubjectAltName.String()] {
		ext, err := sanExtension(tmpl.DNSNames, tmpl.EmailAddresses, tmpl.IPAddresses, tmpl.URIs)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	is, err := sign(r, tmpl, req.PublicKey, issuer, issuerKey)
	if err != nil {
		return nil, err
	}
	for _, ext := range is.Cert.Extensions {
		if want, ok := critical[ext.Id.String()]; ok && ext.Critical != want {
			return nil, fmt.Errorf("pki: issued certificate differs from the request: criticality of extension %s", ext.Id)
		}
	}
	return is, nil
}

// customName builds the subject of a custom certificate as ExtraNames only,
// so that crypto/x509 writes every attribute in the order given and never
// drops a standard attribute because a custom one has the same type.
func customName(s pca.Subject, attrs []Attribute) (pkix.Name, error) {
	s, err := validateSubject(s, ParamSubject+".", ParamSubject+".Country", false)
	if err != nil {
		return pkix.Name{}, err
	}
	if len(attrs) > MaxCustomAttributes {
		return pkix.Name{}, pca.Invalid(ParamCustomAttributes, "The specified parameter %s lists %d attributes: at most %d are allowed.", ParamCustomAttributes, len(attrs), MaxCustomAttributes)
	}
	var name pkix.Name
	for _, rdn := range Name(s).ToRDNSequence() {
		name.ExtraNames = append(name.ExtraNames, rdn...)
	}
	for _, a := range attrs {
		atv, err := customAttribute(a)
		if err != nil {
			return pkix.Name{}, err
		}
		name.ExtraNames = append(name.ExtraNames, atv)
	}
	return name, nil
}

// String types of attributes that are not DirectoryString. Every other
// custom attribute is written as a UTF8String (RFC 5280 4.1.2.4).
var attributeStringTags = map[string]int{
	"2.5.4.6":                    asn1.TagPrintableString, // countryName
	"2.5.4.5":                    asn1.TagPrintableString, // serialNumber
	"2.5.4.46":                   asn1.TagPrintableString, // dnQualifier
	"1.2.840.113549.1.9.1":       asn1.TagIA5String,       // emailAddress
	"0.9.2342.19200300.100.1.25": asn1.TagIA5String,       // domainComponent
}

// customAttribute checks one custom attribute and encodes its value.
func customAttribute(a Attribute) (pkix.AttributeTypeAndValue, error) {
	oid, err := ParseOID(strings.TrimSpace(a.OID))
	if err != nil {
		return pkix.AttributeTypeAndValue{}, pca.Invalid(ParamCustomAttributes, "The specified parameter %s is not valid: %q is not a dotted-decimal object identifier such as 2.5.4.12 (%v).", ParamCustomAttributes, a.OID, err)
	}
	v := strings.TrimSpace(a.Value)
	if v == "" {
		return pkix.AttributeTypeAndValue{}, pca.Invalid(ParamCustomAttributes, "The specified parameter %s is not valid: the value of %s is empty.", ParamCustomAttributes, oid)
	}
	if err := checkText(ParamCustomAttributes, v, MaxAttributeValue); err != nil {
		return pkix.AttributeTypeAndValue{}, err
	}
	tag, ok := attributeStringTags[oid.String()]
	if !ok {
		tag = asn1.TagUTF8String
	}
	switch {
	case tag == asn1.TagPrintableString && !isPrintableString(v):
		return pkix.AttributeTypeAndValue{}, pca.Invalid(ParamCustomAttributes, "The specified parameter %s is not valid: the value of %s may only hold letters, digits, spaces and '()+,-./:=?.", ParamCustomAttributes, oid)
	case tag == asn1.TagIA5String && !isASCIIPrintable(v):
		return pkix.AttributeTypeAndValue{}, pca.Invalid(ParamCustomAttributes, "The specified parameter %s is not valid: the value of %s may only hold ASCII characters without spaces.", ParamCustomAttributes, oid)
	case oid.String() == "2.5.4.6" && (len(v) != 2 || !isASCIILetter(v[0]) || !isASCIILetter(v[1])):
		return pkix.AttributeTypeAndValue{}, pca.Invalid(ParamCustomAttributes, "The specified parameter %s is not valid: countryName (2.5.4.6) must be a two-letter ISO 3166 code.", ParamCustomAttributes)
	}
	return pkix.AttributeTypeAndValue{Type: oid, Value: asn1.RawValue{Tag: tag, Bytes: []byte(v)}}, nil
}

// ParseOID parses a dotted-decimal object identifier: at least two arcs of
// decimal digits without leading zeros, the first 0, 1 or 2, the second
// below 40 when the first is 0 or 1, each below 2^31, at most 64 arcs. The
// error text is a short reason.
func ParseOID(s string) (asn1.ObjectIdentifier, error) {
	arcs := strings.Split(s, ".")
	if len(arcs) < 2 || len(arcs) > 64 {
		return nil, errors.New("an object identifier has 2 to 64 arcs")
	}
	oid := make(asn1.ObjectIdentifier, len(arcs))
	for i, a := range arcs {
		if a == "" || !allDigits(a) || len(a) > 1 && a[0] == '0' || len(a) > 10 {
			return nil, fmt.Errorf("arc %q is not a decimal number without leading zeros", a)
		}
		var n int64
		for _, c := range a {
			n = n*10 + int64(c-'0')
		}
		if n >= 1<<31 {
			return nil, fmt.Errorf("arc %s is too large", a)
		}
		oid[i] = int(n)
	}
	if oid[0] > 2 || oid[0] < 2 && oid[1] >= 40 {
		return nil, errors.New("the first arc must be 0, 1 or 2, and the second below 40 unless the first is 2")
	}
	return oid, nil
}

// isPrintableString reports whether s fits the ASN.1 PrintableString set.
func isPrintableString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(" '()+,-./:=?", c) >= 0) {
			return false
		}
	}
	return true
}

// ekuKeyUsages lists, per EKU, the key usage bits RFC 5280 4.2.1.12 calls
// consistent with it.
var ekuKeyUsages = map[x509.ExtKeyUsage]x509.KeyUsage{
	x509.ExtKeyUsageServerAuth:      x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
	x509.ExtKeyUsageClientAuth:      x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
	x509.ExtKeyUsageCodeSigning:     x509.KeyUsageDigitalSignature,
	x509.ExtKeyUsageEmailProtection: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
	x509.ExtKeyUsageTimeStamping:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	x509.ExtKeyUsageOCSPSigning:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
}

// customKeyUsage applies the default and the key usage rules of
// NewCustomLeaf for a key pub and the (checked) EKUs ekus.
func customKeyUsage(ku x509.KeyUsage, pub crypto.PublicKey, ekus []x509.ExtKeyUsage) (x509.KeyUsage, error) {
	family := keyFamily(pub)
	allowed := x509.KeyUsage(0)
	for _, u := range ekus {
		allowed |= ekuKeyUsages[u]
		if u == x509.ExtKeyUsageAny {
			allowed = ^x509.KeyUsage(0)
		}
	}
	if len(ekus) == 0 {
		allowed = ^x509.KeyUsage(0)
	}
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature
		if family == pca.FamilyRSA && allowed&x509.KeyUsageKeyEncipherment != 0 {
			ku |= x509.KeyUsageKeyEncipherment
		}
		return ku, nil
	}
	bad := func(why string) (x509.KeyUsage, error) {
		return 0, pca.Invalid(ParamKeyUsage, "The specified parameter %s is not valid: %s.", ParamKeyUsage, why)
	}
	has := func(u x509.KeyUsage) bool { return ku&u != 0 }
	switch {
	case has(x509.KeyUsageCertSign | x509.KeyUsageCRLSign):
		return bad("keyCertSign and cRLSign belong to CA certificates")
	case family == pca.FamilyECC && has(x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment):
		return bad("an ECDSA key cannot be used for KeyEncipherment or DataEncipherment (RFC 5480)")
	case family == pca.FamilyRSA && has(x509.KeyUsageKeyAgreement|x509.KeyUsageEncipherOnly|x509.KeyUsageDecipherOnly):
		return bad("an RSA key cannot be used for KeyAgreement, EncipherOnly or DecipherOnly (RFC 3279)")
	case has(x509.KeyUsageEncipherOnly|x509.KeyUsageDecipherOnly) && !has(x509.KeyUsageKeyAgreement):
		return bad("EncipherOnly and DecipherOnly need KeyAgreement")
	case has(x509.KeyUsageEncipherOnly) && has(x509.KeyUsageDecipherOnly):
		return bad("EncipherOnly and DecipherOnly exclude each other")
	case ku&^allowed != 0:
		return bad("it is not consistent with the extended key usages " + strings.Join(ExtKeyUsageNames(ekus), ", ") + " (RFC 5280 4.2.1.12)")
	}
	return ku, nil
}

// keyUsageNames maps the API's KeyUsage names to bits.
var keyUsageNames = []struct {
	name string
	ku   x509.KeyUsage
}{
	{"DigitalSignature", x509.KeyUsageDigitalSignature},
	{"ContentCommitment", x509.KeyUsageContentCommitment},
	{"NonRepudiation", x509.KeyUsageContentCommitment},
	{"KeyEncipherment", x509.KeyUsageKeyEncipherment},
	{"DataEncipherment", x509.KeyUsageDataEncipherment},
	{"KeyAgreement", x509.KeyUsageKeyAgreement},
	{"EncipherOnly", x509.KeyUsageEncipherOnly},
	{"DecipherOnly", x509.KeyUsageDecipherOnly},
}

// KeyUsageFromNames turns the ApiPassthrough.Extensions.KeyUsage flags into
// key usage bits: names are DigitalSignature, ContentCommitment (or its old
// name NonRepudiation), KeyEncipherment, DataEncipherment, KeyAgreement,
// EncipherOnly and DecipherOnly, in any letter case; a name mapped to false
// is ignored. No true flag yields 0, which NewCustomLeaf reads as "default".
// An unknown name, or KeyCertSign and CRLSign (for CAs only), is
// pca.Invalid(param, ...).
func KeyUsageFromNames(param string, names map[string]bool) (x509.KeyUsage, error) {
	var ku x509.KeyUsage
next:
	for n, on := range names {
		for _, k := range keyUsageNames {
			if strings.EqualFold(strings.TrimSpace(n), k.name) {
				if on {
					ku |= k.ku
				}
				continue next
			}
		}
		return 0, pca.Invalid(param, "The specified parameter %s is not valid: %q is not a key usage of an end-entity certificate; use DigitalSignature, ContentCommitment, NonRepudiation, KeyEncipherment, DataEncipherment, KeyAgreement, EncipherOnly or DecipherOnly.", param, n)
	}
	return ku, nil
}

// parseCriticals checks the Critical names and returns the wanted
// criticality of each extension NewCustomLeaf writes, keyed by OID string.
func parseCriticals(names []string, haveEKU, haveSAN bool) (map[string]bool, error) {
	out := map[string]bool{
		oidExtKeyUsage.String():         true,
		oidExtBasicConstraints.String(): true,
		oidExtExtKeyUsage.String():      false,
		oidExtSubjectAltName.String():   false,
	}
next:
	for _, n := range names {
		n = strings.TrimSpace(n)
		for _, c := range criticalNames {
			if !strings.EqualFold(n, c.name) {
				continue
			}
			switch {
			case c.name == "extendedKeyUsage" && !haveEKU:
				return nil, pca.Invalid(ParamCriticals, "The specified parameter %s is not valid: extendedKeyUsage is listed but %s is empty.", ParamCriticals, ParamExtKeyUsages)
			case c.name == "subjectAltName" && !haveSAN:
				return nil, pca.Invalid(ParamCriticals, "The specified parameter %s is not valid: subjectAltName is listed but %s is empty.", ParamCriticals, ParamSANs)
			}
			out[c.oid.String()] = true
			continue next
		}
		return nil, pca.Invalid(ParamCriticals, "The specified parameter %s is not valid: %q cannot be marked critical; use keyUsage, extendedKeyUsage, subjectAltName or basicConstraints.", ParamCriticals, n)
	}
	return out, nil
}

// ekuOIDs lists the OIDs of the EKUs NewCustomLeaf writes.
var ekuOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageAny:             {2, 5, 29, 37, 0},
	x509.ExtKeyUsageServerAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection: {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageTimeStamping:    {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 9},
}

func ekuOID(u x509.ExtKeyUsage) (asn1.ObjectIdentifier, bool) {
	oid, ok := ekuOIDs[u]
	return oid, ok
}

// ekuExtension encodes a critical extKeyUsage extension.
func ekuExtension(ekus []x509.ExtKeyUsage) (pkix.Extension, error) {
	oids := make([]asn1.ObjectIdentifier, len(ekus))
	for i, u := range ekus {
		oids[i], _ = ekuOID(u)
	}
	der, err := asn1.Marshal(oids)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("pki: marshal extended key usage: %w", err)
	}
	return pkix.Extension{Id: oidExtExtKeyUsage, Critical: true, Value: der}, nil
}

// sanExtension encodes a critical subjectAltName extension the way
// crypto/x509 does: DNS names, emails, IPs, then URIs.
func sanExtension(dns, emails []string, ips []net.IP, uris []*url.URL) (pkix.Extension, error) {
	var names []asn1.RawValue
	for _, d := range dns {
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte(d)})
	}
	for _, e := range emails {
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte(e)})
	}
	for _, ip := range ips {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 7, Bytes: ip})
	}
	for _, u := range uris {
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(u.String())})
	}
	der, err := asn1.Marshal(names)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("pki: marshal subject alternative names: %w", err)
	}
	return pkix.Extension{Id: oidExtSubjectAltName, Critical: true, Value: der}, nil
}
