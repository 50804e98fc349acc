package casapi

// CA lists, count and log, instance status, quotas and the instance list
// (spec B.1). Decisions the spec leaves open:
//
//   - DescribeCACertificateList CaStatus: issue = status ISSUE and within the
//     validity window now; forbidden = status ISSUE but expired or not yet
//     valid (it cannot issue); revoke = status REVOKE. The three partition
//     the CAs. ValidStatus looks at the validity window only (valid = now
//     within notBefore..notAfter, notValid = the others, revoked or not).
//     CertType root = ROOT, subRoot = SUB_ROOT (whoever holds the key),
//     externalCa = IssuerType external (key held outside pcad). Filters
//     combine with AND; contradicting ones give an empty list. An Identifier
//     (or Identifiers entry) that names nothing is a filter that matches
//     nothing, not an error. Identifiers is a comma list (spaces trimmed,
//     empty entries dropped, at most 100); KeyWord matches common name,
//     organization, unit and subject DN, case-insensitively, literally
//     (% and _ are not wildcards). Empty values do not filter.
//   - Enumerations are matched with their exact spelling; page sizes and
//     numbers out of range are InvalidParameter, never clamped.
//   - ListPcaCaCertificate: IssuerIdentifier of a (self-signed) root is its
//     own Identifier; PrivateCaRegionId is always "local" (pcad has no
//     regions); UserId is the account id in decimal.
//   - Instance Status (GetCAInstanceStatus, ListAllEndEntityInstance): USED
//     while the CA is ISSUE, REVOKE once it is revoked. CertTotalCount 0
//     means unlimited. GetCAInstanceStatus items also carry Id, the numeric
//     instance id that AssignCertificateCount and ListAllEndEntityInstance
//     take.
//   - ListAllEndEntityInstance: ParentId is the numeric id of an instance;
//     the list holds the instances bound to that instance's CA, with
//     RecursiveChildren=1 also those of every CA below it (a root's
//     sub-CAs); without ParentId, every instance of the account. Ascending
//     id order. Page mode (CurrentPage/ShowSize) unless NextToken or
//     MaxResults is present; mixing the modes is InvalidParameter. Both
//     modes fill every paging field.

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// caListRecord is one CARecord (spec B.0) of the CA lists.
type caListRecord struct {
	caFields
	BeforeDate int64  `json:"BeforeDate"` // Unix ms
	AfterDate  int64  `json:"AfterDate"`  // Unix ms
	Years      int    `json:"Years"`
	Sans       string `json:"Sans"` // deprecated; CAs carry no SANs
}

func caListRecordOf(ca pca.CA) caListRecord {
	return caListRecord{caFields: caFieldsOf(ca), BeforeDate: ca.NotBefore.UnixMilli(), AfterDate: ca.NotAfter.UnixMilli(),
		Years: ca.Years}
}

func issuerType(ca pca.CA) string {
	if ca.IssuerType == "" {
		return "local"
	}
	return ca.IssuerType
}

// caListEntry is a DescribeCACertificateList entry: CARecord plus Alias,
// Gift and Trial (pcad has no free or trial CAs: both are always 0).
type caListEntry struct {
	caListRecord
	ResourceGroupId string `json:"ResourceGroupId"`
	Alias           string `json:"Alias"`
	Gift            int    `json:"Gift"`
	Trial           int    `json:"Trial"`
}

// caPage is the page-mode answer of the CA lists.
type caPage[T any] struct {
	TotalCount      int64 `json:"TotalCount"`
	PageCount       int64 `json:"PageCount"`
	CurrentPage     int64 `json:"CurrentPage"`
	ShowSize        int64 `json:"ShowSize"`
	CertificateList []T   `json:"CertificateList"`
}

// pageCount is ceil(total / size).
func pageCount(total, size int64) int64 { return (total + size - 1) / size }

// caPageParams reads CurrentPage and ShowSize (1..1000, default def).
func caPageParams(b *binder, def int64) (page, size int64) {
	return b.integer("CurrentPage", false, 1, math.MaxInt32, 1), b.integer("ShowSize", false, 1, 1000, def)
}

