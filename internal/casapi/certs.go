package casapi

import (
	"context"
	"time"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/service"
)

// issued is the common response of the end-entity create calls. Fields are
// omitted when Immediately (or AsynchronousFlag) says not to return them.
type issued struct {
	Identifier       string `json:"Identifier"`
	SerialNumber     string `json:"SerialNumber,omitempty"`
	X509Certificate  string `json:"X509Certificate,omitempty"`
	CertificateChain string `json:"CertificateChain,omitempty"`
}

// bindIssue reads the parameters shared by CreateServerCertificate and
// CreateClientCertificate.
func bindIssue(b *binder, t pca.CertType) service.IssueRequest {
	req := service.IssueRequest{
		Type:             t,
		ParentIdentifier: b.str("ParentIdentifier", true, 64),
		Algorithm:        b.algorithm("Algorithm", true),
		Subject: pca.Subject{
			CommonName:       b.str("CommonName", true, 0),
			Organization:     b.str("Organization", false, 0),
			OrganizationUnit: b.str("OrganizationUnit", false, 0),
			Locality:         b.str("Locality", false, 0),
			State:            b.str("State", false, 0),
			Country:          b.str("Country", false, 0),
		},
		Validity: pki.Validity{
			Years:      int(b.integer("Years", false, 1, pki.MaxYears, 0)),
			Months:     int(b.integer("Months", false, 1, pki.MaxMonths, 0)),
			Days:       int(b.integer("Days", false, 1, pki.MaxDays, 0)),
			BeforeTime: b.integer("BeforeTime", false, 1, 253402300799, 0),
			AfterTime:  b.integer("AfterTime", false, 1, 253402300799, 0),
		},
		CustomIdentifier: b.str("CustomIdentifier", false, 64),
		ResourceGroupID:  b.str("ResourceGroupId", false, 64),
		Tags:             b.tags("Tags"),
	}
	b.flag("EnableCrl")
	return req
}

// respondIssued shapes the create response per Immediately (0 none, 1 the
// certificate, 2 also the chain) and AsynchronousFlag (only the Identifier).
func (a *API) respondIssued(ctx context.Context, r *openapi.Request, c pca.Certificate, immediately int64, async bool) (any, error) {
	out := issued{Identifier: c.Identifier}
	if async {
		return out, nil
	}
	out.SerialNumber = c.SerialNumber
	if immediately >= 1 {
		out.X509Certificate = certPEM(c.DER)
	}
	if immediately == 2 {
		ca, err := a.svc.GetCA(ctx, actor(r), "ParentIdentifier", c.ParentIdentifier)
		if err != nil {
			return nil, err
		}
		chain, err := a.svc.Chain(ctx, actor(r), ca)
		if err != nil {
			return nil, err
		}
		out.CertificateChain = chainPEM(chain)
	}
	return out, nil
}

func (a *API) createServer(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := bindIssue(b, pca.TypeServer)
	req.Domain = b.str("Domain", false, 0)
	return a.issue(ctx, r, b, req)
}

func (a *API) createClient(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := bindIssue(b, pca.TypeClient)
	req.SanType = int(b.integer("SanType", false, 0, 8, 0))
	req.SanValue = b.str("SanValue", false, 0)
	req.AliasName = b.str("AliasName", false, 128)
	b.str("ClientToken", false, 64)
	return a.issue(ctx, r, b, req)
}

// issue reads the response options, issues req once every parameter has
// been checked, and shapes the answer.
func (a *API) issue(ctx context.Context, r *openapi.Request, b *binder, req service.IssueRequest) (any, error) {
	immediately := b.integer("Immediately", false, 0, 2, 0)
	async := b.flag("AsynchronousFlag")
	if b.err != nil {
		return nil, b.err
	}
	c, err := a.svc.IssueCertificate(ctx, actor(r), req)
	if err != nil {
		return nil, err
	}
	return a.respondIssued(ctx, r, c, immediately, async)
}

