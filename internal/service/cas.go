package service

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// RootCARequest asks for a self-signed root CA.
type RootCARequest struct {
	Subject         pca.Subject
	Years           int
	Algorithm       pca.Algorithm
	ResourceGroupID string
	Tags            []pca.Tag
	KeyStore        KeyStore // where the key is generated; empty: the server's default
}

// SubCARequest asks for an intermediate CA signed by a root.
type SubCARequest struct {
	ParentIdentifier  string
	Subject           pca.Subject
	Years             int
	Algorithm         pca.Algorithm
	ExtendedKeyUsages []string // serverAuth, clientAuth, ...
	PathLen           int
	EnableCRL         bool
	CRLDays           int
	CertMaxTime       int // days; 0 = only the CA's own validity limits
	ResourceGroupID   string
	Tags              []pca.Tag
	KeyStore          KeyStore // where the key is generated; empty: the server's default
}

// CreateRootCA makes a self-signed root CA with a key generated in the key
// store req.KeyStore names (cakeys.go).
func (s *Service) CreateRootCA(ctx context.Context, a Actor, req RootCARequest) (_ pca.CA, err error) {
	subj, err := pki.ValidateSubject(req.Subject, "CountryCode")
	if err != nil {
		return pca.CA{}, err
	}
	ks, err := s.caKeyStore(req.KeyStore)
	if err != nil {
		return pca.CA{}, err
	}
	now := s.clock()
	nb, na, err := pki.CAWindow(now, req.Years, time.Time{}, time.Time{})
	if err != nil {
		return pca.CA{}, err
	}
	key, err := s.newCAKey(ctx, a, ks, req.Algorithm, subj.CommonName)
	if err != nil {
		return pca.CA{}, err
	}
	defer s.noteUnusedCAKey(key, &err)
	serial, err := s.reserveSerial(ctx, 0, now)
	if err != nil {
		return pca.CA{}, err
	}
	issued, err := pki.NewRoot(s.rand, pki.RootRequest{Subject: subj, NotBefore: nb, NotAfter: na, Serial: serial}, key.signer)
	if err != nil {
		return pca.CA{}, internal(err)
	}
	inst, err := s.newID()
	if err != nil {
		return pca.CA{}, err
	}
	ca := pca.CA{AccountID: a.AccountID, Type: pca.CARoot, Years: req.Years, Algorithm: req.Algorithm,
		ResourceGroupID: req.ResourceGroupID, Tags: req.Tags, PathLen: -1, InstanceUUID: inst, CRLDays: 30}
	return s.storeCA(ctx, &ca, issued, key, now)
}

