package service

// External CAs (CreateExternalCACertificate): a root of the caller signs a
// subordinate CA certificate for the key of a certificate request whose
// private key is held outside pcad (an HSM, another CA product). pcad keeps
// the certificate in its CA inventory as a SUB_ROOT with IssuerType
// "external" and no key: it cannot issue with it (usableCA refuses it), it
// publishes no CRL for it (the CRL builder skips CAs without a key), and it
// gives it no end-entity instance. The certificate draws one from the
// root's instance, as every sub-CA does, and the root's CRL covers it.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// API parameter names of CreateExternalCACertificate's ApiPassthrough (a
// JSON text), as CreateExternalCA reports them.
const (
	ParamExternalSubject   = "ApiPassthrough.Subject"
	ParamExternalEKUs      = "ApiPassthrough.Extensions.ExtendedKeyUsages"
	ParamExternalPathLen   = "ApiPassthrough.Extensions.PathLenConstraint"
	maxExternalPathLen     = 10
	maxExternalCertMaxTime = 36500
)

// ExternalCARequest asks for a subordinate CA certificate for the key of a
// caller's certificate request, signed by a root CA of the caller.
type ExternalCARequest struct {
	// InstanceID names the signing root: its identifier or the UUID of its
	// instance (the pool its sub-CAs draw on). Both are accepted.
	InstanceID string
	// CSR is the PEM text of the request (parameter Csr).
	CSR string
	// Validity is the Validity parameter (see pki.ParseValidity); the window
	// must fit the root's validity.
	Validity string
	// Subject, when not nil, replaces the request's subject entirely
	// (ApiPassthrough.Subject); nil uses the request's first CN, O, OU, L,
	// ST and C.
	Subject *pca.Subject
	// ExtendedKeyUsages restricts what the CA may issue (API names, see
	// pki.ParseExtKeyUsages); none writes no EKU extension.
	ExtendedKeyUsages []string
	// PathLen is the pathLenConstraint, 0 to 10 (0: the CA may issue only
	// end-entity certificates).
	PathLen int
	// CertMaxTime is recorded on the CA (days, 0 to 36500; 0 = no limit):
	// the longest certificate it is meant to issue.
	CertMaxTime     int
	ResourceGroupID string
	Tags            []pca.Tag
}

