package service

// Issuance for a key the caller holds: CreateServerCertificateWithCsr,
// CreateClientCertificateWithCsr and CreateCustomCertificate. The caller
// sends a PKCS #10 request; pcad checks it (pki.ParseCSR: a supported key and
// proof of possession) and certifies its public key. pcad never sees the
// private key, so these certificates have no KeyRef: ListCert shows them
// with KeyExportable false and DescribeCertificatePrivateKey refuses them.
//
// Only the key and the subject of a request are used. Extensions it asks
// for (SANs, key usages, ...) are ignored: SANs, key usage and EKUs come from
// the API parameters, as for the calls whose key pcad generates.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// CSRIssueRequest asks for a server or client certificate for the public key
// of a caller's certificate request.
type CSRIssueRequest struct {
	ParentIdentifier string
	Type             pca.CertType // TypeServer or TypeClient
	// CSR is the PEM text of the request (parameter Csr).
	CSR string
	// Algorithm is optional; when set, its family must be that of the
	// request's key (and so of the issuing CA's). The size may differ: the
	// certificate records the request's actual key.
	Algorithm pca.Algorithm
	// Subject holds the subject fields the caller gave. Each non-empty field
	// replaces the request's field of the same name; the others come from
	// the request (its first CN, O, OU, L, ST and C; further attributes are
	// dropped). Nothing is inherited from the issuing CA.
	Subject pca.Subject
	// Domain is the server certificate's extra DNS names and IPs (comma
	// list); the common name is always the first SAN, as for
	// CreateServerCertificate.
	Domain string
	// SanType (0 to 8, see pki.CSRClientSANs) and SanValue are the client
	// certificate's SANs.
	SanType          int
	SanValue         string
	Validity         pki.Validity
	CustomIdentifier string
	ResourceGroupID  string
	Tags             []pca.Tag
}

// IssueFromCSR validates req, then signs the request's key with a fresh
// serial and stores the certificate with the serial's reservation (of type req.Type, without a key). Nothing
// is stored when validation fails. Refusals, as *pca.Error: a bad request
// (Param "Csr"), an Algorithm of another family than the request's key
// ("Algorithm"), a key of another family than the issuer's ("Algorithm"
// when given, else "Csr"), subject fields, names and validity as for
// IssueCertificate, where a bad value taken from the request names "Csr".
func (s *Service) IssueFromCSR(ctx context.Context, a Actor, req CSRIssueRequest) (pca.Certificate, error) {
	if err := maxLength("CustomIdentifier", req.CustomIdentifier, 64); err != nil {
		return pca.Certificate{}, err
	}
	ca, csr, alg, err := s.csrIssuer(ctx, a, req.ParentIdentifier, req.CSR, req.Algorithm)
	if err != nil {
		return pca.Certificate{}, err
	}
	spec := leafSpec{}
	var fromCSR map[string]bool
	if spec.subject, fromCSR, err = mergeCSRSubject(csr, req.Subject); err != nil {
		return pca.Certificate{}, err
	}
	if spec.profile, err = leafProfile(req.Type); err != nil {
		return pca.Certificate{}, err
	}
	if req.Type == pca.TypeServer {
		if spec.dns, spec.ips, err = pki.ServerNames(spec.subject.CommonName, req.Domain); err != nil {
			return pca.Certificate{}, csrFieldError(err, fromCSR)
		}
	} else if spec.dns, spec.ips, spec.emails, spec.uris, err = pki.CSRClientSANs(req.SanType, req.SanValue); err != nil {
		return pca.Certificate{}, err
	}
	now := s.clock()
	nb, na, err := pki.LeafWindow(now, req.Validity, ca.NotBefore, ca.NotAfter, ca.CertMaxTime)
	if err != nil {
		return pca.Certificate{}, err
	}
	iss, err := s.prepareIssuer(ctx, a, ca)
	if err != nil {
		return pca.Certificate{}, err
	}
	id, err := s.newID()
	if err != nil {
		return pca.Certificate{}, err
	}
	return s.signAndStore(ctx, iss, "CustomIdentifier", func(serial *big.Int) (*pki.Issued, error) {
		return s.signLeaf(iss, spec, nb, na, serial, csr.PublicKey)
	}, func(issued *pki.Issued) (pca.Certificate, *store.KeyRecord, error) {
		c := s.newCertificate(a, id, iss, req.Type, alg, issued, now)
		c.CustomIdentifier, c.ResourceGroupID, c.Tags = req.CustomIdentifier, req.ResourceGroupID, req.Tags
		return c, nil, nil
	})
}

