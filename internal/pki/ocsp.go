package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"golang.org/x/crypto/ocsp"
)

// OCSPStatus is the status of a certificate in an OCSP response. The values
// are those of golang.org/x/crypto/ocsp (Good, Revoked, Unknown).
type OCSPStatus int

// OCSP statuses.
const (
	OCSPGood    OCSPStatus = ocsp.Good
	OCSPRevoked OCSPStatus = ocsp.Revoked
	OCSPUnknown OCSPStatus = ocsp.Unknown
)

// OCSPAnswer is what an OCSP response says about one certificate.
//
// Serial is the certificate's serial number. RevokedAt and Reason (an RFC
// 5280 CRLReason, 0 meaning "no reason given"; 7 and 8 are refused) are used
// for OCSPRevoked only; RevokedAt must not be after ThisUpdate. ThisUpdate is
// the time the status is known to be correct and is required; NextUpdate, if
// not zero, must be after it. ProducedAt is the time the response is signed;
// zero means ThisUpdate, and it must not be before ThisUpdate. Hash is the
// hash algorithm of the CertID; answer with the request's
// (ocsp.Request.HashAlgorithm): OpenSSL matches CertIDs including their
// hash. Zero means SHA-1; SHA-1, SHA-256, SHA-384 and SHA-512 are supported.
// All times are written as UTC whole seconds.
type OCSPAnswer struct {
	Status                 OCSPStatus
	Serial                 *big.Int
	RevokedAt              time.Time
	Reason                 int
	ThisUpdate, NextUpdate time.Time
	ProducedAt             time.Time
	Hash                   crypto.Hash
}

// Limits of OCSP handling.
const (
	// MaxOCSPRequestSize is the largest DER request ParseOCSPRequest reads.
	MaxOCSPRequestSize = 8 << 10
	// MaxNonce is the longest nonce echoed (RFC 8954 2.1).
	MaxNonce = 32
	// MaxOCSPResponderDays is the longest validity of a delegated responder
	// certificate: it carries id-pkix-ocsp-nocheck, so it cannot be revoked.
	MaxOCSPResponderDays = 90
)

// OIDOCSPNonce is id-pkix-ocsp-nonce (RFC 8954), the request and response
// extension that binds an answer to one request.
var OIDOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

var (
	oidOCSPBasic   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
)

// ocspHashOIDs are the CertID hash algorithms OCSPResponse writes.
var ocspHashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

// ParseOCSPRequest parses a DER OCSP request (RFC 6960 4.1.1) with
// golang.org/x/crypto/ocsp and returns it with its nonce: the octets of the
// Nonce (OID 1.3.6.1.5.5.7.48.1.2) extension's OCTET STRING, or nil when
// there is none. A nonce that is not a DER OCTET STRING of 1 to MaxNonce
// octets is ignored (nil), as RFC 8954 2.1 allows; the response then carries
// none.
//
// The request must ask about exactly one certificate, be unsigned (signed
// requests are refused), use a CertID hash ocsp knows, carry no critical
// extension other than the nonce, and be at most MaxOCSPRequestSize bytes.
// Refusals are pca.Invalid("OCSPRequest", ...): answer them with
// ocsp.MalformedRequestErrorResponse.
func ParseOCSPRequest(der []byte) (*ocsp.Request, []byte, error) {
	bad := func(format string, args ...any) error {
		return pca.Invalid("OCSPRequest", "The OCSPRequest is not valid: "+format, args...)
	}
	if len(der) == 0 {
		return nil, nil, pca.Missing("OCSPRequest")
	}
	if len(der) > MaxOCSPRequestSize {
		return nil, nil, bad("%d bytes is more than the %d allowed.", len(der), MaxOCSPRequestSize)
	}
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		e := bad("%v.", err)
		e.(*pca.Error).Err = err
		return nil, nil, e
	}
	var outer struct {
		TBS struct {
			Version       int           `asn1:"explicit,tag:0,default:0,optional"`
			RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
			RequestList   []asn1.RawValue
			Extensions    []pkix.Extension `asn1:"explicit,tag:2,optional"`
		}
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, nil, bad("%v.", err)
	}
	if outer.TBS.Version != 0 {
		return nil, nil, bad("version %d is not supported.", outer.TBS.Version+1)
	}
	if n := len(outer.TBS.RequestList); n != 1 {
		return nil, nil, bad("it asks about %d certificates; pcad answers one per request.", n)
	}
	var nonce []byte
	seen := false
	for _, ext := range outer.TBS.Extensions {
		if !ext.Id.Equal(OIDOCSPNonce) {
			if ext.Critical {
				return nil, nil, bad("the critical extension %s is not supported.", ext.Id)
			}
			continue
		}
		if seen {
			return nil, nil, bad("it has two nonces.")
		}
		seen = true
		var v []byte
		if rest, err := asn1.Unmarshal(ext.Value, &v); err == nil && len(rest) == 0 && len(v) >= 1 && len(v) <= MaxNonce {
			nonce = v
		}
	}
	return req, nonce, nil
}