// CreateSubCA makes an intermediate CA under a root of the caller's
// account, with a key generated in the key store req.KeyStore names.
func (s *Service) CreateSubCA(ctx context.Context, a Actor, req SubCARequest) (_ pca.CA, err error) {
	subj, err := pki.ValidateSubject(req.Subject, "CountryCode")
	if err != nil {
		return pca.CA{}, err
	}
	ks, err := s.caKeyStore(req.KeyStore)
	if err != nil {
		return pca.CA{}, err
	}
	ekus, err := pki.ParseExtKeyUsages("ExtendedKeyUsages", req.ExtendedKeyUsages)
	if err != nil {
		return pca.CA{}, err
	}
	if req.PathLen < 0 || req.PathLen > 10 {
		return pca.CA{}, pca.Invalid("PathLenConstraint", "The specified parameter PathLenConstraint is out of range: give 0 to 10.")
	}
	if req.CRLDays < 0 || req.CRLDays > 365 {
		return pca.CA{}, pca.Invalid("CrlDay", "The specified parameter CrlDay is out of range: give 1 to 365 days.")
	}
	if req.CertMaxTime < 0 || req.CertMaxTime > 36500 {
		return pca.CA{}, pca.Invalid("CertMaxTime", "The specified parameter CertMaxTime is out of range: give 1 to 36500 days.")
	}
	parent, err := s.usableCA(ctx, a, "ParentIdentifier", req.ParentIdentifier)
	if err != nil {
		return pca.CA{}, err
	}
	if parent.Type != pca.CARoot {
		return pca.CA{}, pca.Invalid("ParentIdentifier", "The CA %q given in ParentIdentifier is a subordinate CA: a sub-CA must be issued by a root CA.", req.ParentIdentifier)
	}
	if req.Algorithm.Family() != parent.Algorithm.Family() {
		return pca.CA{}, pca.Invalid("Algorithm", "The specified parameter Algorithm %s does not match the key family %s of the parent CA.", req.Algorithm, parent.Algorithm.Family())
	}
	now := s.clock()
	nb, na, err := pki.CAWindow(now, req.Years, time.Time{}, time.Time{})
	if err != nil {
		return pca.CA{}, err
	}
	if req.Years > parent.Years {
		return pca.CA{}, pca.Invalid("Years", "The specified parameter Years (%d) is longer than the %d years of the parent CA.", req.Years, parent.Years)
	}
	// A sub-CA as long-lived as its root ends with the root, never after it.
	if na.After(parent.NotAfter) {
		na = parent.NotAfter
	}
	if err := s.checkCAQuota(ctx, a, parent); err != nil {
		return pca.CA{}, err
	}
	parentCert, parentKey, err := s.caSigner(ctx, a, parent)
	if err != nil {
		return pca.CA{}, err
	}
	key, err := s.newCAKey(ctx, a, ks, req.Algorithm, subj.CommonName)
	if err != nil {
		return pca.CA{}, err
	}
	defer s.noteUnusedCAKey(key, &err)
	serial, err := s.reserveSerial(ctx, parent.ID, now)
	if err != nil {
		return pca.CA{}, err
	}
	crl, ocspURLs, issuers := s.issuerURLs(parent)
	issued, err := pki.NewSubCA(s.rand, pki.SubCARequest{Subject: subj, NotBefore: nb, NotAfter: na, Serial: serial,
		PathLen: req.PathLen, ExtKeyUsages: ekus, PublicKey: key.signer.Public(),
		CRLDistributionPoints: crl, OCSPServers: ocspURLs, IssuingCertificateURLs: issuers}, parentCert, parentKey)
	if err != nil {
		return pca.CA{}, internal(err)
	}
	inst, err := s.newID()
	if err != nil {
		return pca.CA{}, err
	}
	crlDays := req.CRLDays
	if crlDays == 0 {
		crlDays = 7
	}
	ca := pca.CA{AccountID: a.AccountID, Type: pca.CASub, ParentID: parent.ID, ParentIdentifier: parent.Identifier,
		Years: req.Years, Algorithm: req.Algorithm, PathLen: req.PathLen, ExtendedKeyUsages: req.ExtendedKeyUsages,
		EnableCRL: req.EnableCRL, CRLDays: crlDays, CertMaxTime: req.CertMaxTime, ResourceGroupID: req.ResourceGroupID,
		Tags: req.Tags, InstanceUUID: inst}
	return s.storeCA(ctx, &ca, issued, key, now)
}

// storeCA fills the CA record from the issued certificate and stores it
// with its sealed key (none for a key in the HSM) in one transaction.
func (s *Service) storeCA(ctx context.Context, ca *pca.CA, issued *pki.Issued, key caKey, now time.Time) (pca.CA, error) {
	id, err := s.newID()
	if err != nil {
		return pca.CA{}, err
	}
	c := issued.Cert
	ca.Identifier = id
	ca.Status = pca.StatusIssue
	ca.Subject = pki.SubjectFromName(c.Subject)
	ca.SubjectDN = pki.SubjectDN(c.Subject)
	ca.KeyRef = key.ref
	ca.SerialNumber = serialHex(c)
	ca.DER = issued.DER
	ca.NotBefore, ca.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
	ca.Created = now
	err = s.store.CreateCA(ctx, ca, key.rec)
	if errors.Is(err, store.ErrQuota) {
		return pca.CA{}, &pca.Error{Kind: pca.KindQuota, Param: "ParentIdentifier", Detail: "CertificateCount",
			Msg: fmt.Sprintf("The root CA %q has used all the sub-CAs its instance allows.", ca.ParentIdentifier)}
	}
	if err != nil {
		return pca.CA{}, internal(fmt.Errorf("service: store CA: %w", err))
	}
	s.mu.Lock()
	s.signers[key.ref] = key.signer
	s.mu.Unlock()
	s.caCreatedEvents(ctx, *ca)
	return *ca, nil
}

// GetCA returns a CA of the caller's account; param names the parameter
// that carried the identifier, for the error.
func (s *Service) GetCA(ctx context.Context, a Actor, param, identifier string) (pca.CA, error) {
	ca, err := s.store.GetCA(ctx, a.AccountID, identifier)
	if errors.Is(err, store.ErrNotFound) {
		return pca.CA{}, pca.NotFound(param, "CA", identifier)
	}
	if err != nil {
		return pca.CA{}, internal(err)
	}
	return ca, nil
}