// Passthrough is the ApiPassthrough of CreateCustomCertificate, as given.
// Zero fields are "not given".
type Passthrough struct {
	// SerialNumber is the caller's serial in decimal; empty means a random
	// one. It must be unused under the issuing CA.
	SerialNumber string
	// Subject, when not nil, replaces the request's subject entirely (with
	// CustomAttributes after its fields); nil uses the request's subject,
	// every attribute of it in order.
	Subject          *pca.Subject
	CustomAttributes []pki.Attribute
	// KeyUsage maps the API's key usage names to their flags (see
	// pki.KeyUsageFromNames); no true flag means the default.
	KeyUsage                map[string]bool
	ExtendedKeyUsages       []string
	SubjectAlternativeNames []pki.SANItem
	// Criticals names extensions to mark critical (see pki.NewCustomLeaf).
	Criticals []string
}

// CustomCertRequest asks for a CreateCustomCertificate certificate.
type CustomCertRequest struct {
	ParentIdentifier string
	// CSR is the PEM text of the request (parameter Csr).
	CSR string
	// Validity is the Validity parameter (see pki.ParseValidity).
	Validity         string
	Passthrough      Passthrough
	CustomIdentifier string
	ResourceGroupID  string
	Tags             []pca.Tag
}

// IssueCustom validates req completely, then reserves the serial (the
// caller's, or a random one), signs the request's key with the
// pass-through profile (pki.NewCustomLeaf) and stores the certificate as
// TypeEndEntity, without a key. Nothing is stored, and no serial is
// reserved, when validation fails: every check NewCustomLeaf makes is run
// first against a stand-in issuer with a throwaway key (see probeIssuer).
//
// Refusals, as *pca.Error: a bad request ("Csr"), a key of another family
// than the issuer's ("Csr"), a bad or too long Validity ("Validity"), the
// pass-through refusals of pki.NewCustomLeaf and its helpers (Param
// "ApiPassthrough...."; a bad subject attribute taken from the request
// names "Csr"), and a serial that the issuing CA already used
// (KindExists, Param ApiPassthrough.SerialNumber).
func (s *Service) IssueCustom(ctx context.Context, a Actor, req CustomCertRequest) (pca.Certificate, error) {
	if err := maxLength("customIdentifier", req.CustomIdentifier, 64); err != nil {
		return pca.Certificate{}, err
	}
	ca, csr, alg, err := s.csrIssuer(ctx, a, req.ParentIdentifier, req.CSR, "")
	if err != nil {
		return pca.Certificate{}, err
	}
	now := s.clock()
	nb, na, err := pki.ParseValidity("Validity", req.Validity, now)
	if err != nil {
		return pca.Certificate{}, err
	}
	if err := pki.FitIssuer("Validity", nb, na, ca.NotBefore, ca.NotAfter, ca.CertMaxTime); err != nil {
		return pca.Certificate{}, err
	}
	pt := req.Passthrough
	var custom *big.Int
	if strings.TrimSpace(pt.SerialNumber) != "" {
		if custom, err = pki.CustomSerial(pki.ParamSerialNumber, pt.SerialNumber); err != nil {
			return pca.Certificate{}, err
		}
	}
	ku, err := pki.KeyUsageFromNames(pki.ParamKeyUsage, pt.KeyUsage)
	if err != nil {
		return pca.Certificate{}, err
	}
	ekus, err := pki.ParseExtKeyUsages(pki.ParamExtKeyUsages, pt.ExtendedKeyUsages)
	if err != nil {
		return pca.Certificate{}, err
	}
	dns, ips, emails, uris, err := pki.CustomSANs(pt.SubjectAlternativeNames)
	if err != nil {
		return pca.Certificate{}, err
	}
	subj, attrs := pca.Subject{}, pt.CustomAttributes
	subjectFromCSR := pt.Subject == nil
	if subjectFromCSR {
		if subj, attrs, err = pki.SubjectFromCSR("Csr", csr); err != nil {
			return pca.Certificate{}, err
		}
	} else {
		subj = *pt.Subject
	}
	crl, ocspURLs, issuers := s.issuerURLs(ca)
	creq := pki.CustomRequest{Subject: subj, CustomAttributes: attrs, KeyUsage: ku, ExtKeyUsages: ekus,
		DNSNames: dns, IPAddresses: ips, EmailAddresses: emails, URIs: uris, Critical: pt.Criticals,
		NotBefore: nb, NotAfter: na, Serial: custom, PublicKey: csr.PublicKey,
		CRLDistributionPoints: crl, OCSPServers: ocspURLs, IssuingCertificateURLs: issuers}
	if err := probeCustom(s.rand, creq, ca, subjectFromCSR); err != nil {
		return pca.Certificate{}, err
	}
	iss, err := s.prepareIssuer(ctx, a, ca)
	if err != nil {
		return pca.Certificate{}, err
	}
	var id string
	if id, creq.Serial, err = s.reserve(ctx, ca, custom, now); err != nil {
		return pca.Certificate{}, err
	}
	issued, err := pki.NewCustomLeaf(s.rand, creq, iss.cert, iss.key)
	if err != nil {
		return pca.Certificate{}, internal(err)
	}
	c := s.newCertificate(a, id, iss, pca.TypeEndEntity, alg, issued, now)
	c.CustomIdentifier, c.ResourceGroupID, c.Tags = req.CustomIdentifier, req.ResourceGroupID, req.Tags
	return s.storeCertificate(ctx, c, nil, iss.inst, "customIdentifier")
}