// OCSPRequestFor reports whether req asks about a certificate issued by
// issuer: whether its issuer name and key hashes are those of issuer.
func OCSPRequestFor(req *ocsp.Request, issuer *x509.Certificate) bool {
	name, key, err := issuerHashes(req.HashAlgorithm, issuer)
	return err == nil && bytes.Equal(name, req.IssuerNameHash) && bytes.Equal(key, req.IssuerKeyHash)
}

// issuerHashes computes the CertID hashes of issuer's name and key.
func issuerHashes(h crypto.Hash, issuer *x509.Certificate) (name, key []byte, err error) {
	if _, ok := ocspHashOIDs[h]; !ok || !h.Available() {
		return nil, nil, fmt.Errorf("pki: ocsp: unsupported CertID hash %v", h)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, fmt.Errorf("pki: ocsp: parse issuer key: %w", err)
	}
	hn := h.New()
	hn.Write(issuer.RawSubject)
	hk := h.New()
	hk.Write(spki.PublicKey.RightAlign())
	return hn.Sum(nil), hk.Sum(nil), nil
}

// ASN.1 of an OCSP response (RFC 6960 4.2.1).
type (
	ocspCertID struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		NameHash      []byte
		IssuerKeyHash []byte
		SerialNumber  *big.Int
	}
	ocspSingleResponse struct {
		CertID     ocspCertID
		CertStatus asn1.RawValue
		ThisUpdate time.Time `asn1:"generalized"`
		NextUpdate time.Time `asn1:"generalized,explicit,tag:0,optional"`
	}
	ocspResponseData struct {
		ResponderID asn1.RawValue
		ProducedAt  time.Time `asn1:"generalized"`
		Responses   []ocspSingleResponse
		Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	ocspBasicResponse struct {
		TBSResponseData    asn1.RawValue
		SignatureAlgorithm asn1.RawValue
		Signature          asn1.BitString
		Certs              []asn1.RawValue `asn1:"explicit,tag:0,optional"`
	}
	ocspResponseBytes struct {
		ResponseType asn1.ObjectIdentifier
		Response     []byte
	}
	ocspResponse struct {
		Status        asn1.Enumerated
		ResponseBytes ocspResponseBytes `asn1:"explicit,tag:0"`
	}
	ocspRevokedInfo struct {
		RevocationTime time.Time       `asn1:"generalized"`
		Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
	}
)

