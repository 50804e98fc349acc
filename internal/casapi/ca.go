package casapi

import (
	"context"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// caCreated is the response of the CA create calls.
type caCreated struct {
	Identifier       string `json:"Identifier"`
	Certificate      string `json:"Certificate"`
	CertificateChain string `json:"CertificateChain"`
}

// caKeyStore reads KeyStore, a pcad extension of the CA create calls: where
// the CA's key is generated, HSM (the server's PKCS#11 token, --kms) or
// SOFTWARE (sealed in the store); absent, the server's --ca-key-store.
func caKeyStore(b *binder) service.KeyStore {
	return service.KeyStore(b.oneOf("KeyStore", false, string(service.KeyStoreHSM), string(service.KeyStoreSoftware)))
}

// caSubject reads the subject of a CA create call (all but CountryCode required).
func caSubject(b *binder) pca.Subject {
	return pca.Subject{
		CommonName:       b.str("CommonName", true, 0),
		Organization:     b.str("Organization", true, 0),
		OrganizationUnit: b.str("OrganizationUnit", true, 0),
		Locality:         b.str("Locality", true, 0),
		State:            b.str("State", true, 0),
		Country:          b.str("CountryCode", false, 0),
	}
}

func (a *API) createRootCA(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := service.RootCARequest{
		Subject:         caSubject(b),
		Years:           int(b.integer("Years", true, 1, 100, 0)),
		Algorithm:       b.algorithm("Algorithm", false),
		ResourceGroupID: b.str("ResourceGroupId", false, 64),
		Tags:            b.tags("Tags"),
		KeyStore:        caKeyStore(b),
	}
	b.str("ClientToken", false, 64)
	if b.err != nil {
		return nil, b.err
	}
	if req.Algorithm == "" {
		req.Algorithm = pca.RSA2048
	}
	ca, err := a.svc.CreateRootCA(ctx, actor(r), req)
	if err != nil {
		return nil, err
	}
	return caCreated{Identifier: ca.Identifier, Certificate: certPEM(ca.DER), CertificateChain: certPEM(ca.DER)}, nil
}

func (a *API) createSubCA(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := service.SubCARequest{
		ParentIdentifier:  b.str("ParentIdentifier", true, 64),
		Algorithm:         b.algorithm("Algorithm", true),
		Subject:           caSubject(b),
		Years:             int(b.integer("Years", true, 1, 100, 0)),
		ExtendedKeyUsages: b.list("ExtendedKeyUsages"),
		PathLen:           int(b.integer("PathLenConstraint", false, 0, 10, 0)),
		EnableCRL:         b.flag("EnableCrl"),
		CRLDays:           int(b.integer("CrlDay", false, 1, 365, 0)),
		CertMaxTime:       int(b.integer("CertMaxTime", false, 1, 36500, 0)),
		ResourceGroupID:   b.str("ResourceGroupId", false, 64),
		Tags:              b.tags("Tags"),
		KeyStore:          caKeyStore(b),
	}
	b.str("ClientToken", false, 64)
	if b.err != nil {
		return nil, b.err
	}
	ca, err := a.svc.CreateSubCA(ctx, actor(r), req)
	if err != nil {
		return nil, err
	}
	return a.subCACreated(ctx, r, ca)
}

// subCACreated is the answer of the sub-CA create calls for the new CA:
// its certificate and its chain up to the root, the CA first.
func (a *API) subCACreated(ctx context.Context, r *openapi.Request, ca pca.CA) (any, error) {
	chain, err := a.svc.Chain(ctx, actor(r), ca)
	if err != nil {
		return nil, err
	}
	return caCreated{Identifier: ca.Identifier, Certificate: certPEM(ca.DER), CertificateChain: chainPEM(chain)}, nil
}

// caRecord is DescribeCACertificate's Certificate object.
type caRecord struct {
	caFields
	CaCertChain        string    `json:"CaCertChain"`
	BeforeDate         int64     `json:"BeforeDate"`
	AfterDate          int64     `json:"AfterDate"`
	Years              int       `json:"Years"`
	CertIssuedCount    int64     `json:"CertIssuedCount"`
	CertRemainingCount int64     `json:"CertRemainingCount"`
	CertTotalCount     int64     `json:"CertTotalCount"`
	CertMaxTime        int       `json:"CertMaxTime"`
	CrlDay             int       `json:"CrlDay"`
	CrlStatus          string    `json:"CrlStatus"`
	CrlUrl             string    `json:"CrlUrl"`
	ResourceGroupId    string    `json:"ResourceGroupId"`
	Alias              string    `json:"Alias"`
	Tags               []tagPair `json:"Tags"`
	// pcad extensions: where the CA's key is (HSM or SOFTWARE; absent for
	// an external CA) and whether it can be exported (never, for a CA).
	KeyStore      string `json:"KeyStore,omitempty"`
	KeyExportable bool   `json:"KeyExportable"`
}

type describeCAResponse struct {
	Certificate caRecord `json:"Certificate"`
	Years       int      `json:"Years"`
}

func (a *API) describeCA(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.str("Identifier", true, 64)
	if b.err != nil {
		return nil, b.err
	}
	act := actor(r)
	ca, err := a.svc.GetCA(ctx, act, "Identifier", id)
	if err != nil {
		return nil, err
	}
	chain, err := a.svc.Chain(ctx, act, ca)
	if err != nil {
		return nil, err
	}
	rec := caRecord{
		caFields: caFieldsOf(ca), CaCertChain: chainPEM(chain), BeforeDate: ca.NotBefore.UnixMilli(),
		AfterDate: ca.NotAfter.UnixMilli(), Years: ca.Years, CertMaxTime: ca.CertMaxTime, CrlDay: ca.CRLDays,
		CrlStatus: crlStatus(ca), ResourceGroupId: ca.ResourceGroupID, Alias: ca.AliasName, Tags: tagPairs(ca.Tags),
		KeyStore: string(service.CAKeyStoreOf(ca)), KeyExportable: false, // DescribeCertificatePrivateKey refuses CAs
	}
	// A sub-CA's instance counts its end-entity certificates, a root's the
	// sub-CAs it signed.
	if ca.InstanceUUID != "" {
		in, err := a.svc.Instance(ctx, act, ca.InstanceUUID)
		if err != nil {
			return nil, err
		}
		rec.CertIssuedCount, rec.CertTotalCount = in.Issued, in.TotalCount
		if in.TotalCount > 0 {
			rec.CertRemainingCount = max(0, in.TotalCount-in.Issued)
		}
	}
	return describeCAResponse{Certificate: rec, Years: ca.Years}, nil
}

func crlStatus(ca pca.CA) string {
	if ca.EnableCRL {
		return "ACTIVE"
	}
	return "INACTIVE"
}
