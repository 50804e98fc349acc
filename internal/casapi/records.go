package casapi

// Field groups that the CA and certificate records of several operations
// share, embedded in each record so that their JSON names and types stay
// those of the spec (encoding/json promotes the fields of an embedded
// struct). Dates are never here: their JSON type and format differ per
// operation, so each record declares and fills its own.

import "github.com/pcad-dev/pcad/internal/pca"

// subjectFields are the subject of a CA or certificate record: the six
// fields (Country as CountryCode) and the subject DN.
type subjectFields struct {
	CommonName       string `json:"CommonName"`
	Organization     string `json:"Organization"`
	OrganizationUnit string `json:"OrganizationUnit"`
	Locality         string `json:"Locality"`
	State            string `json:"State"`
	CountryCode      string `json:"CountryCode"`
	SubjectDN        string `json:"SubjectDN"`
}

// subjectFieldsOf renders subject s with its distinguished name dn.
func subjectFieldsOf(s pca.Subject, dn string) subjectFields {
	return subjectFields{CommonName: s.CommonName, Organization: s.Organization, OrganizationUnit: s.OrganizationUnit,
		Locality: s.Locality, State: s.State, CountryCode: s.Country, SubjectDN: dn}
}

// keyFields describe a record's key: its family (RSA, ECC), its size in
// bits and the signature algorithm of the certificate.
type keyFields struct {
	Algorithm     string `json:"Algorithm"`
	KeySize       int    `json:"KeySize"`
	SignAlgorithm string `json:"SignAlgorithm"`
}

// keyFieldsOf renders key algorithm alg and the signature algorithm of the
// certificate der ("" when der does not parse).
func keyFieldsOf(alg pca.Algorithm, der []byte) keyFields {
	return keyFields{Algorithm: string(alg.Family()), KeySize: alg.Bits(), SignAlgorithm: signAlgorithm(der)}
}

// fingerprintFields are the lower-case hex MD5 and SHA-256 of a
// certificate's DER.
type fingerprintFields struct {
	Md5  string `json:"Md5"`
	Sha2 string `json:"Sha2"`
}

// fingerprintFieldsOf hashes der (the empty input when der is empty).
func fingerprintFieldsOf(der []byte) fingerprintFields {
	md5hex, sha2hex := fingerprints(der)
	return fingerprintFields{Md5: md5hex, Sha2: sha2hex}
}

// caFields are the fields of a CA record (spec B.0) that DescribeCACertificate
// and the CA lists share. ParentIdentifier is omitted for a root.
type caFields struct {
	Identifier       string `json:"Identifier"`
	ParentIdentifier string `json:"ParentIdentifier,omitempty"`
	CertificateType  string `json:"CertificateType"`
	Status           string `json:"Status"`
	subjectFields
	keyFields
	FullAlgorithm string `json:"FullAlgorithm"`
	SerialNumber  string `json:"SerialNumber"`
	fingerprintFields
	X509Certificate string `json:"X509Certificate"`
	IssuerType      string `json:"IssuerType"`
}

// caFieldsOf renders ca's shared record fields.
func caFieldsOf(ca pca.CA) caFields {
	return caFields{Identifier: ca.Identifier, ParentIdentifier: ca.ParentIdentifier, CertificateType: string(ca.Type),
		Status: string(ca.Status), subjectFields: subjectFieldsOf(ca.Subject, ca.SubjectDN),
		keyFields: keyFieldsOf(ca.Algorithm, ca.DER), FullAlgorithm: string(ca.Algorithm), SerialNumber: ca.SerialNumber,
		fingerprintFields: fingerprintFieldsOf(ca.DER), X509Certificate: certPEM(ca.DER), IssuerType: issuerType(ca)}
}

// certFields are the fields of an end-entity certificate record that
// DescribeClientCertificate and every lifecycle listing share.
type certFields struct {
	Identifier       string `json:"Identifier"`
	ParentIdentifier string `json:"ParentIdentifier"`
	SerialNumber     string `json:"SerialNumber"`
	CertificateType  string `json:"CertificateType"`
	Status           string `json:"Status"`
	subjectFields
	keyFields
	Sans string `json:"Sans"`
	fingerprintFields
}

// certFieldsOf renders c's shared record fields. The fingerprints are
// those of c.DER as it is, even when the certificate's body is missing
// (see lcCertFields for the lifecycle listings).
func certFieldsOf(c pca.Certificate) certFields {
	return certFields{Identifier: c.Identifier, ParentIdentifier: c.ParentIdentifier, SerialNumber: c.SerialNumber,
		CertificateType: string(c.Type), Status: string(c.Status), subjectFields: subjectFieldsOf(c.Subject, c.SubjectDN),
		keyFields: keyFieldsOf(c.Algorithm, c.DER), Sans: sansJSON(c.SANs), fingerprintFields: fingerprintFieldsOf(c.DER)}
}
