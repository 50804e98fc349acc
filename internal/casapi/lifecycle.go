package casapi

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// Date forms of the lifecycle responses. Spec C.7: every operation has its
// own, so each has its own function and none is shared.
//
//   - DescribeClientCertificateForSerialNumber: String, UTC to the minute,
//     "2021-10-28T16:15Z" (the spec's example).
//   - ListRevokeCertificate: String, the UTC day with the time always
//     "00:00", "2021-09-01T00:00Z": the spec gives the form literally as
//     yyyy-MM-ddT00:00Z, so the time part is midnight, not the real time.
//   - ListClientCertificate: Int64 milliseconds (BeforeDate, AfterDate).
//   - DescribeClientCertificateStatus*: RevokeTime Int64 milliseconds.

// lcSerialLookupDate renders t for DescribeClientCertificateForSerialNumber.
func lcSerialLookupDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04Z") }

// lcRevokeListDate renders t for ListRevokeCertificate: the UTC day at midnight.
func lcRevokeListDate(t time.Time) string { return t.UTC().Format(time.DateOnly) + "T00:00Z" }

// lcMaxListItems caps the comma lists of the lifecycle calls.
const lcMaxListItems = service.MaxStatusItems

// lcCommaItems reads a comma-separated list (spec C.15): items are trimmed,
// empty ones dropped and repeats removed (first one kept). More than max
// items, or an item longer than itemLen characters, is InvalidParameter.
func (b *binder) lcCommaItems(name string, required bool, max, itemLen int) []string {
	v := b.str(name, required, 0)
	if v == "" {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, it := range strings.Split(v, ",") {
		it = strings.TrimSpace(it)
		if it == "" || seen[it] {
			continue
		}
		if utf8.RuneCountInString(it) > itemLen {
			b.fail(pca.Invalid(name, "The specified parameter %s is not valid: an item is at most %d characters.", name, itemLen))
			return nil
		}
		seen[it] = true
		out = append(out, it)
	}
	if len(out) > max {
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid: at most %d items, %d given.", name, max, len(out)))
		return nil
	}
	if len(out) == 0 && required {
		b.fail(pca.Missing(name))
	}
	return out
}

// lcOptStr reads an optional string that may be set to "" on purpose: nil
// when the parameter is absent.
func (b *binder) lcOptStr(name string, maxLen int) *string {
	if !b.has(name) {
		return nil
	}
	v := b.str(name, false, maxLen)
	return &v
}

// lcCertFields is certFieldsOf for the lifecycle listings, whose Md5 and
// Sha2 are empty when the certificate's body is missing.
func lcCertFields(c pca.Certificate) certFields {
	f := certFieldsOf(c)
	if len(c.DER) == 0 {
		f.fingerprintFields = fingerprintFields{}
	}
	return f
}

// lcPEM is the certificate's PEM, or "" when its body is missing.
func lcPEM(c pca.Certificate) string {
	if len(c.DER) == 0 {
		return ""
	}
	return certPEM(c.DER)
}

// lcDays is the validity in whole days, as DescribeClientCertificate has it.
func lcDays(c pca.Certificate) int { return int(c.NotAfter.Sub(c.NotBefore) / (24 * time.Hour)) }

// lcYears is the validity in whole calendar years (the deprecated Years).
func lcYears(c pca.Certificate) int {
	y := 0
	for y < 100 && !c.NotBefore.AddDate(y+1, 0, 0).After(c.NotAfter) {
		y++
	}
	return y
}

// ---- DeleteClientCertificate ------------------------------------------------

func (a *API) deleteCert(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.str("Identifier", true, 64)
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.DeleteCertificate(ctx, actor(r), id); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// ---- DescribeClientCertificateStatus[ForSerialNumber] ----------------------

// certStatusItem is one CertificateStatus entry. RevokeTime (ms) is present
// only when Status is revoked.
type certStatusItem struct {
	SerialNumber string `json:"SerialNumber"`
	Status       string `json:"Status"`
	RevokeTime   *int64 `json:"RevokeTime,omitempty"`
}

type certStatusResponse struct {
	CertificateStatus []certStatusItem `json:"CertificateStatus"`
}

func lcStatusResponse(entries []service.StatusEntry) certStatusResponse {
	out := certStatusResponse{CertificateStatus: make([]certStatusItem, 0, len(entries))}
	for _, e := range entries {
		it := certStatusItem{SerialNumber: e.SerialNumber, Status: e.Status}
		if e.Status == service.CertRevoked {
			ms := e.RevokedAt.UnixMilli()
			it.RevokeTime = &ms
		}
		out.CertificateStatus = append(out.CertificateStatus, it)
	}
	return out
}

func (a *API) describeStatus(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	ids := b.lcCommaItems("Identifier", true, lcMaxListItems, 64)
	if b.err != nil {
		return nil, b.err
	}
	entries, err := a.svc.StatusByIdentifiers(ctx, actor(r), ids)
	if err != nil {
		return nil, err
	}
	return lcStatusResponse(entries), nil
}

func (a *API) describeStatusBySerial(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	serials := b.lcCommaItems("SerialNumber", true, lcMaxListItems, 40)
	if b.err != nil {
		return nil, b.err
	}
	entries, err := a.svc.StatusBySerials(ctx, actor(r), serials)
	if err != nil {
		return nil, err
	}
	return lcStatusResponse(entries), nil
}

// ---- DescribeClientCertificateForSerialNumber -------------------------------

// serialCertItem is one CertificateList entry of
// DescribeClientCertificateForSerialNumber: CertRecord minus Id, AliasName,
// CustomIdentifier, Days, FullAlgorithm and ResourceGroupId; dates as
// lcSerialLookupDate strings.
type serialCertItem struct {
	certFields
	X509Certificate string `json:"X509Certificate"`
	BeforeDate      string `json:"BeforeDate"`
	AfterDate       string `json:"AfterDate"`
	Years           int    `json:"Years"`
}

func (a *API) describeBySerial(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	serials := b.lcCommaItems("SerialNumber", true, lcMaxListItems, 40)
	if b.err != nil {
		return nil, b.err
	}
	certs, err := a.svc.CertificatesBySerial(ctx, actor(r), serials)
	if err != nil {
		return nil, err
	}
	items := make([]serialCertItem, 0, len(certs))
	for _, c := range certs {
		items = append(items, serialCertItem{certFields: lcCertFields(c), X509Certificate: lcPEM(c),
			BeforeDate: lcSerialLookupDate(c.NotBefore), AfterDate: lcSerialLookupDate(c.NotAfter), Years: lcYears(c)})
	}
	return struct {
		CertificateList []serialCertItem `json:"CertificateList"`
	}{items}, nil
}

// ---- ListClientCertificate ---------------------------------------------------

// clientListItem is one CertificateList entry of ListClientCertificate:
// CertRecord minus FullAlgorithm and Years; dates in milliseconds.
type clientListItem struct {
	certFields
	Id               int64  `json:"Id"`
	X509Certificate  string `json:"X509Certificate"`
	BeforeDate       int64  `json:"BeforeDate"`
	AfterDate        int64  `json:"AfterDate"`
	Days             int    `json:"Days"`
	CustomIdentifier string `json:"CustomIdentifier"`
	AliasName        string `json:"AliasName"`
	ResourceGroupId  string `json:"ResourceGroupId"`
}

// clientListResponse: TotalCount is Int64, the others Int32. MaxResults
// echoes ShowSize (the call takes no MaxResults; spec C.16).
type clientListResponse struct {
	TotalCount      int64            `json:"TotalCount"`
	PageCount       int64            `json:"PageCount"`
	CurrentPage     int64            `json:"CurrentPage"`
	ShowSize        int64            `json:"ShowSize"`
	MaxResults      int64            `json:"MaxResults"`
	CertificateList []clientListItem `json:"CertificateList"`
}

// lcBindPage reads CurrentPage (default 1) and ShowSize (default 20, 1..1000).
func lcBindPage(b *binder) service.Page {
	return service.Page{
		CurrentPage: int(b.integer("CurrentPage", false, 1, 1<<31-1, 1)),
		ShowSize:    int(b.integer("ShowSize", false, 1, 1000, 20)),
	}
}

func lcPageCount(total int64, size int) int64 { return (total + int64(size) - 1) / int64(size) }

func (a *API) listClient(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	p := lcBindPage(b)
	f := service.ClientListFilter{
		ParentIdentifier: b.str("Identifier", false, 64),
		ResourceGroupID:  b.str("ResourceGroupId", false, 64),
	}
	if b.err != nil {
		return nil, b.err
	}
	res, err := a.svc.ListClientCertificates(ctx, actor(r), f, p)
	if err != nil {
		return nil, err
	}
	items := make([]clientListItem, 0, len(res.Items))
	for _, c := range res.Items {
		items = append(items, clientListItem{certFields: lcCertFields(c), Id: c.ID, X509Certificate: lcPEM(c),
			BeforeDate: c.NotBefore.UnixMilli(), AfterDate: c.NotAfter.UnixMilli(), Days: lcDays(c),
			CustomIdentifier: c.CustomIdentifier, AliasName: c.AliasName, ResourceGroupId: c.ResourceGroupID})
	}
	return clientListResponse{TotalCount: res.Total, PageCount: lcPageCount(res.Total, p.ShowSize), CurrentPage: int64(p.CurrentPage),
		ShowSize: int64(p.ShowSize), MaxResults: int64(p.ShowSize), CertificateList: items}, nil
}

// ---- ListRevokeCertificate ---------------------------------------------------

// revokedItem is one CertificateList entry of ListRevokeCertificate:
// CertRecord minus Id, AliasName, Days, FullAlgorithm, ResourceGroupId,
// X509Certificate and Years, plus RevokeDate; dates as lcRevokeListDate.
type revokedItem struct {
	certFields
	BeforeDate       string `json:"BeforeDate"`
	AfterDate        string `json:"AfterDate"`
	RevokeDate       string `json:"RevokeDate"`
	CustomIdentifier string `json:"CustomIdentifier"`
}

type revokedListResponse struct {
	TotalCount      int64         `json:"TotalCount"`
	PageCount       int64         `json:"PageCount"`
	CurrentPage     int64         `json:"CurrentPage"`
	ShowSize        int64         `json:"ShowSize"`
	CertificateList []revokedItem `json:"CertificateList"`
}

func (a *API) listRevoked(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	p := lcBindPage(b)
	if b.err != nil {
		return nil, b.err
	}
	res, err := a.svc.ListRevokedCertificates(ctx, actor(r), p)
	if err != nil {
		return nil, err
	}
	items := make([]revokedItem, 0, len(res.Items))
	for _, c := range res.Items {
		items = append(items, revokedItem{certFields: lcCertFields(c), BeforeDate: lcRevokeListDate(c.NotBefore),
			AfterDate: lcRevokeListDate(c.NotAfter), RevokeDate: lcRevokeListDate(c.RevokedAt), CustomIdentifier: c.CustomIdentifier})
	}
	return revokedListResponse{TotalCount: res.Total, PageCount: lcPageCount(res.Total, p.ShowSize), CurrentPage: int64(p.CurrentPage),
		ShowSize: int64(p.ShowSize), CertificateList: items}, nil
}

// ---- UpdatePcaCertificate ----------------------------------------------------

// updatePca changes alias, resource group and tags of a certificate or CA.
// The answer carries only RequestId: AccessDeniedDetail (in the SDK's
// response model) describes a permission refusal, and a refusal is an
// error answer (A.8), never a success, so a success leaves it out.
func (a *API) updatePca(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := service.UpdateRequest{
		Identifier:      b.str("Identifier", true, 64),
		AliasName:       b.lcOptStr("AliasName", 128),
		ResourceGroupID: b.lcOptStr("ResourceGroupId", 64),
		Tags:            b.tags("Tags"),
	}
	b.str("ClientToken", false, 64)
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.UpdateLabels(ctx, actor(r), req); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// ---- UploadPcaCertToCas ------------------------------------------------------

// upload marks certificates as copied to the SSL certificate service
// (UploadFlag 1 in DescribeClientCertificate). Ids that name no certificate
// of the caller are ignored (spec C.15): pcad has no SSL service to copy
// to, and the answer is the same whether or not an id exists.
func (a *API) upload(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	items := b.lcCommaItems("Ids", true, service.MaxUploadIDs, 18)
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		n, err := parseDecimal(it)
		if err != nil || n <= 0 {
			b.fail(pca.Invalid("Ids", "The specified parameter Ids is not valid: %q is not a positive numeric id.", it))
			break
		}
		ids = append(ids, n)
	}
	if b.err != nil {
		return nil, b.err
	}
	if _, err := a.svc.MarkUploaded(ctx, actor(r), ids); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// ---- DescribeCertificatePrivateKey -------------------------------------------

func (a *API) exportKey(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.str("Identifier", true, 64)
	group := b.str("ResourceGroupId", false, 64)
	// The password is taken as sent (not trimmed) and never echoed.
	password, _ := r.Params.Get("EncryptedCode")
	if b.err != nil {
		return nil, b.err
	}
	out, err := a.svc.ExportPrivateKey(ctx, actor(r), id, group, []byte(password))
	if err != nil {
		return nil, err
	}
	return struct {
		EncryptedData string `json:"EncryptedData"`
	}{string(out)}, nil
}
