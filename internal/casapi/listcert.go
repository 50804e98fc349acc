package casapi

import (
	"context"
	"time"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// listItem is one ListCert entry; JSON types follow spec/listcert.md.
type listItem struct {
	Id               string   `json:"Id"`
	Identifier       string   `json:"Identifier"`
	SerialNumber     string   `json:"SerialNumber"`
	Status           string   `json:"Status"`
	CertificateType  string   `json:"CertificateType"`
	CommonName       string   `json:"CommonName"`
	Organization     string   `json:"Organization"`
	OrganizationUnit string   `json:"OrganizationUnit"`
	SubjectDn        string   `json:"SubjectDn"`
	Algorithm        string   `json:"Algorithm"`
	KeyExportable    bool     `json:"KeyExportable"`
	BeforeDate       string   `json:"BeforeDate"`
	AfterDate        string   `json:"AfterDate"`
	BeforeTime       int64    `json:"BeforeTime"`
	AfterTime        int64    `json:"AfterTime"`
	AliasName        string   `json:"AliasName"`
	CustomIdentifier string   `json:"CustomIdentifier"`
	Extra            string   `json:"Extra"`
	Tags             []string `json:"Tags"`
}

type listPageResponse struct {
	TotalCount  int64      `json:"TotalCount"`
	PageCount   int64      `json:"PageCount"`
	CurrentPage int64      `json:"CurrentPage"`
	ShowSize    int64      `json:"ShowSize"`
	List        []listItem `json:"List"`
}

type listTokenResponse struct {
	TotalCount int64      `json:"TotalCount"`
	MaxResults int64      `json:"MaxResults"`
	NextToken  string     `json:"NextToken"`
	List       []listItem `json:"List"`
}

// listDate parses ListCert's date filters: "YYYY-MM-DD" (midnight) or
// "YYYY-MM-DD HH:MM:SS", both UTC.
func (b *binder) listDate(name string) time.Time {
	v := b.str(name, false, 0)
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.DateOnly, time.DateTime} {
		// Go's parser also takes fractional seconds; the round trip refuses them.
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil && t.Format(layout) == v {
			return t
		}
	}
	b.fail(pca.Invalid(name, "The specified parameter %s is not valid: %q is neither YYYY-MM-DD nor YYYY-MM-DD HH:MM:SS (UTC).", name, v))
	return time.Time{}
}

func (a *API) listCert(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	f := service.ListFilter{
		Status:           pca.Status(b.oneOf("Status", false, "ISSUE", "REVOKE")),
		Type:             pca.CertType(b.oneOf("Type", false, "SERVER", "CLIENT", "END_ENTITY")),
		ParentIdentifier: b.str("ParentIdentifier", false, 64),
		InstanceUUID:     b.str("InstanceUuid", false, 0),
		ChangedFrom:      b.listDate("AfterDate"),
		ChangedBefore:    b.listDate("BeforeDate"),
	}
	if f.InstanceUUID != "" && !pca.ValidUUID(f.InstanceUUID) {
		b.fail(pca.Invalid("InstanceUuid", "The specified parameter InstanceUuid is not valid: %q is not a UUID.", f.InstanceUUID))
	}
	token := b.has("NextToken") || b.has("MaxResults")
	if token && (b.has("CurrentPage") || b.has("ShowSize")) {
		b.fail(pca.Invalid("", "The parameters CurrentPage and ShowSize (page mode) cannot be combined with NextToken and MaxResults (token mode)."))
	}
	req := service.ListRequest{
		Filter:      f,
		Token:       token,
		NextToken:   b.str("NextToken", false, 0),
		MaxResults:  int(b.integer("MaxResults", false, 1, 1000, 20)),
		CurrentPage: int(b.integer("CurrentPage", false, 1, 1<<31-1, 1)),
		ShowSize:    int(b.integer("ShowSize", false, 1, 1000, 50)),
	}
	if b.err != nil {
		return nil, b.err
	}
	if !f.ChangedFrom.IsZero() && !f.ChangedBefore.IsZero() && f.ChangedFrom.After(f.ChangedBefore) {
		return nil, pca.Invalid("", "The specified parameter AfterDate is later than BeforeDate.")
	}
	res, err := a.svc.ListCertificates(ctx, actor(r), req)
	if err != nil {
		return nil, err
	}
	items := make([]listItem, 0, len(res.Items))
	for _, c := range res.Items {
		items = append(items, listItem{
			Id: itoa(c.ID), Identifier: c.Identifier, SerialNumber: c.SerialNumber, Status: string(c.Status),
			CertificateType: string(c.Type), CommonName: c.Subject.CommonName, Organization: c.Subject.Organization,
			OrganizationUnit: c.Subject.OrganizationUnit, SubjectDn: c.SubjectDN, Algorithm: string(c.Algorithm.Family()),
			KeyExportable: service.KeyExportable(c.KeyRef), BeforeDate: dateTime(c.NotBefore), AfterDate: dateTime(c.NotAfter),
			BeforeTime: c.NotBefore.UnixMilli(), AfterTime: c.NotAfter.UnixMilli(), AliasName: c.AliasName,
			CustomIdentifier: c.CustomIdentifier, Extra: c.Extra, Tags: tagTexts(c.Tags),
		})
	}
	if token {
		return listTokenResponse{TotalCount: res.Total, MaxResults: int64(req.MaxResults), NextToken: res.NextToken, List: items}, nil
	}
	size := int64(req.ShowSize)
	return listPageResponse{TotalCount: res.Total, PageCount: (res.Total + size - 1) / size, CurrentPage: int64(req.CurrentPage),
		ShowSize: size, List: items}, nil
}
