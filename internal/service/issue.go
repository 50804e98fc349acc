package service

// The steps the end-entity issuance calls share (IssueCertificate,
// IssueFromCSR, IssueCustom). Each call runs them in the same order, so a
// request with several faults is refused for the same one whichever path it
// takes: parameter lengths, the issuing CA (issuingCA), the key, subject,
// names and validity (per call), the issuer's instance quota and signer
// (prepareIssuer), the identifier and serial (reserve), signing, and the
// inventory record (newCertificate, storeCertificate).

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// maxLength refuses a value of param longer than n bytes with the API's
// "too long" message (KindInvalid, Param param); nil otherwise.
func maxLength(param, v string, n int) error {
	if len(v) > n {
		return pca.Invalid(param, "The specified parameter %s is too long: at most %d characters.", param, n)
	}
	return nil
}

// issuingCA returns the sub-CA named by ParentIdentifier if it may issue
// end-entity certificates now (usableCA refuses external, revoked and
// expired CAs; a root CA is refused here, Param "ParentIdentifier").
func (s *Service) issuingCA(ctx context.Context, a Actor, identifier string) (pca.CA, error) {
	ca, err := s.usableCA(ctx, a, "ParentIdentifier", identifier)
	if err != nil {
		return pca.CA{}, err
	}
	if ca.Type != pca.CASub {
		return pca.CA{}, pca.Invalid("ParentIdentifier", "The CA %q given in ParentIdentifier is a root CA: end-entity certificates are issued by subordinate CAs.", identifier)
	}
	return ca, nil
}

// issuer is a sub-CA ready to sign an end-entity certificate: its record,
// its end-entity instance, its parsed certificate and its key.
type issuer struct {
	ca   pca.CA
	inst pca.Instance
	cert *x509.Certificate
	key  crypto.Signer
}

// prepareIssuer loads ca's end-entity instance, refusing early with a
// KindQuota error when its quota is used up (the store checks again when
// it draws), then opens ca's signer (caSigner).
func (s *Service) prepareIssuer(ctx context.Context, a Actor, ca pca.CA) (issuer, error) {
	inst, err := s.store.GetInstance(ctx, a.AccountID, ca.InstanceUUID)
	if err != nil {
		return issuer{}, internal(fmt.Errorf("service: load instance: %w", err))
	}
	if inst.TotalCount > 0 && inst.Issued >= inst.TotalCount {
		return issuer{}, quotaError(inst)
	}
	cert, key, err := s.caSigner(ctx, a, ca)
	if err != nil {
		return issuer{}, err
	}
	return issuer{ca: ca, inst: inst, cert: cert, key: key}, nil
}

// reserve draws the new certificate's identifier, then reserves its serial
// under ca before anything is signed with it: custom when not nil (one ca
// already used is KindExists, Param pki.ParamSerialNumber), else a random
// free one (reserveSerial).
func (s *Service) reserve(ctx context.Context, ca pca.CA, custom *big.Int, now time.Time) (string, *big.Int, error) {
	id, err := s.newID()
	if err != nil {
		return "", nil, err
	}
	if custom == nil {
		serial, err := s.reserveSerial(ctx, ca.ID, now)
		if err != nil {
			return "", nil, err
		}
		return id, serial, nil
	}
	err = s.store.ReserveSerial(ctx, ca.ID, custom.Text(16), now)
	switch {
	case errors.Is(err, store.ErrConflict):
		return "", nil, &pca.Error{Kind: pca.KindExists, Param: pki.ParamSerialNumber, Detail: "SerialNumber",
			Msg: fmt.Sprintf("The serial number %s given in %s is already used by a certificate of the issuing CA %q.", custom, pki.ParamSerialNumber, ca.Identifier)}
	case err != nil:
		return "", nil, internal(err)
	}
	return id, custom, nil
}

// leafSpec is what a server or client certificate carries besides its key
// and validity: the profile, the (validated) subject and the SANs.
type leafSpec struct {
	profile pki.Profile
	subject pca.Subject
	dns     []string
	ips     []net.IP
	emails  []string
	uris    []*url.URL
}

// leafProfile is the signing profile of a server or client certificate;
// any other type is an internal error.
func leafProfile(t pca.CertType) (pki.Profile, error) {
	switch t {
	case pca.TypeServer:
		return pki.ProfileServer, nil
	case pca.TypeClient:
		return pki.ProfileClient, nil
	}
	return 0, pca.Internal(fmt.Errorf("service: unknown certificate type %q", t))
}

// signLeaf signs spec for pub with iss, over [nb, na] with the reserved
// serial and the issuer's CRL and AIA URLs (pki.NewLeaf). The caller has
// checked everything NewLeaf checks, so any refusal is internal.
func (s *Service) signLeaf(iss issuer, spec leafSpec, nb, na time.Time, serial *big.Int, pub crypto.PublicKey) (*pki.Issued, error) {
	crl, ocspURLs, issuers := s.issuerURLs(iss.ca)
	issued, err := pki.NewLeaf(s.rand, pki.LeafRequest{Profile: spec.profile, Subject: spec.subject, NotBefore: nb, NotAfter: na,
		Serial: serial, DNSNames: spec.dns, IPAddresses: spec.ips, EmailAddresses: spec.emails, URIs: spec.uris, PublicKey: pub,
		CRLDistributionPoints: crl, OCSPServers: ocspURLs, IssuingCertificateURLs: issuers},
		iss.cert, iss.key)
	if err != nil {
		return nil, internal(err)
	}
	return issued, nil
}