// csrIssuer runs the first steps both CSR calls share, in this order: the
// issuing CA named by parent (issuingCA), the certificate request csrPEM
// (pki.ParseCSR, Param "Csr") and the algorithm of its key, checked against
// the optional given algorithm and the CA's key family (csrAlgorithm).
func (s *Service) csrIssuer(ctx context.Context, a Actor, parent, csrPEM string, given pca.Algorithm) (pca.CA, *x509.CertificateRequest, pca.Algorithm, error) {
	ca, err := s.issuingCA(ctx, a, parent)
	if err != nil {
		return pca.CA{}, nil, "", err
	}
	csr, err := pki.ParseCSR("Csr", csrPEM)
	if err != nil {
		return pca.CA{}, nil, "", err
	}
	alg, err := csrAlgorithm(csr, given, ca)
	if err != nil {
		return pca.CA{}, nil, "", err
	}
	return ca, csr, alg, nil
}

// keyFamilyOf returns the family of a public key ParseCSR accepted.
func keyFamilyOf(pub crypto.PublicKey) pca.KeyFamily {
	switch pub.(type) {
	case *rsa.PublicKey:
		return pca.FamilyRSA
	case *ecdsa.PublicKey:
		return pca.FamilyECC
	}
	return ""
}

// csrAlgorithm returns the algorithm of the request's key after checking it
// against the optional Algorithm parameter (given) and the issuing CA: the
// families must agree.
func csrAlgorithm(csr *x509.CertificateRequest, given pca.Algorithm, ca pca.CA) (pca.Algorithm, error) {
	alg, err := pki.AlgorithmOf(csr.PublicKey)
	if err != nil {
		return "", csrFieldError(err, nil)
	}
	family := keyFamilyOf(csr.PublicKey)
	if given != "" && given.Family() != family {
		return "", pca.Invalid("Algorithm", "The specified parameter Algorithm %s does not match the certificate request given in Csr, whose key is %s (%s).", given, family, alg)
	}
	if want := ca.Algorithm.Family(); family != want {
		param := "Csr"
		if given != "" {
			param = "Algorithm"
		}
		return "", pca.Invalid(param, "The specified parameter %s is not valid: the certificate request has an %s key, but the issuing CA %q has an %s key; the key families must match.", param, family, ca.Identifier, want)
	}
	return alg, nil
}

// subjectFields lists the pca.Subject fields by API name.
var subjectFields = []struct {
	name  string
	field func(*pca.Subject) *string
}{
	{"CommonName", func(s *pca.Subject) *string { return &s.CommonName }},
	{"Organization", func(s *pca.Subject) *string { return &s.Organization }},
	{"OrganizationUnit", func(s *pca.Subject) *string { return &s.OrganizationUnit }},
	{"Locality", func(s *pca.Subject) *string { return &s.Locality }},
	{"State", func(s *pca.Subject) *string { return &s.State }},
	{"Country", func(s *pca.Subject) *string { return &s.Country }},
}