func (a *API) describeCAList(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	page, size := caPageParams(b, 20)
	var f service.CAFilter
	if id := b.str("Identifier", false, 64); id != "" {
		f.Identifiers = []string{id}
	}
	f.State = service.CAState(b.oneOf("CaStatus", false, "issue", "forbidden", "revoke"))
	switch b.oneOf("CertType", false, "root", "subRoot", "externalCa") {
	case "root":
		f.Type = pca.CARoot
	case "subRoot":
		f.Type = pca.CASub
	case "externalCa":
		f.External = true
	}
	f.IssuerType = b.oneOf("IssuerType", false, "local", "iTrusChina", "external")
	switch b.oneOf("ValidStatus", false, "valid", "notValid") {
	case "valid":
		f.Valid = new(true)
	case "notValid":
		f.Valid = new(false)
	}
	f.ResourceGroupID = b.str("ResourceGroupId", false, 64)
	if b.err != nil {
		return nil, b.err
	}
	cas, total, err := a.svc.ListCAs(ctx, actor(r), f, (page-1)*size, int(size))
	if err != nil {
		return nil, err
	}
	list := make([]caListEntry, 0, len(cas))
	for _, ca := range cas {
		list = append(list, caListEntry{caListRecord: caListRecordOf(ca), ResourceGroupId: ca.ResourceGroupID, Alias: ca.AliasName})
	}
	return caPage[caListEntry]{TotalCount: total, PageCount: pageCount(total, size), CurrentPage: page, ShowSize: size,
		CertificateList: list}, nil
}

type caCountResponse struct {
	TotalCount int64 `json:"TotalCount"`
}

func (a *API) describeCACount(ctx context.Context, r *openapi.Request) (any, error) {
	n, err := a.svc.CountCAs(ctx, actor(r))
	if err != nil {
		return nil, err
	}
	return caCountResponse{TotalCount: n}, nil
}

// maxIdentifiers caps the Identifiers comma list.
const maxIdentifiers = 100

// identifierList reads a comma list of CA identifiers: spaces trimmed, empty
// entries dropped, at most maxIdentifiers of at most 64 characters.
func (b *binder) identifierList(name string) []string {
	var out []string
	for _, v := range strings.Split(b.str(name, false, 0), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if len(v) > 64 {
			b.fail(pca.Invalid(name, "The specified parameter %s is not valid: the identifier %q is longer than 64 characters.", name, v))
			return nil
		}
		out = append(out, v)
	}
	if len(out) > maxIdentifiers {
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid: at most %d identifiers.", name, maxIdentifiers))
		return nil
	}
	return out
}

func (a *API) describePcaAndExternalCAList(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	page, size := caPageParams(b, 50)
	f := service.CAFilter{Keyword: b.str("KeyWord", false, 128), Identifiers: b.identifierList("Identifiers")}
	if b.err != nil {
		return nil, b.err
	}
	cas, total, err := a.svc.ListCAs(ctx, actor(r), f, (page-1)*size, int(size))
	if err != nil {
		return nil, err
	}
	list := make([]caListRecord, 0, len(cas))
	for _, ca := range cas {
		list = append(list, caListRecordOf(ca))
	}
	return caPage[caListRecord]{TotalCount: total, PageCount: pageCount(total, size), CurrentPage: page, ShowSize: size,
		CertificateList: list}, nil
}

// regionID is ListPcaCaCertificate's PrivateCaRegionId: pcad has no regions.
const regionID = "local"

type pcaCAItem struct {
	CertIdentifier      string `json:"CertIdentifier"`
	IssuerIdentifier    string `json:"IssuerIdentifier"`
	CommonName          string `json:"CommonName"`
	Status              string `json:"Status"`
	PrivateCaInstanceId string `json:"PrivateCaInstanceId"`
	PrivateCaRegionId   string `json:"PrivateCaRegionId"`
	UserId              string `json:"UserId"`
}

