package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// IssueRequest asks for an end-entity certificate whose key the service
// generates and holds.
type IssueRequest struct {
	ParentIdentifier string
	Type             pca.CertType // TypeServer or TypeClient
	Algorithm        pca.Algorithm
	Subject          pca.Subject
	// Domain is the server certificate's extra DNS names and IPs (comma list).
	Domain string
	// SanType and SanValue are the client certificate's SANs (1 email, 6 URI).
	SanType          int
	SanValue         string
	Validity         pki.Validity
	CustomIdentifier string
	AliasName        string
	ResourceGroupID  string
	Tags             []pca.Tag
}

// IssueCertificate validates req, then generates a key, reserves a serial,
// signs and stores the certificate. Nothing is stored when validation fails.
func (s *Service) IssueCertificate(ctx context.Context, a Actor, req IssueRequest) (pca.Certificate, error) {
	if len(req.CustomIdentifier) > 64 {
		return pca.Certificate{}, pca.Invalid("CustomIdentifier", "The specified parameter CustomIdentifier is too long: at most 64 characters.")
	}
	if len(req.AliasName) > 128 {
		return pca.Certificate{}, pca.Invalid("AliasName", "The specified parameter AliasName is too long: at most 128 characters.")
	}
	// Subject fields the caller leaves out come from the issuing CA.
	ca, err := s.usableCA(ctx, a, "ParentIdentifier", req.ParentIdentifier)
	if err != nil {
		return pca.Certificate{}, err
	}
	if ca.Type != pca.CASub {
		return pca.Certificate{}, pca.Invalid("ParentIdentifier", "The CA %q given in ParentIdentifier is a root CA: end-entity certificates are issued by subordinate CAs.", req.ParentIdentifier)
	}
	if req.Algorithm.Family() != ca.Algorithm.Family() {
		return pca.Certificate{}, pca.Invalid("Algorithm", "The specified parameter Algorithm %s does not match the key family %s of the issuing CA.", req.Algorithm, ca.Algorithm.Family())
	}
	subj := inheritSubject(req.Subject, ca.Subject)
	subj, err = pki.ValidateSubject(subj, "Country")
	if err != nil {
		return pca.Certificate{}, err
	}
	var (
		profile pki.Profile
		dns     []string
		ips     []net.IP
		emails  []string
		uris    []*url.URL
	)
	switch req.Type {
	case pca.TypeServer:
		profile = pki.ProfileServer
		if dns, ips, err = pki.ServerNames(subj.CommonName, req.Domain); err != nil {
			return pca.Certificate{}, err
		}
	case pca.TypeClient:
		profile = pki.ProfileClient
		if emails, uris, err = pki.ClientSANs(req.SanType, req.SanValue); err != nil {
			return pca.Certificate{}, err
		}
	default:
		return pca.Certificate{}, pca.Internal(fmt.Errorf("service: unknown certificate type %q", req.Type))
	}
	now := s.clock()
	nb, na, err := pki.LeafWindow(now, req.Validity, ca.NotBefore, ca.NotAfter, ca.CertMaxTime)
	if err != nil {
		return pca.Certificate{}, err
	}
	inst, err := s.store.GetInstance(ctx, a.AccountID, ca.InstanceUUID)
	if err != nil {
		return pca.Certificate{}, internal(fmt.Errorf("service: load instance: %w", err))
	}
	if inst.TotalCount > 0 && inst.Issued >= inst.TotalCount {
		return pca.Certificate{}, quotaError(inst)
	}
	issuerCert, issuerKey, err := s.caSigner(ctx, a, ca)
	if err != nil {
		return pca.Certificate{}, err
	}
	key, err := pki.GenerateKey(req.Algorithm, s.rand)
	if err != nil {
		return pca.Certificate{}, internal(err)
	}
	id, err := s.newID()
	if err != nil {
		return pca.Certificate{}, err
	}
	serial, err := s.reserveSerial(ctx, ca.ID, now)
	if err != nil {
		return pca.Certificate{}, err
	}
	crl, ocspURLs, issuers := s.issuerURLs(ca)
	issued, err := pki.NewLeaf(s.rand, pki.LeafRequest{Profile: profile, Subject: subj, NotBefore: nb, NotAfter: na,
		Serial: serial, DNSNames: dns, IPAddresses: ips, EmailAddresses: emails, URIs: uris, PublicKey: key.Public(),
		CRLDistributionPoints: crl, OCSPServers: ocspURLs, IssuingCertificateURLs: issuers},
		issuerCert, issuerKey)
	if err != nil {
		return pca.Certificate{}, internal(err)
	}
	rec, err := s.sealKey(a.AccountID, req.Algorithm, key)
	if err != nil {
		return pca.Certificate{}, err
	}
	c := pca.Certificate{AccountID: a.AccountID, Identifier: id, CAID: ca.ID, ParentIdentifier: ca.Identifier,
		InstanceID: inst.ID, InstanceUUID: inst.UUID, Type: req.Type, Status: pca.StatusIssue,
		Subject: pki.SubjectFromName(issued.Cert.Subject), SubjectDN: pki.SubjectDN(issued.Cert.Subject),
		SANs: pki.SANsOf(issued.Cert), Algorithm: req.Algorithm, SerialNumber: serialHex(issued.Cert), DER: issued.DER,
		NotBefore: issued.Cert.NotBefore.UTC(), NotAfter: issued.Cert.NotAfter.UTC(), KeyRef: rec.Ref,
		AliasName: req.AliasName, CustomIdentifier: req.CustomIdentifier, ResourceGroupID: req.ResourceGroupID,
		Tags: req.Tags, Created: now, Changed: s.now().UTC()}
	err = s.store.InsertCertificate(ctx, &c, &rec)
	switch {
	case errors.Is(err, store.ErrConflict):
		return pca.Certificate{}, &pca.Error{Kind: pca.KindExists, Param: "CustomIdentifier", Detail: "CustomIdentifier",
			Msg: fmt.Sprintf("The CustomIdentifier %q is already used by another certificate of this account.", req.CustomIdentifier)}
	case errors.Is(err, store.ErrQuota):
		return pca.Certificate{}, quotaError(inst)
	case err != nil:
		return pca.Certificate{}, internal(fmt.Errorf("service: store certificate: %w", err))
	}
	return c, nil
}