// CreateExternalCA validates req, then reserves a serial under the root,
// signs the request's key as a sub-CA (pki.NewSubCA, with the root's CRL
// and AIA URLs) and stores the CA without a key. Nothing is stored when
// validation fails.
//
// Refusals, as *pca.Error: an InstanceId that names no CA or instance of the
// caller (KindNotFound) or one that is not a root (Invalid("InstanceId")); a
// revoked or expired root (KindState); a bad request ("Csr"), or a key of
// another family than the root's ("Csr"); a bad subject
// ("ApiPassthrough.Subject.<Field>", or "Csr" when it came from the
// request); bad EKUs or path length (ParamExternalEKUs,
// ParamExternalPathLen); a bad Validity or one that does not fit the root
// ("Validity"); a root whose instance has no sub-CA left (KindQuota, Param
// "InstanceId").
func (s *Service) CreateExternalCA(ctx context.Context, a Actor, req ExternalCARequest) (pca.CA, error) {
	if req.PathLen < 0 || req.PathLen > maxExternalPathLen {
		return pca.CA{}, pca.Invalid(ParamExternalPathLen, "The specified parameter %s is out of range: give 0 to %d.", ParamExternalPathLen, maxExternalPathLen)
	}
	if req.CertMaxTime < 0 || req.CertMaxTime > maxExternalCertMaxTime {
		return pca.CA{}, pca.Invalid("CertMaxTime", "The specified parameter CertMaxTime is out of range: give 1 to %d days.", maxExternalCertMaxTime)
	}
	ekus, err := pki.ParseExtKeyUsages(ParamExternalEKUs, req.ExtendedKeyUsages)
	if err != nil {
		return pca.CA{}, err
	}
	root, err := s.externalParent(ctx, a, req.InstanceID)
	if err != nil {
		return pca.CA{}, err
	}
	csr, err := pki.ParseCSR("Csr", req.CSR)
	if err != nil {
		return pca.CA{}, err
	}
	alg, err := csrAlgorithm(csr, "", root)
	if err != nil {
		return pca.CA{}, err
	}
	subj, err := externalSubject(csr, req.Subject)
	if err != nil {
		return pca.CA{}, err
	}
	now := s.clock()
	nb, na, err := pki.ParseValidity("Validity", req.Validity, now)
	if err != nil {
		return pca.CA{}, err
	}
	if err := pki.FitIssuer("Validity", nb, na, root.NotBefore, root.NotAfter, root.CertMaxTime); err != nil {
		return pca.CA{}, err
	}
	if err := s.checkCAQuota(ctx, a, root); err != nil {
		return pca.CA{}, instanceQuotaError(err, root)
	}
	rootCert, rootKey, err := s.caSigner(ctx, a, root)
	if err != nil {
		return pca.CA{}, err
	}
	serial, err := s.reserveSerial(ctx, root.ID, now)
	if err != nil {
		return pca.CA{}, err
	}
	crl, ocspURLs, issuers := s.issuerURLs(root)
	issued, err := pki.NewSubCA(s.rand, pki.SubCARequest{Subject: subj, NotBefore: nb, NotAfter: na, Serial: serial,
		PathLen: req.PathLen, ExtKeyUsages: ekus, PublicKey: csr.PublicKey,
		CRLDistributionPoints: crl, OCSPServers: ocspURLs, IssuingCertificateURLs: issuers}, rootCert, rootKey)
	if err != nil {
		return pca.CA{}, externalSubCAError(err)
	}
	id, err := s.newID()
	if err != nil {
		return pca.CA{}, err
	}
	c := issued.Cert
	ca := pca.CA{AccountID: a.AccountID, Identifier: id, ParentID: root.ID, ParentIdentifier: root.Identifier,
		Type: pca.CASub, Status: pca.StatusIssue, Subject: pki.SubjectFromName(c.Subject), SubjectDN: pki.SubjectDN(c.Subject),
		Algorithm: alg, SerialNumber: serialHex(c), DER: issued.DER, NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		Years: validityYears(c), PathLen: req.PathLen, ExtendedKeyUsages: pki.ExtKeyUsageNames(ekus),
		CertMaxTime: req.CertMaxTime, ResourceGroupID: req.ResourceGroupID, Tags: req.Tags,
		IssuerType: IssuerExternal, Created: now}
	err = s.store.CreateCA(ctx, &ca, store.KeyRecord{})
	if errors.Is(err, store.ErrQuota) {
		return pca.CA{}, instanceQuotaError(caQuotaError(root.Identifier), root)
	}
	if err != nil {
		return pca.CA{}, internal(fmt.Errorf("service: store external CA: %w", err))
	}
	s.caCreatedEvents(ctx, ca)
	return ca, nil
}

// externalParent resolves InstanceId to a usable root CA of the caller: the
// root with that identifier, or the root whose instance has that UUID.
func (s *Service) externalParent(ctx context.Context, a Actor, instanceID string) (pca.CA, error) {
	id := strings.TrimSpace(instanceID)
	if id == "" {
		return pca.CA{}, pca.Missing("InstanceId")
	}
	ca, err := s.store.GetCA(ctx, a.AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		in, ierr := s.store.GetInstance(ctx, a.AccountID, id)
		switch {
		case errors.Is(ierr, store.ErrNotFound):
			return pca.CA{}, &pca.Error{Kind: pca.KindNotFound, Param: "InstanceId", Detail: "Instance",
				Msg: fmt.Sprintf("The root CA or instance %q given in InstanceId does not exist.", id)}
		case ierr != nil:
			return pca.CA{}, internal(ierr)
		}
		ca, err = s.store.GetCAByID(ctx, a.AccountID, in.CAID)
	}
	if err != nil {
		return pca.CA{}, internal(fmt.Errorf("service: load CA: %w", err))
	}
	if ca.Type != pca.CARoot {
		return pca.CA{}, pca.Invalid("InstanceId", "The specified parameter InstanceId is not valid: %q names the subordinate CA %q (or its instance); an external CA is signed by a root CA: give the root's identifier or instance UUID.", id, ca.Identifier)
	}
	return s.usableCA(ctx, a, "InstanceId", ca.Identifier)
}