type pcaCAListResponse struct {
	TotalCount int64       `json:"TotalCount"`
	MaxResults int64       `json:"MaxResults"`
	NextToken  string      `json:"NextToken"`
	List       []pcaCAItem `json:"List"`
}

func (a *API) listPcaCA(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	maxResults := b.integer("MaxResults", false, 1, 2000, 20)
	token := b.str("NextToken", false, 0)
	if b.err != nil {
		return nil, b.err
	}
	page, err := a.svc.ListCAsByToken(ctx, actor(r), token, int(maxResults))
	if err != nil {
		return nil, err
	}
	list := make([]pcaCAItem, 0, len(page.Items))
	for _, ca := range page.Items {
		issuer := ca.ParentIdentifier
		if issuer == "" {
			issuer = ca.Identifier // a root signs itself
		}
		list = append(list, pcaCAItem{CertIdentifier: ca.Identifier, IssuerIdentifier: issuer, CommonName: ca.Subject.CommonName,
			Status: string(ca.Status), PrivateCaInstanceId: ca.InstanceUUID, PrivateCaRegionId: regionID,
			UserId: strconv.FormatInt(ca.AccountID, 10)})
	}
	return pcaCAListResponse{TotalCount: page.Total, MaxResults: maxResults, NextToken: page.NextToken, List: list}, nil
}

type caLogItem struct {
	Identifier string `json:"Identifier"`
	OpType     string `json:"OpType"`
	Content    string `json:"Content"`
	CreateTime int64  `json:"CreateTime"` // Unix ms
}

type caLogResponse struct {
	LogList []caLogItem `json:"LogList"`
}

func (a *API) listCALog(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.str("Identifier", true, 64)
	if b.err != nil {
		return nil, b.err
	}
	ca, log, err := a.svc.CALog(ctx, actor(r), id)
	if err != nil {
		return nil, err
	}
	list := make([]caLogItem, 0, len(log))
	for _, e := range log {
		list = append(list, caLogItem{Identifier: ca.Identifier, OpType: e.OpType, Content: e.Content, CreateTime: e.Created.UnixMilli()})
	}
	return caLogResponse{LogList: list}, nil
}

// instanceStatus is the Status of an instance: USED while its CA may be
// used, REVOKE once the CA is revoked.
func instanceStatus(ca pca.CA) string {
	if ca.Status == pca.StatusRevoke {
		return "REVOKE"
	}
	return "USED"
}

type instanceStatusItem struct {
	Id              int64  `json:"Id"` // numeric instance id (AssignCertificateCount, ListAllEndEntityInstance)
	InstanceId      string `json:"InstanceId"`
	Identifier      string `json:"Identifier"`
	Type            string `json:"Type"`
	Status          string `json:"Status"`
	CertTotalCount  int64  `json:"CertTotalCount"` // 0 = unlimited
	CertIssuedCount int64  `json:"CertIssuedCount"`
	BeforeTime      int64  `json:"BeforeTime"`    // Unix ms
	AfterTime       int64  `json:"AfterTime"`     // Unix ms
	UseExpireTime   int64  `json:"UseExpireTime"` // Unix ms: the CA's notAfter
}

type instanceStatusResponse struct {
	InstanceStatusList []instanceStatusItem `json:"InstanceStatusList"`
}

func (a *API) caInstanceStatus(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	uuid := b.str("InstanceId", false, 64)
	id := b.str("Identifier", false, 64)
	if uuid != "" && !pca.ValidUUID(uuid) {
		b.fail(pca.Invalid("InstanceId", "The specified parameter InstanceId is not valid: %q is not a UUID.", uuid))
	}
	if b.err != nil {
		return nil, b.err
	}
	infos, err := a.svc.InstanceStatus(ctx, actor(r), uuid, id)
	if err != nil {
		return nil, err
	}
	list := make([]instanceStatusItem, 0, len(infos))
	for _, in := range infos {
		list = append(list, instanceStatusItem{Id: in.ID, InstanceId: in.UUID, Identifier: in.CA.Identifier, Type: string(in.CA.Type),
			Status: instanceStatus(in.CA), CertTotalCount: in.TotalCount, CertIssuedCount: in.Issued,
			BeforeTime: in.CA.NotBefore.UnixMilli(), AfterTime: in.CA.NotAfter.UnixMilli(), UseExpireTime: in.CA.NotAfter.UnixMilli()})
	}
	return instanceStatusResponse{InstanceStatusList: list}, nil
}