func quotaError(inst pca.Instance) error {
	return &pca.Error{Kind: pca.KindQuota, Detail: "CertificateCount",
		Msg: fmt.Sprintf("The end-entity instance %s has used all %d of its certificates.", inst.UUID, inst.TotalCount)}
}

// inheritSubject fills empty subject fields (except CommonName) from the CA.
func inheritSubject(s, ca pca.Subject) pca.Subject {
	if s.Country == "" {
		s.Country = ca.Country
	}
	if s.Organization == "" {
		s.Organization = ca.Organization
	}
	if s.OrganizationUnit == "" {
		s.OrganizationUnit = ca.OrganizationUnit
	}
	if s.Locality == "" {
		s.Locality = ca.Locality
	}
	if s.State == "" {
		s.State = ca.State
	}
	return s
}

// GetCertificate returns an end-entity certificate of the caller's account.
func (s *Service) GetCertificate(ctx context.Context, a Actor, identifier string) (pca.Certificate, error) {
	c, err := s.store.GetCertificate(ctx, a.AccountID, identifier)
	if errors.Is(err, store.ErrNotFound) {
		return pca.Certificate{}, pca.NotFound("Identifier", "Certificate", identifier)
	}
	if err != nil {
		return pca.Certificate{}, internal(err)
	}
	return c, nil
}

// RevokeCertificate revokes an ISSUE certificate of the caller's account.
// Revoking a revoked certificate is a KindState error.
func (s *Service) RevokeCertificate(ctx context.Context, a Actor, identifier string, reason pca.RevocationReason) (pca.Certificate, error) {
	c, err := s.store.RevokeCertificate(ctx, a.AccountID, identifier, s.now().UTC(), reason)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return pca.Certificate{}, pca.NotFound("Identifier", "Certificate", identifier)
	case errors.Is(err, store.ErrState):
		return pca.Certificate{}, pca.StateError("CertificateRevoked", "The certificate %q is already revoked.", identifier)
	case err != nil:
		return pca.Certificate{}, internal(err)
	}
	s.noteRevocation(c.CAID)
	return c, nil
}