// newCertificate is the inventory record of a certificate iss signed:
// status ISSUE, subject, SANs, serial and validity read back from the
// issued certificate, Created now. The key reference and the caller's
// labels (CustomIdentifier, AliasName, ResourceGroupID, Tags) are the
// caller's to set; KeyRef empty means the caller holds the key.
func (s *Service) newCertificate(a Actor, id string, iss issuer, t pca.CertType, alg pca.Algorithm, issued *pki.Issued, now time.Time) pca.Certificate {
	return pca.Certificate{AccountID: a.AccountID, Identifier: id, CAID: iss.ca.ID, ParentIdentifier: iss.ca.Identifier,
		InstanceID: iss.inst.ID, InstanceUUID: iss.inst.UUID, Type: t, Status: pca.StatusIssue,
		Subject: pki.SubjectFromName(issued.Cert.Subject), SubjectDN: pki.SubjectDN(issued.Cert.Subject),
		SANs: pki.SANsOf(issued.Cert), Algorithm: alg, SerialNumber: serialHex(issued.Cert), DER: issued.DER,
		NotBefore: issued.Cert.NotBefore.UTC(), NotAfter: issued.Cert.NotAfter.UTC(), Created: now, Changed: s.now().UTC()}
}

// storeCertificate stores c with its sealed key (nil when the caller holds
// the key) and returns it as stored. Store refusals become API errors: a
// CustomIdentifier already used is KindExists with Param customIDParam (the
// name the call gives that parameter), a quota used up meanwhile is
// KindQuota (quotaError of inst), anything else is internal.
func (s *Service) storeCertificate(ctx context.Context, c pca.Certificate, key *store.KeyRecord, inst pca.Instance, customIDParam string) (pca.Certificate, error) {
	return s.storeWith(ctx, s.store.InsertCertificate, c, key, inst, customIDParam)
}

// storeWith is storeCertificate through insert (InsertCertificate, or
// InsertIssued, whose store.ErrSerialTaken is returned as it is).
func (s *Service) storeWith(ctx context.Context, insert func(context.Context, *pca.Certificate, *store.KeyRecord) error,
	c pca.Certificate, key *store.KeyRecord, inst pca.Instance, customIDParam string) (pca.Certificate, error) {
	err := insert(ctx, &c, key)
	switch {
	case errors.Is(err, store.ErrSerialTaken):
		return pca.Certificate{}, err
	case errors.Is(err, store.ErrConflict):
		return pca.Certificate{}, &pca.Error{Kind: pca.KindExists, Param: customIDParam, Detail: "CustomIdentifier",
			Msg: fmt.Sprintf("The %s %q is already used by another certificate of this account.", customIDParam, c.CustomIdentifier)}
	case errors.Is(err, store.ErrQuota):
		return pca.Certificate{}, quotaError(inst)
	case err != nil:
		return pca.Certificate{}, internal(fmt.Errorf("service: store certificate: %w", err))
	}
	return c, nil
}

// quotaError is the KindQuota refusal of an instance whose certificates
// are used up.
func quotaError(inst pca.Instance) error {
	return &pca.Error{Kind: pca.KindQuota, Detail: "CertificateCount",
		Msg: fmt.Sprintf("The end-entity instance %s has used all %d of its certificates.", inst.UUID, inst.TotalCount)}
}

// signAndStore signs with a fresh random serial (sign), builds the record of
// what was signed (record) and stores it together with the serial's
// reservation and, when ctx carries an InlineAudit, the call's audit
// record, in one transaction (store.InsertIssued). A serial the issuer
// used already (a chance of 2^-128 a draw) is drawn again and signed again:
// a certificate signed with a taken serial is dropped, never released, so no
// serial is ever used twice. Store refusals are mapped as storeCertificate
// maps them.
func (s *Service) signAndStore(ctx context.Context, iss issuer, customIDParam string, sign func(serial *big.Int) (*pki.Issued, error),
	record func(*pki.Issued) (pca.Certificate, *store.KeyRecord, error)) (pca.Certificate, error) {
	for range 5 {
		serial, err := pki.NewSerial(s.rand)
		if err != nil {
			return pca.Certificate{}, internal(err)
		}
		issued, err := sign(serial)
		if err != nil {
			return pca.Certificate{}, err
		}
		c, key, err := record(issued)
		if err != nil {
			return pca.Certificate{}, err
		}
		audit, written := s.inlineAudit(ctx, c.Identifier)
		c, err = s.storeWith(ctx, func(ctx context.Context, c *pca.Certificate, key *store.KeyRecord) error {
			return s.store.InsertIssued(ctx, c, key, audit)
		}, c, key, iss.inst, customIDParam)
		if err == nil && written != nil {
			written()
		}
		if !errors.Is(err, store.ErrSerialTaken) {
			return c, err
		}
	}
	return pca.Certificate{}, pca.Internal(errors.New("service: no free serial after 5 draws"))
}