type assignCountResponse struct {
	CertCount                int64 `json:"CertCount"`
	CurrentYearFreeCertCount int64 `json:"CurrentYearFreeCertCount"`
}

func (a *API) assignCertificateCount(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.integer("Id", true, 1, math.MaxInt64, 0)
	total := b.integer("CertTotalCount", true, 0, math.MaxInt32, 0)
	if b.err != nil {
		return nil, b.err
	}
	in, err := a.svc.AssignCertificateCount(ctx, actor(r), id, total)
	if err != nil {
		return nil, err
	}
	return assignCountResponse{CertCount: in.TotalCount, CurrentYearFreeCertCount: 0}, nil
}

// instanceItem is one ListAllEndEntityInstance entry (the SDK reads them
// as untyped objects).
type instanceItem struct {
	Id                 int64  `json:"Id"`
	InstanceUuid       string `json:"InstanceUuid"`
	CaIdentifier       string `json:"CaIdentifier"`
	CaType             string `json:"CaType"`
	CaCommonName       string `json:"CaCommonName"`
	CertTotalCount     int64  `json:"CertTotalCount"` // 0 = unlimited
	CertIssuedCount    int64  `json:"CertIssuedCount"`
	CertRemainingCount int64  `json:"CertRemainingCount"` // 0 when unlimited, as DescribeCACertificate
	Unlimited          bool   `json:"Unlimited"`
	Status             string `json:"Status"`
}

type instanceListResponse struct {
	TotalCount  int64          `json:"TotalCount"`
	PageCount   int64          `json:"PageCount"`
	CurrentPage int64          `json:"CurrentPage"`
	ShowSize    int64          `json:"ShowSize"`
	MaxResults  int64          `json:"MaxResults"`
	NextToken   string         `json:"NextToken"`
	List        []instanceItem `json:"List"`
}

func (a *API) listEndEntityInstances(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := service.InstanceListRequest{
		ParentID:  b.integer("ParentId", false, 1, math.MaxInt64, 0),
		Recursive: b.integer("RecursiveChildren", false, 0, 1, 0) == 1,
		Token:     b.has("NextToken") || b.has("MaxResults"),
		NextToken: b.str("NextToken", false, 0),
	}
	if req.Token && (b.has("CurrentPage") || b.has("ShowSize")) {
		b.fail(pca.Invalid("", "The parameters CurrentPage and ShowSize (page mode) cannot be combined with NextToken and MaxResults (token mode)."))
	}
	page, size := caPageParams(b, 20)
	maxResults := b.integer("MaxResults", false, 1, 1000, 20)
	if b.err != nil {
		return nil, b.err
	}
	if req.Token {
		size = maxResults
	} else {
		req.Offset = (page - 1) * size
	}
	req.Limit = int(size)
	res, err := a.svc.ListInstances(ctx, actor(r), req)
	if err != nil {
		return nil, err
	}
	list := make([]instanceItem, 0, len(res.Items))
	for _, in := range res.Items {
		it := instanceItem{Id: in.ID, InstanceUuid: in.UUID, CaIdentifier: in.CA.Identifier, CaType: string(in.CA.Type),
			CaCommonName: in.CA.Subject.CommonName, CertTotalCount: in.TotalCount, CertIssuedCount: in.Issued,
			Unlimited: in.TotalCount == 0, Status: instanceStatus(in.CA)}
		if in.TotalCount > 0 {
			it.CertRemainingCount = max(0, in.TotalCount-in.Issued)
		}
		list = append(list, it)
	}
	return instanceListResponse{TotalCount: res.Total, PageCount: pageCount(res.Total, size), CurrentPage: res.Offset/size + 1,
		ShowSize: size, MaxResults: size, NextToken: res.NextToken, List: list}, nil
}
