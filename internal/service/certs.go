package service

import (
	"context"
	"errors"
	"math/big"

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

// IssueCertificate validates req, then generates a key, signs with a fresh
// serial and stores the certificate with the serial's reservation. Nothing is stored when validation fails.
func (s *Service) IssueCertificate(ctx context.Context, a Actor, req IssueRequest) (pca.Certificate, error) {
	if err := maxLength("CustomIdentifier", req.CustomIdentifier, 64); err != nil {
		return pca.Certificate{}, err
	}
	if err := maxLength("AliasName", req.AliasName, 128); err != nil {
		return pca.Certificate{}, err
	}
	ca, err := s.issuingCA(ctx, a, req.ParentIdentifier)
	if err != nil {
		return pca.Certificate{}, err
	}
	if req.Algorithm.Family() != ca.Algorithm.Family() {
		return pca.Certificate{}, pca.Invalid("Algorithm", "The specified parameter Algorithm %s does not match the key family %s of the issuing CA.", req.Algorithm, ca.Algorithm.Family())
	}
	// Subject fields the caller leaves out come from the issuing CA.
	spec := leafSpec{}
	if spec.subject, err = pki.ValidateSubject(inheritSubject(req.Subject, ca.Subject), "Country"); err != nil {
		return pca.Certificate{}, err
	}
	if spec.profile, err = leafProfile(req.Type); err != nil {
		return pca.Certificate{}, err
	}
	if req.Type == pca.TypeServer {
		spec.dns, spec.ips, err = pki.ServerNames(spec.subject.CommonName, req.Domain)
	} else {
		spec.emails, spec.uris, err = pki.ClientSANs(req.SanType, req.SanValue)
	}
	if err != nil {
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
	key, err := s.generateKey(ctx, a, req.Algorithm)
	if err != nil {
		return pca.Certificate{}, internal(err)
	}
	id, err := s.newID()
	if err != nil {
		return pca.Certificate{}, err
	}
	rec, err := s.sealKey(a.AccountID, req.Algorithm, key)
	if err != nil {
		return pca.Certificate{}, err
	}
	return s.signAndStore(ctx, iss, "CustomIdentifier", func(serial *big.Int) (*pki.Issued, error) {
		return s.signLeaf(iss, spec, nb, na, serial, key.Public())
	}, func(issued *pki.Issued) (pca.Certificate, *store.KeyRecord, error) {
		c := s.newCertificate(a, id, iss, req.Type, req.Algorithm, issued, now)
		c.KeyRef, c.AliasName = rec.Ref, req.AliasName
		c.CustomIdentifier, c.ResourceGroupID, c.Tags = req.CustomIdentifier, req.ResourceGroupID, req.Tags
		return c, &rec, nil
	})
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