// OCSPResponse signs a successful basic OCSP response about one certificate
// issued by issuer, reading signing randomness from r. signer signs it; its
// certificate is responderCert: issuer itself for a CA-signed response, or a
// delegated responder certificate issued by issuer with the OCSPSigning EKU
// (see NewOCSPResponder), which is then included in the response. The
// responder is identified by name. A non-nil nonce (as ParseOCSPRequest
// returns it) is echoed in a Nonce response extension. The signature
// algorithm follows the signer's key, as for certificates.
//
// Every error is internal ("pki: ..."): an answer that breaks the rules of
// OCSPAnswer, a signer that does not match responderCert, a delegated
// responder that issuer did not sign, that lacks OCSPSigning or that is not
// valid at ProducedAt, or a signature that does not verify.
func OCSPResponse(r io.Reader, answer OCSPAnswer, issuer, responderCert *x509.Certificate, signer crypto.Signer, nonce []byte) ([]byte, error) {
	if r == nil || issuer == nil || responderCert == nil || signer == nil {
		return nil, errors.New("pki: ocsp: nil random source, issuer, responder certificate or signer")
	}
	if !samePublicKey(signer.Public(), responderCert.PublicKey) {
		return nil, errors.New("pki: ocsp: signer does not match the responder certificate")
	}
	a, err := checkAnswer(answer)
	if err != nil {
		return nil, err
	}
	var certs []asn1.RawValue
	if !bytes.Equal(responderCert.Raw, issuer.Raw) {
		if err := responderCert.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("pki: ocsp: responder certificate is not signed by the issuer: %w", err)
		}
		if !slices.Contains(responderCert.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
			return nil, errors.New("pki: ocsp: responder certificate lacks the OCSPSigning extended key usage")
		}
		if a.ProducedAt.Before(responderCert.NotBefore) || a.ProducedAt.After(responderCert.NotAfter) {
			return nil, fmt.Errorf("pki: ocsp: responder certificate is not valid at %s", utc(a.ProducedAt))
		}
		certs = []asn1.RawValue{{FullBytes: responderCert.Raw}}
	} else if !issuer.IsCA {
		return nil, errors.New("pki: ocsp: issuer is not a CA")
	}
	if len(nonce) > MaxNonce {
		return nil, fmt.Errorf("pki: ocsp: nonce of %d octets is longer than %d", len(nonce), MaxNonce)
	}
	nameHash, keyHash, err := issuerHashes(a.Hash, issuer)
	if err != nil {
		return nil, err
	}
	status, err := certStatus(a)
	if err != nil {
		return nil, err
	}
	data := ocspResponseData{
		ResponderID: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: responderCert.RawSubject},
		ProducedAt:  a.ProducedAt,
		Responses: []ocspSingleResponse{{
			CertID: ocspCertID{
				HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: ocspHashOIDs[a.Hash], Parameters: asn1.NullRawValue},
				NameHash:      nameHash,
				IssuerKeyHash: keyHash,
				SerialNumber:  a.Serial,
			},
			CertStatus: status,
			ThisUpdate: a.ThisUpdate,
			NextUpdate: a.NextUpdate,
		}},
	}
	if nonce != nil {
		v, err := asn1.Marshal(nonce)
		if err != nil {
			return nil, fmt.Errorf("pki: ocsp: marshal nonce: %w", err)
		}
		data.Extensions = []pkix.Extension{{Id: OIDOCSPNonce, Value: v}}
	}
	tbs, err := asn1.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("pki: ocsp: marshal response data: %w", err)
	}
	scheme, err := schemeFor(responderCert.PublicKey)
	if err != nil {
		return nil, err
	}
	h := scheme.hash.New()
	h.Write(tbs)
	digest := h.Sum(nil)
	sig, err := signer.Sign(r, digest, scheme.hash)
	if err != nil {
		return nil, fmt.Errorf("pki: ocsp: sign: %w", err)
	}
	if err := scheme.verify(digest, sig); err != nil {
		return nil, err
	}
	basic, err := asn1.Marshal(ocspBasicResponse{
		TBSResponseData:    asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: asn1.RawValue{FullBytes: scheme.alg},
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
		Certs:              certs,
	})
	if err != nil {
		return nil, fmt.Errorf("pki: ocsp: marshal basic response: %w", err)
	}
	der, err := asn1.Marshal(ocspResponse{ResponseBytes: ocspResponseBytes{ResponseType: oidOCSPBasic, Response: basic}})
	if err != nil {
		return nil, fmt.Errorf("pki: ocsp: marshal response: %w", err)
	}
	return der, nil
}

