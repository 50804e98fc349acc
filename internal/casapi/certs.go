package casapi

import (
	"context"

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
		Subject:          leafSubject(b, true),
		Validity:         leafValidity(b),
	}
	req.CustomIdentifier, req.ResourceGroupID, req.Tags = leafLabels(b)
	return req
}

// leafSubject reads the subject parameters of the end-entity create calls:
// CommonName (required when cnRequired), Organization, OrganizationUnit,
// Locality, State and Country, all but CommonName optional.
func leafSubject(b *binder, cnRequired bool) pca.Subject {
	return pca.Subject{
		CommonName:       b.str("CommonName", cnRequired, 0),
		Organization:     b.str("Organization", false, 0),
		OrganizationUnit: b.str("OrganizationUnit", false, 0),
		Locality:         b.str("Locality", false, 0),
		State:            b.str("State", false, 0),
		Country:          b.str("Country", false, 0),
	}
}

// leafValidity reads the optional validity parameters of the end-entity
// create calls: Years, Months, Days, BeforeTime and AfterTime (Unix
// seconds). pki.LeafWindow decides what they mean together.
func leafValidity(b *binder) pki.Validity {
	return pki.Validity{
		Years:      int(b.integer("Years", false, 1, pki.MaxYears, 0)),
		Months:     int(b.integer("Months", false, 1, pki.MaxMonths, 0)),
		Days:       int(b.integer("Days", false, 1, pki.MaxDays, 0)),
		BeforeTime: b.integer("BeforeTime", false, 1, 253402300799, 0),
		AfterTime:  b.integer("AfterTime", false, 1, 253402300799, 0),
	}
}

// leafLabels reads the labels of the end-entity create calls
// (CustomIdentifier, ResourceGroupId, Tags), then EnableCrl, which they
// accept and ignore.
func leafLabels(b *binder) (customID, group string, tags []pca.Tag) {
	customID = b.str("CustomIdentifier", false, 64)
	group = b.str("ResourceGroupId", false, 64)
	tags = b.tags("Tags")
	b.flag("EnableCrl")
	return customID, group, tags
}

// respondIssued shapes the create response per Immediately (0 none, 1 the
// certificate, 2 also the chain) and AsynchronousFlag (only the Identifier).
func (a *API) respondIssued(ctx context.Context, r *openapi.Request, c pca.Certificate, immediately int64, async bool) (issued, error) {
	out := issued{Identifier: c.Identifier}
	if async {
		return out, nil
	}
	out.SerialNumber = c.SerialNumber
	if immediately >= 1 {
		out.X509Certificate = certPEM(c.DER)
	}
	if immediately == 2 {
		var err error
		if out.CertificateChain, err = a.issuerChain(ctx, r, c.ParentIdentifier); err != nil {
			return issued{}, err
		}
	}
	return out, nil
}

// issueWith reads the response options (Immediately, AsynchronousFlag),
// calls do once every parameter has been checked (b.err is then nil), and
// shapes the common create response (respondIssued).
func (a *API) issueWith(ctx context.Context, r *openapi.Request, b *binder, do func() (pca.Certificate, error)) (issued, error) {
	immediately := b.integer("Immediately", false, 0, 2, 0)
	async := b.flag("AsynchronousFlag")
	if b.err != nil {
		return issued{}, b.err
	}
	c, err := do()
	if err != nil {
		return issued{}, err
	}
	return a.respondIssued(ctx, r, c, immediately, async)
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

// issue issues req with a key pcad generates (see issueWith).
func (a *API) issue(ctx context.Context, r *openapi.Request, b *binder, req service.IssueRequest) (any, error) {
	out, err := a.issueWith(ctx, r, b, func() (pca.Certificate, error) { return a.svc.IssueCertificate(ctx, actor(r), req) })
	if err != nil {
		return nil, err
	}
	return out, nil
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
	certFields
	Id               int64     `json:"Id"`
	FullAlgorithm    string    `json:"FullAlgorithm"`
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
	c, err := a.svc.GetCertificate(ctx, actor(r), id)
	if err != nil {
		return nil, err
	}
	chain, err := a.issuerChain(ctx, r, c.ParentIdentifier)
	if err != nil {
		return nil, err
	}
	rec := certRecord{
		certFields: certFieldsOf(c), Id: c.ID, FullAlgorithm: string(c.Algorithm),
		X509Certificate: certPEM(c.DER), CertChain: chain, BeforeDate: c.NotBefore.UnixMilli(),
		AfterDate: c.NotAfter.UnixMilli(), Days: lcDays(c),
		CustomIdentifier: c.CustomIdentifier, AliasName: c.AliasName, ResourceGroupId: c.ResourceGroupID,
		UploadFlag: boolFlag(c.Uploaded), Tags: tagPairs(c.Tags),
	}
	return struct {
		Certificate certRecord `json:"Certificate"`
	}{rec}, nil
}