// externalSubject is the subject of an external CA: the given one (every
// field from ApiPassthrough.Subject) or the request's, validated as a CA
// subject (CommonName required).
func externalSubject(csr *x509.CertificateRequest, given *pca.Subject) (pca.Subject, error) {
	if given != nil {
		subj, err := pki.ValidateSubject(*given, "Country")
		if e, ok := pca.AsError(err); ok {
			param := ParamExternalSubject + "." + e.Param
			if e.Kind == pca.KindMissing {
				return pca.Subject{}, &pca.Error{Kind: pca.KindMissing, Param: param,
					Msg: fmt.Sprintf("The input parameter %q is not supplied: a given %s replaces the subject of the certificate request and must have a CommonName.", param, ParamExternalSubject)}
			}
			return pca.Subject{}, &pca.Error{Kind: e.Kind, Param: param, Err: e.Err,
				Msg: strings.Replace(e.Msg, "parameter "+e.Param, "parameter "+param, 1)}
		}
		return subj, err
	}
	subj, _, err := pki.SubjectFromCSR("Csr", csr)
	if err != nil {
		return pca.Subject{}, err
	}
	fromCSR := map[string]bool{}
	for _, f := range subjectFields {
		fromCSR[f.name] = true
	}
	if strings.TrimSpace(subj.CommonName) == "" {
		return pca.Subject{}, &pca.Error{Kind: pca.KindMissing, Param: ParamExternalSubject + ".CommonName",
			Msg: "The certificate request given in Csr has no common name: give ApiPassthrough with a Subject that has a CommonName."}
	}
	subj, err = pki.ValidateSubject(subj, "Country")
	if err != nil {
		return pca.Subject{}, csrFieldError(err, fromCSR)
	}
	return subj, nil
}

// externalSubCAError renames the parameters of pki.NewSubCA's refusals to
// those of CreateExternalCACertificate.
func externalSubCAError(err error) error {
	e, ok := pca.AsError(err)
	if !ok || e.Kind == pca.KindInternal {
		return internal(err)
	}
	rename := map[string]string{"PathLenConstraint": ParamExternalPathLen, "ExtendedKeyUsages": ParamExternalEKUs,
		"Algorithm": "Csr", "ParentIdentifier": "InstanceId"}
	if to, ok := rename[e.Param]; ok {
		return &pca.Error{Kind: e.Kind, Param: to, Detail: e.Detail, Err: e.Err,
			Msg: strings.ReplaceAll(e.Msg, e.Param, to)}
	}
	return err
}

// instanceQuotaError makes a quota refusal of the root's instance name
// InstanceId.
func instanceQuotaError(err error, root pca.CA) error {
	if e, ok := pca.AsError(err); ok && e.Kind == pca.KindQuota {
		return &pca.Error{Kind: pca.KindQuota, Param: "InstanceId", Detail: e.Detail,
			Msg: fmt.Sprintf("The root CA %q given in InstanceId has used all the sub-CAs its instance %s allows.", root.Identifier, root.InstanceUUID)}
	}
	return err
}

// externalCAError refuses to issue with an external CA.
func externalCAError(param, identifier string) error {
	return pca.Invalid(param, "The specified parameter %s is not valid: the CA %q is an external CA whose key is held outside pcad, so pcad cannot issue certificates with it.", param, identifier)
}

// validityYears is the validity of c in whole years, rounded, at least 1
// (the Years field of a CA record).
func validityYears(c *x509.Certificate) int {
	days := c.NotAfter.Sub(c.NotBefore).Hours() / 24
	return max(1, int(math.Round(days/365.25)))
}