func (a *API) revoke(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.str("Identifier", true, 64)
	if b.err != nil {
		return nil, b.err
	}
	if _, err := a.svc.RevokeCertificate(ctx, actor(r), id, pca.ReasonUnspecified); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// certRecord is DescribeClientCertificate's Certificate object.
type certRecord struct {
	Identifier       string    `json:"Identifier"`
	Id               int64     `json:"Id"`
	ParentIdentifier string    `json:"ParentIdentifier"`
	SerialNumber     string    `json:"SerialNumber"`
	CertificateType  string    `json:"CertificateType"`
	Status           string    `json:"Status"`
	CommonName       string    `json:"CommonName"`
	Organization     string    `json:"Organization"`
	OrganizationUnit string    `json:"OrganizationUnit"`
	Locality         string    `json:"Locality"`
	State            string    `json:"State"`
	CountryCode      string    `json:"CountryCode"`
	SubjectDN        string    `json:"SubjectDN"`
	Algorithm        string    `json:"Algorithm"`
	KeySize          int       `json:"KeySize"`
	FullAlgorithm    string    `json:"FullAlgorithm"`
	SignAlgorithm    string    `json:"SignAlgorithm"`
	Sans             string    `json:"Sans"`
	Md5              string    `json:"Md5"`
	Sha2             string    `json:"Sha2"`
	X509Certificate  string    `json:"X509Certificate"`
	CertChain        string    `json:"CertChain"`
	BeforeDate       int64     `json:"BeforeDate"`
	AfterDate        int64     `json:"AfterDate"`
	Days             int       `json:"Days"`
	CustomIdentifier string    `json:"CustomIdentifier"`
	AliasName        string    `json:"AliasName"`
	ResourceGroupId  string    `json:"ResourceGroupId"`
	UploadFlag       int       `json:"UploadFlag"`
	Tags             []tagPair `json:"Tags"`
}

func (a *API) describeCert(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.str("Identifier", true, 64)
	if b.err != nil {
		return nil, b.err
	}
	act := actor(r)
	c, err := a.svc.GetCertificate(ctx, act, id)
	if err != nil {
		return nil, err
	}
	ca, err := a.svc.GetCA(ctx, act, "ParentIdentifier", c.ParentIdentifier)
	if err != nil {
		return nil, err
	}
	chain, err := a.svc.Chain(ctx, act, ca)
	if err != nil {
		return nil, err
	}
	md5hex, sha2hex := fingerprints(c.DER)
	rec := certRecord{
		Identifier: c.Identifier, Id: c.ID, ParentIdentifier: c.ParentIdentifier, SerialNumber: c.SerialNumber,
		CertificateType: string(c.Type), Status: string(c.Status), CommonName: c.Subject.CommonName,
		Organization: c.Subject.Organization, OrganizationUnit: c.Subject.OrganizationUnit,
		Locality: c.Subject.Locality, State: c.Subject.State, CountryCode: c.Subject.Country, SubjectDN: c.SubjectDN,
		Algorithm: string(c.Algorithm.Family()), KeySize: c.Algorithm.Bits(), FullAlgorithm: string(c.Algorithm),
		SignAlgorithm: signAlgorithm(c.DER), Sans: sansJSON(c.SANs), Md5: md5hex, Sha2: sha2hex,
		X509Certificate: certPEM(c.DER), CertChain: chainPEM(chain), BeforeDate: c.NotBefore.UnixMilli(),
		AfterDate: c.NotAfter.UnixMilli(), Days: int(c.NotAfter.Sub(c.NotBefore) / (24 * time.Hour)),
		CustomIdentifier: c.CustomIdentifier, AliasName: c.AliasName, ResourceGroupId: c.ResourceGroupID,
		UploadFlag: boolFlag(c.Uploaded), Tags: tagPairs(c.Tags),
	}
	return struct {
		Certificate certRecord `json:"Certificate"`
	}{rec}, nil
}