// checkAnswer applies the rules of OCSPAnswer and normalises its times and
// defaults.
func checkAnswer(a OCSPAnswer) (OCSPAnswer, error) {
	sec := func(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
	a.ThisUpdate, a.NextUpdate, a.RevokedAt, a.ProducedAt = sec(a.ThisUpdate), sec(a.NextUpdate), sec(a.RevokedAt), sec(a.ProducedAt)
	if a.Hash == 0 {
		a.Hash = crypto.SHA1
	}
	if a.ProducedAt.IsZero() {
		a.ProducedAt = a.ThisUpdate
	}
	switch {
	case a.Serial == nil || a.Serial.Sign() <= 0 || a.Serial.BitLen() > 159:
		return a, errors.New("pki: ocsp: the serial number must be positive and at most 20 octets")
	case a.ThisUpdate.IsZero():
		return a, errors.New("pki: ocsp: thisUpdate is required")
	case !a.NextUpdate.IsZero() && !a.NextUpdate.After(a.ThisUpdate):
		return a, fmt.Errorf("pki: ocsp: nextUpdate %s is not after thisUpdate %s", utc(a.NextUpdate), utc(a.ThisUpdate))
	case a.ProducedAt.Before(a.ThisUpdate):
		return a, fmt.Errorf("pki: ocsp: producedAt %s is before thisUpdate %s", utc(a.ProducedAt), utc(a.ThisUpdate))
	}
	if a.Status == OCSPRevoked {
		switch {
		case a.RevokedAt.IsZero() || a.RevokedAt.After(a.ThisUpdate):
			return a, errors.New("pki: ocsp: a revoked certificate needs a revocation time not after thisUpdate")
		case a.Reason < 0 || a.Reason > 10 || a.Reason == 7 || a.Reason == 8:
			return a, fmt.Errorf("pki: ocsp: reason code %d is not allowed", a.Reason)
		}
	}
	return a, nil
}

// certStatus encodes the CertStatus CHOICE of a checked answer.
func certStatus(a OCSPAnswer) (asn1.RawValue, error) {
	switch a.Status {
	case OCSPGood:
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0}, nil
	case OCSPUnknown:
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2}, nil
	case OCSPRevoked:
		der, err := asn1.Marshal(ocspRevokedInfo{RevocationTime: a.RevokedAt, Reason: asn1.Enumerated(a.Reason)})
		if err != nil {
			return asn1.RawValue{}, fmt.Errorf("pki: ocsp: marshal revoked info: %w", err)
		}
		var seq asn1.RawValue
		if _, err := asn1.Unmarshal(der, &seq); err != nil {
			return asn1.RawValue{}, fmt.Errorf("pki: ocsp: revoked info: %w", err)
		}
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: seq.Bytes}, nil
	}
	return asn1.RawValue{}, fmt.Errorf("pki: ocsp: unknown status %d", int(a.Status))
}

// NewOCSPResponder issues a delegated OCSP responder certificate for pub,
// signed by the issuer's key with randomness from r: BasicConstraints
// CA=false, KeyUsage digitalSignature (both critical), EKU OCSPSigning, the
// id-pkix-ocsp-nocheck extension (RFC 6960 4.2.2.2.1: clients do not check
// its revocation), a SubjectKeyId and an AuthorityKeyId; no CRL or AIA URLs.
// Because it cannot be revoked its validity must be short: at most
// MaxOCSPResponderDays days, within the issuer's.
//
// The subject is checked with ValidateSubject (country parameter "Country")
// and the key with AlgorithmOf; their errors, and an issuer that is not a CA,
// are *pca.Error. An issuer restricted to EKUs without OCSPSigning cannot
// delegate (clients that nest EKUs would reject the responder): that, a
// window too long or outside the issuer's, and an issuerKey that does not
// match issuer are internal errors. Such an issuer signs its OCSP responses
// itself (OCSPResponse with responderCert = issuer).
func NewOCSPResponder(r io.Reader, subject pca.Subject, notBefore, notAfter time.Time, serial *big.Int, pub crypto.PublicKey, issuer *x509.Certificate, issuerKey crypto.Signer) (*Issued, error) {
	subject, err := ValidateSubject(subject, "Country")
	if err != nil {
		return nil, err
	}
	if err := checkIssuer(issuer, issuerKey, pub, "Algorithm"); err != nil {
		return nil, err
	}
	if !issuerAllows(issuer, x509.ExtKeyUsageOCSPSigning) {
		return nil, errors.New("pki: ocsp responder: the issuer's extended key usages do not include OCSPSigning")
	}
	tmpl, err := childTemplate("SerialNumber", serial, notBefore, notAfter, pub, issuer, issuerKey)
	if err != nil {
		return nil, err
	}
	if d := tmpl.NotAfter.Sub(tmpl.NotBefore); d > MaxOCSPResponderDays*24*time.Hour {
		return nil, fmt.Errorf("pki: ocsp responder: validity of %s is longer than %d days", d, MaxOCSPResponderDays)
	}
	tmpl.Subject = Name(subject)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	tmpl.ExtraExtensions = []pkix.Extension{{Id: oidOCSPNoCheck, Value: asn1.NullBytes}}
	is, err := sign(r, tmpl, pub, issuer, issuerKey)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(is.Cert.Extensions, func(e pkix.Extension) bool {
		return e.Id.Equal(oidOCSPNoCheck) && !e.Critical && bytes.Equal(e.Value, asn1.NullBytes)
	}) {
		return nil, errors.New("pki: issued certificate differs from the request: id-pkix-ocsp-nocheck")
	}
	return is, nil
}