// mergeCSRSubject merges the subject fields the caller gave over the
// request's and validates the result as an end-entity subject (CommonName
// required, Country two letters). fromCSR reports, by field name, which
// fields came from the request; errors about them name "Csr".
func mergeCSRSubject(csr *x509.CertificateRequest, given pca.Subject) (pca.Subject, map[string]bool, error) {
	subj, _, err := pki.SubjectFromCSR("Csr", csr)
	if err != nil {
		return pca.Subject{}, nil, err
	}
	fromCSR := map[string]bool{}
	for _, f := range subjectFields {
		if v := strings.TrimSpace(*f.field(&given)); v != "" {
			*f.field(&subj) = v
		} else if strings.TrimSpace(*f.field(&subj)) != "" {
			fromCSR[f.name] = true
		}
	}
	if strings.TrimSpace(subj.CommonName) == "" {
		return pca.Subject{}, nil, &pca.Error{Kind: pca.KindMissing, Param: "CommonName",
			Msg: "The input parameter \"CommonName\" is not supplied and the certificate request given in Csr has no common name: give CommonName."}
	}
	subj, err = pki.ValidateSubject(subj, "Country")
	if err != nil {
		return pca.Subject{}, nil, csrFieldError(err, fromCSR)
	}
	return subj, fromCSR, nil
}

// csrFieldError rewrites an error about a subject field (Param = the
// field's name) that came from the certificate request, so that it names
// Csr and says which field of the request is at fault. Other errors pass
// through; a Param of AlgorithmOf ("Algorithm") about the request's key
// becomes "Csr" when fromCSR is nil.
func csrFieldError(err error, fromCSR map[string]bool) error {
	e, ok := pca.AsError(err)
	if !ok {
		return internal(err)
	}
	if fromCSR == nil && e.Param == "Algorithm" || fromCSR[e.Param] {
		what := "the subject field " + e.Param + " of the certificate request is not usable here; give " + e.Param + " to replace it"
		if fromCSR == nil {
			what = "the key of the certificate request is not usable"
		}
		return &pca.Error{Kind: pca.KindInvalid, Param: "Csr", Err: e.Err,
			Msg: fmt.Sprintf("The specified parameter Csr is not valid: %s (%s).", what, strings.TrimSuffix(e.Msg, "."))}
	}
	return err
}

// probeCustom runs pki.NewCustomLeaf on req against a stand-in for the
// issuing CA (probeIssuer) and returns its refusal, if any: it checks
// everything the real signature will check, before a serial is reserved.
// When the subject came from the request, a refusal of a subject field
// names "Csr".
func probeCustom(r io.Reader, req pki.CustomRequest, ca pca.CA, subjectFromCSR bool) error {
	issuer, err := x509.ParseCertificate(ca.DER)
	if err != nil {
		return pca.Internal(fmt.Errorf("service: parse CA certificate: %w", err))
	}
	fake, key, err := probeIssuer(issuer)
	if err != nil {
		return pca.Internal(err)
	}
	if req.Serial == nil {
		req.Serial = big.NewInt(1)
	}
	_, err = pki.NewCustomLeaf(r, req, fake, key)
	if err == nil {
		return nil
	}
	e, ok := pca.AsError(err)
	if !ok || e.Kind == pca.KindInternal {
		return internal(err)
	}
	if subjectFromCSR && (e.Param == pki.ParamCustomAttributes || strings.HasPrefix(e.Param, pki.ParamSubject)) {
		return &pca.Error{Kind: pca.KindInvalid, Param: "Csr", Err: e.Err,
			Msg: fmt.Sprintf("The specified parameter Csr is not valid: the subject of the certificate request is not usable (%s); give %s to replace it.", strings.TrimSuffix(e.Msg, "."), pki.ParamSubject)}
	}
	return err
}

// probeIssuer returns a stand-in for issuer: a copy of its certificate
// fields whose public key is that of a throwaway key of the same family,
// and that key. Signing with it exercises every check of the pki signing
// functions (issuer constraints, validity, names, key usages) without
// touching the CA's key; what it signs is discarded.
func probeIssuer(issuer *x509.Certificate) (*x509.Certificate, crypto.Signer, error) {
	var key crypto.Signer
	var err error
	switch issuer.PublicKey.(type) {
	case *ecdsa.PublicKey:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case *rsa.PublicKey:
		key, err = probeRSAKey()
	default:
		err = fmt.Errorf("service: probe issuer: unsupported CA key %T", issuer.PublicKey)
	}
	if err != nil {
		return nil, nil, err
	}
	fake := *issuer
	fake.PublicKey = key.Public()
	return &fake, key, nil
}

// probeRSAKey is the throwaway RSA key of probeIssuer, made once: RSA key
// generation is slow, and the key signs only certificates that are thrown
// away. It is never stored and signs nothing that leaves the process.
var probeRSAKey = sync.OnceValues(func() (crypto.Signer, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("service: probe key: %w", err)
	}
	return k, nil
})