// usableCA returns a CA that may issue now: one whose key pcad holds (not
// external), with status ISSUE and within validity.
//
// The CA is read without its Tags (store.GetCAUntagged): no caller needs them.
func (s *Service) usableCA(ctx context.Context, a Actor, param, identifier string) (pca.CA, error) {
	ca, err := s.store.GetCAUntagged(ctx, a.AccountID, identifier)
	if errors.Is(err, store.ErrNotFound) {
		return pca.CA{}, pca.NotFound(param, "CA", identifier)
	}
	if err != nil {
		return pca.CA{}, internal(err)
	}
	// An external CA's key is held outside pcad (CreateExternalCACertificate).
	if ca.KeyRef == "" {
		return pca.CA{}, externalCAError(param, identifier)
	}
	if ca.Status != pca.StatusIssue {
		return pca.CA{}, pca.StateError("CARevoked", "The CA %q is revoked and can no longer issue certificates.", identifier)
	}
	now := s.now()
	if now.Before(ca.NotBefore) || !now.Before(ca.NotAfter) {
		return pca.CA{}, pca.StateError("CAExpired", "The CA %q is not valid now (valid from %s to %s UTC).", identifier,
			ca.NotBefore.Format(time.DateTime), ca.NotAfter.Format(time.DateTime))
	}
	return ca, nil
}

// caSigner parses a CA's certificate and opens its key. The parsed
// certificate of each CA is kept (a CA's certificate never changes; the
// kept one is used only while its DER equals ca.DER).
func (s *Service) caSigner(ctx context.Context, a Actor, ca pca.CA) (*x509.Certificate, crypto.Signer, error) {
	if ca.KeyRef == "" { // external CA: usableCA refuses it first
		return nil, nil, externalCAError("ParentIdentifier", ca.Identifier)
	}
	s.mu.Lock()
	cert := s.caCerts[ca.ID]
	s.mu.Unlock()
	if cert == nil || !bytes.Equal(cert.Raw, ca.DER) {
		var err error
		if cert, err = x509.ParseCertificate(ca.DER); err != nil {
			return nil, nil, pca.Internal(fmt.Errorf("service: parse CA certificate: %w", err))
		}
		s.mu.Lock()
		s.caCerts[ca.ID] = cert
		s.mu.Unlock()
	}
	key, err := s.signer(ctx, a.AccountID, ca.KeyRef)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// Chain returns the PEM chain from ca up to its root, ca first.
func (s *Service) Chain(ctx context.Context, a Actor, ca pca.CA) ([]pca.CA, error) {
	chain := []pca.CA{ca}
	for cur := ca; cur.ParentID != 0 && len(chain) < 8; {
		parent, err := s.store.GetCAByID(ctx, a.AccountID, cur.ParentID)
		if err != nil {
			return nil, internal(fmt.Errorf("service: load parent CA: %w", err))
		}
		chain = append(chain, parent)
		cur = parent
	}
	return chain, nil
}

// reserveSerial draws random serials until one is free under issuerID (0 for
// self-signed roots) and records it before anything is signed with it.
func (s *Service) reserveSerial(ctx context.Context, issuerID int64, now time.Time) (*big.Int, error) {
	for range 5 {
		n, err := pki.NewSerial(s.rand)
		if err != nil {
			return nil, internal(err)
		}
		err = s.store.ReserveSerial(ctx, issuerID, n.Text(16), now)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, internal(err)
		}
		return n, nil
	}
	return nil, pca.Internal(errors.New("service: no free serial after 5 draws"))
}

// serialHex renders a certificate serial as lower-case hex.
func serialHex(c *x509.Certificate) string { return c.SerialNumber.Text(16) }

// Instance returns the end-entity instance of the caller's account with the
// given UUID (a sub-CA's default instance, for example).
func (s *Service) Instance(ctx context.Context, a Actor, uuid string) (pca.Instance, error) {
	in, err := s.store.GetInstance(ctx, a.AccountID, uuid)
	if errors.Is(err, store.ErrNotFound) {
		return pca.Instance{}, pca.NotFound("InstanceUuid", "Instance", uuid)
	}
	if err != nil {
		return pca.Instance{}, internal(err)
	}
	return in, nil
}

// SetInstanceQuota gives an end-entity instance of the caller's account a
// total certificate count (0 = unlimited). Issuance beyond it fails with a
// KindQuota error and stores nothing.
func (s *Service) SetInstanceQuota(ctx context.Context, a Actor, uuid string, total int64) error {
	if total < 0 {
		return pca.Invalid("CertTotalCount", "The specified parameter CertTotalCount must not be negative.")
	}
	err := s.store.SetInstanceQuota(ctx, a.AccountID, uuid, total)
	if errors.Is(err, store.ErrNotFound) {
		return pca.NotFound("InstanceUuid", "Instance", uuid)
	}
	if err != nil {
		return internal(err)
	}
	return nil
}
