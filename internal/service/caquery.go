package service

// CA queries and instances: the CA lists (page and token mode), the CA count,
// the CA log, instance status, instance quotas and the instance list.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// CA log operation types (ListCACertificateLog OpType).
const (
	CAEventAdd    = "ADD"    // the CA was created
	CAEventUpdate = "UPDATE" // the CA changed: revoked, signed a sub-CA, quota set, ...
)

// CAState selects CAs by lifecycle. The three states partition the CAs.
type CAState string

// CA lifecycle states.
const (
	// CAStateIssue keeps CAs with status ISSUE that are within their validity now.
	CAStateIssue CAState = "issue"
	// CAStateForbidden keeps CAs with status ISSUE that are outside their
	// validity now: expired, or not yet valid. They cannot issue.
	CAStateForbidden CAState = "forbidden"
	// CAStateRevoked keeps CAs with status REVOKE, whatever their validity.
	CAStateRevoked CAState = "revoke"
)

// IssuerExternal is the issuer type of a CA whose key is held outside pcad.
const IssuerExternal = "external"

// CAFilter selects CAs of the caller's account; zero fields do not filter.
// Filters combine with AND; contradicting filters select nothing.
type CAFilter struct {
	// Identifiers keeps CAs with one of these identifiers (exact match);
	// unknown identifiers are simply absent from the result.
	Identifiers []string
	State       CAState
	// Valid keeps CAs within their validity window now (true) or outside it
	// (false: expired or not yet valid), whatever their status.
	Valid *bool
	Type  pca.CAType
	// External keeps CAs whose key is held outside pcad (IssuerType external).
	External bool
	// IssuerType keeps CAs of that issuer type ("local", "external"); any
	// other value selects nothing.
	IssuerType string
	// Keyword keeps CAs whose common name, organization, unit or subject DN
	// contains it, case-insensitively.
	Keyword         string
	ResourceGroupID string
}

// caQuery turns f into a store query; none is true when f cannot match.
func (s *Service) caQuery(f CAFilter) (q store.CAQuery, none bool) {
	q = store.CAQuery{Type: f.Type, IssuerType: f.IssuerType, Identifiers: f.Identifiers, Keyword: f.Keyword,
		ResourceGroupID: f.ResourceGroupID}
	var valid *bool
	want := func(v bool) {
		if valid != nil && *valid != v {
			none = true
		}
		valid = &v
	}
	switch f.State {
	case CAStateIssue:
		q.Status = pca.StatusIssue
		want(true)
	case CAStateForbidden:
		q.Status = pca.StatusIssue
		want(false)
	case CAStateRevoked:
		q.Status = pca.StatusRevoke
	}
	if f.Valid != nil {
		want(*f.Valid)
	}
	if f.External {
		if q.IssuerType != "" && q.IssuerType != IssuerExternal {
			none = true
		}
		q.IssuerType = IssuerExternal
	}
	if valid != nil {
		q.Valid, q.ValidAt = valid, s.now().UTC()
	}
	return q, none
}

// ListCAs returns one page of the caller's CAs matching f, newest first,
// skipping offset matches, and the exact number of matches. limit is the
// page size, 1 to 2000.
func (s *Service) ListCAs(ctx context.Context, a Actor, f CAFilter, offset int64, limit int) ([]pca.CA, int64, error) {
	if limit < 1 || limit > 2000 || offset < 0 {
		return nil, 0, pca.Internal(fmt.Errorf("service: list CAs: bad page offset %d limit %d", offset, limit))
	}
	q, none := s.caQuery(f)
	if none {
		return nil, 0, nil
	}
	q.Offset, q.Limit = offset, limit
	cas, total, err := s.store.ListCAs(ctx, a.AccountID, q)
	if err != nil {
		return nil, 0, internal(err)
	}
	return cas, total, nil
}

// CountCAs returns how many CAs (roots and sub-CAs, any status) the caller has.
func (s *Service) CountCAs(ctx context.Context, a Actor) (int64, error) {
	_, total, err := s.store.ListCAs(ctx, a.AccountID, store.CAQuery{Limit: 1})
	if err != nil {
		return 0, internal(err)
	}
	return total, nil
}

// CATokenPage is one token-mode page of CAs, newest first.
type CATokenPage struct {
	Items     []pca.CA
	Total     int64  // all the caller's CAs
	NextToken string // empty on the last page
}

// ListCAsByToken lists all the caller's CAs in token mode: nextToken
// continues a listing (empty = first page) with max (1 to 2000) per page.
// Tokens are keyset cursors, authenticated and bound to the account and to
// this listing: a token of ListCertificates or of another account is
// refused.
func (s *Service) ListCAsByToken(ctx context.Context, a Actor, nextToken string, max int) (CATokenPage, error) {
	if max < 1 || max > 2000 {
		return CATokenPage{}, pca.Internal(fmt.Errorf("service: list CAs: bad page size %d", max))
	}
	binding := tokenBinding("pcad-listca-v1", a)
	q := store.CAQuery{Limit: max}
	if nextToken != "" {
		last, ok := s.openToken(binding, nextToken)
		if !ok {
			return CATokenPage{}, badToken()
		}
		q.BeforeID = last
	}
	items, total, err := s.store.ListCAs(ctx, a.AccountID, q)
	if err != nil {
		return CATokenPage{}, internal(err)
	}
	page := CATokenPage{Items: items, Total: total}
	if len(items) == max {
		// A full page: look for one more CA (the store caps pages at 2000,
		// so the page itself cannot carry the extra row).
		last := items[len(items)-1].ID
		more, _, err := s.store.ListCAs(ctx, a.AccountID, store.CAQuery{BeforeID: last, Limit: 1})
		if err != nil {
			return CATokenPage{}, internal(err)
		}
		if len(more) > 0 {
			page.NextToken = s.sealToken(binding, last)
		}
	}
	return page, nil
}

func badToken() error {
	return pca.Invalid("NextToken", "The specified parameter NextToken is not valid: it was not issued by this service for this caller, this action and these filters.")
}

// tokenBinding is the text a NextToken is bound to: the listing it belongs
// to (kind), the caller (account and principal: a token minted for one
// identity fails for another, even in the same account) and the listing's
// filter values. A token sealed under one binding never opens under another.
func tokenBinding(kind string, a Actor, filters ...string) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(a.AccountID, 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(a.PrincipalID, 10))
	for _, f := range filters {
		b.WriteByte(0)
		b.WriteString(f)
	}
	return b.String()
}

// CALogEntry is one entry of a CA's log.
type CALogEntry struct {
	OpType  string // CAEventAdd or CAEventUpdate
	Content string
	Created time.Time
}

// caLogMax bounds the entries of one CA's log; the newest are kept.
const caLogMax = 10000

// caCreatingActions are the actions that create the CA their answer names
// (the last item of the audit resource).
var caCreatingActions = map[string]bool{
	"CreateRootCACertificate":     true,
	"CreateSubCACertificate":      true,
	"CreateExternalCACertificate": true,
}

// caReadOnly reports whether action only reads: such calls are in the audit
// log but not in a CA's log.
func caReadOnly(action string) bool {
	return strings.HasPrefix(action, "Describe") || strings.HasPrefix(action, "List") || strings.HasPrefix(action, "Get")
}

// CALog returns a CA of the caller's account and its log, oldest first.
//
// The log is served from the audit log: one entry per successful (Code
// "OK") call that changed the CA, i.e. whose audit resource names
// "ca/<identifier>" (alone or in its list) and that is not a read
// (Describe*, List*, Get*). An entry is ADD for the call that created the CA,
// UPDATE for any other. Its Content names the action, the caller's AccessKey
// and the RequestId; the details the service recorded for that call (the
// ca_events written under the same request id: subject, validity, quota,
// tags, ...) follow it. Issuing certificates is not a change of the CA.
// Changes made outside the API (no audit record) are not in the log. Log
// entries written by older releases (without a request id) are shown as
// written when they predate the CA's first audit-derived entry (before the
// audit log existed), and otherwise left out: the audit log covers them.
func (s *Service) CALog(ctx context.Context, a Actor, identifier string) (pca.CA, []CALogEntry, error) {
	ca, err := s.GetCA(ctx, a, "Identifier", identifier)
	if err != nil {
		return pca.CA{}, nil, err
	}
	resource := "ca/" + ca.Identifier
	var recs []store.AuditRecord
	for after := int64(0); ; {
		page, err := s.store.AuditRecordsForResource(ctx, a.AccountID, resource, after, auditPage)
		if err != nil {
			return pca.CA{}, nil, internal(err)
		}
		for _, r := range page {
			if r.Code == "OK" && !caReadOnly(r.Action) && !isIssuance(r.Action) {
				recs = append(recs, r)
			}
		}
		if len(page) < auditPage {
			break
		}
		after = page[len(page)-1].ID
	}
	evs, err := s.store.ListCAEvents(ctx, a.AccountID, ca.ID)
	if err != nil {
		return pca.CA{}, nil, internal(err)
	}
	details := map[string][]string{}
	var out []CALogEntry
	for _, ev := range evs {
		switch {
		case ev.RequestID != "":
			details[ev.RequestID] = append(details[ev.RequestID], ev.Content)
		case len(recs) == 0 || ev.Created.Before(recs[0].At):
			// Written before request ids were kept (older releases):
			// shown as written while the audit log does not cover them.
			out = append(out, CALogEntry{OpType: ev.OpType, Content: ev.Content, Created: ev.Created})
		}
	}
	for _, r := range recs {
		op := CAEventUpdate
		if items := strings.Split(r.Resource, ","); caCreatingActions[r.Action] && items[len(items)-1] == resource {
			op = CAEventAdd
		}
		content := fmt.Sprintf("%s by AccessKey %s (RequestId %s)", r.Action, r.AccessKeyID, r.RequestID)
		if d := details[r.RequestID]; len(d) > 0 {
			content += ": " + strings.Join(d, "; ")
		}
		out = append(out, CALogEntry{OpType: op, Content: content, Created: r.At})
	}
	if len(out) > caLogMax {
		out = out[len(out)-caLogMax:]
	}
	return ca, out, nil
}

// isIssuance reports whether action issues an end-entity certificate.
func isIssuance(action string) bool {
	switch action {
	case "CreateServerCertificate", "CreateClientCertificate", "CreateServerCertificateWithCsr",
		"CreateClientCertificateWithCsr", "CreateCustomCertificate":
		return true
	}
	return false
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the API request id of the call, so that
// the CA log details the call writes can be joined to its audit record.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestID returns the API request id ctx carries, "" outside the API.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// caEvent records the details of a change of ca (only ca.AccountID and
// ca.ID are used) under the call's request id; CALog shows them with the
// call's audit record. op is CAEventAdd or CAEventUpdate; content is a
// human-readable sentence. Call it after the change is stored. The log is an audit trail,
// not part of the change: a failure to write it is logged, never returned,
// and the write survives the caller's cancellation.
func (s *Service) caEvent(ctx context.Context, ca pca.CA, op, content string) {
	err := s.store.AddCAEvent(context.WithoutCancel(ctx), store.CAEvent{AccountID: ca.AccountID, CAID: ca.ID, OpType: op,
		Content: content, Created: s.now().UTC(), RequestID: requestID(ctx)})
	if err != nil {
		s.log.Error("recording a CA event", "account", ca.AccountID, "ca", ca.ID, "op", op, "err", err)
	}
}

// caCreatedEvents logs the creation of ca and, for a sub-CA, the signature
// on its parent's log.
func (s *Service) caCreatedEvents(ctx context.Context, ca pca.CA) {
	content := fmt.Sprintf("created %s CA %s, %s, valid %s to %s UTC", ca.Type, ca.SubjectDN, ca.Algorithm,
		ca.NotBefore.UTC().Format(time.DateTime), ca.NotAfter.UTC().Format(time.DateTime))
	if ca.ParentIdentifier != "" {
		content += ", signed by CA " + ca.ParentIdentifier
	}
	s.caEvent(ctx, ca, CAEventAdd, content)
	if ca.ParentID != 0 {
		s.caEvent(ctx, pca.CA{AccountID: ca.AccountID, ID: ca.ParentID}, CAEventUpdate,
			fmt.Sprintf("signed %s CA %s (%s), one certificate drawn from this CA's instance", ca.Type, ca.Identifier, ca.SubjectDN))
	}
}

// checkCAQuota refuses, before anything is generated or reserved, a sub-CA
// under a parent whose instance is used up. The store checks again when it
// draws (the authoritative check, safe under concurrency).
func (s *Service) checkCAQuota(ctx context.Context, a Actor, parent pca.CA) error {
	if parent.InstanceUUID == "" {
		return nil
	}
	in, err := s.store.GetInstance(ctx, a.AccountID, parent.InstanceUUID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return internal(err)
	}
	if in.TotalCount > 0 && in.Issued >= in.TotalCount {
		return caQuotaError(parent.Identifier)
	}
	return nil
}

func caQuotaError(parent string) error {
	return &pca.Error{Kind: pca.KindQuota, Param: "ParentIdentifier", Detail: "CertificateCount",
		Msg: fmt.Sprintf("The root CA %q has used all the sub-CAs its instance allows.", parent)}
}

// InstanceInfo is an instance with the CA it is bound to.
type InstanceInfo struct {
	pca.Instance
	CA pca.CA
}

// InstanceStatus returns the caller's instances named by uuid (one instance)
// or by the identifier of the CA they are bound to (all of the CA's
// instances, oldest first). When both are given they must agree.
func (s *Service) InstanceStatus(ctx context.Context, a Actor, uuid, identifier string) ([]InstanceInfo, error) {
	if uuid == "" && identifier == "" {
		return nil, &pca.Error{Kind: pca.KindMissing, Param: "InstanceId",
			Msg: "The input parameter \"InstanceId\" or \"Identifier\" that is mandatory for processing this request is not supplied."}
	}
	var ca pca.CA
	if identifier != "" {
		var err error
		if ca, err = s.GetCA(ctx, a, "Identifier", identifier); err != nil {
			return nil, err
		}
	}
	if uuid != "" {
		in, err := s.store.GetInstance(ctx, a.AccountID, uuid)
		if errors.Is(err, store.ErrNotFound) {
			return nil, pca.NotFound("InstanceId", "Instance", uuid)
		}
		if err != nil {
			return nil, internal(err)
		}
		if identifier != "" && in.CAID != ca.ID {
			return nil, pca.Invalid("InstanceId", "The specified parameter InstanceId is not valid: the instance %s does not belong to the CA %q given in Identifier.", uuid, identifier)
		}
		if identifier == "" {
			if ca, err = s.store.GetCAByID(ctx, a.AccountID, in.CAID); err != nil {
				return nil, internal(fmt.Errorf("service: load instance CA: %w", err))
			}
		}
		return []InstanceInfo{{Instance: in, CA: ca}}, nil
	}
	ins, err := s.caInstances(ctx, a, ca.ID)
	if err != nil {
		return nil, err
	}
	out := make([]InstanceInfo, 0, len(ins))
	for _, in := range ins {
		out = append(out, InstanceInfo{Instance: in, CA: ca})
	}
	return out, nil
}

// caInstances returns every instance bound to the CA caID, oldest first.
func (s *Service) caInstances(ctx context.Context, a Actor, caID int64) ([]pca.Instance, error) {
	const batch = 1000
	var out []pca.Instance
	for {
		ins, total, err := s.store.ListInstances(ctx, a.AccountID, caID, int64(len(out)), batch)
		if err != nil {
			return nil, internal(err)
		}
		out = append(out, ins...)
		if len(ins) < batch || int64(len(out)) >= total {
			return out, nil
		}
	}
}

// AssignCertificateCount sets the total certificate count of the caller's
// instance with numeric id (0 = unlimited; at most 2^31-1) and returns the
// instance as it is now. For a sub-CA's instance the count limits end-entity
// certificates, for a root's the sub-CAs it signs. A total below what is
// already issued is accepted and only stops further issuance. The change is
// written to the CA's log.
func (s *Service) AssignCertificateCount(ctx context.Context, a Actor, id, total int64) (pca.Instance, error) {
	if total < 0 || total > math.MaxInt32 {
		return pca.Instance{}, pca.Invalid("CertTotalCount", "The specified parameter CertTotalCount is out of range: give 0 (unlimited) to %d.", math.MaxInt32)
	}
	in, err := s.instanceByID(ctx, a, "Id", id)
	if err != nil {
		return pca.Instance{}, err
	}
	err = s.store.SetInstanceQuota(ctx, a.AccountID, in.UUID, total)
	if errors.Is(err, store.ErrNotFound) {
		return pca.Instance{}, pca.NotFound("Id", "Instance", strconv.FormatInt(id, 10))
	}
	if err != nil {
		return pca.Instance{}, internal(err)
	}
	s.caEvent(ctx, pca.CA{AccountID: a.AccountID, ID: in.CAID}, CAEventUpdate,
		fmt.Sprintf("certificate count of instance %s set to %s (was %s; %d used)", in.UUID, countText(total), countText(in.TotalCount), in.Issued))
	in.TotalCount = total
	return in, nil
}

func countText(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10)
}

// instanceByID returns the caller's instance with numeric id; param names
// the parameter that carried it, for the error.
func (s *Service) instanceByID(ctx context.Context, a Actor, param string, id int64) (pca.Instance, error) {
	in, err := s.store.GetInstanceByID(ctx, a.AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return pca.Instance{}, pca.NotFound(param, "Instance", strconv.FormatInt(id, 10))
	}
	if err != nil {
		return pca.Instance{}, internal(err)
	}
	return in, nil
}

// InstanceListRequest is one instance listing. ParentID, the numeric id of
// an instance, selects the instances bound to that instance's CA; with
// Recursive also those of every CA below it (a root's sub-CAs). ParentID 0
// selects every instance of the account. Token mode when Token is set
// (NextToken continues, empty = first page; Limit per page); else page mode
// from Offset. Limit is 1 to 1000.
type InstanceListRequest struct {
	ParentID  int64
	Recursive bool
	Token     bool
	NextToken string
	Offset    int64
	Limit     int
}

// InstancePage is one page of instances in ascending id order.
type InstancePage struct {
	Items     []InstanceInfo
	Total     int64
	Offset    int64  // of the first item
	NextToken string // token mode: empty on the last page
}

// ListInstances lists the caller's instances. Instances are never deleted
// and ids only grow, so the offset a NextToken carries stays exact while
// instances are added. Tokens are authenticated and bound to the account,
// ParentID and Recursive.
func (s *Service) ListInstances(ctx context.Context, a Actor, req InstanceListRequest) (InstancePage, error) {
	if req.Limit < 1 || req.Limit > 1000 || req.Offset < 0 {
		return InstancePage{}, pca.Internal(fmt.Errorf("service: list instances: bad page offset %d limit %d", req.Offset, req.Limit))
	}
	binding := tokenBinding("pcad-listinstance-v1", a, strconv.FormatInt(req.ParentID, 10), strconv.FormatBool(req.Recursive))
	offset := req.Offset
	if req.Token {
		offset = 0
		if req.NextToken != "" {
			next, ok := s.openToken(binding, req.NextToken)
			if !ok {
				return InstancePage{}, badToken()
			}
			offset = next
		}
	}
	var (
		items []pca.Instance
		total int64
		cas   = map[int64]pca.CA{}
		err   error
	)
	switch {
	case req.ParentID == 0:
		items, total, err = s.store.ListInstances(ctx, a.AccountID, 0, offset, req.Limit)
	case !req.Recursive:
		var parent pca.Instance
		if parent, err = s.instanceByID(ctx, a, "ParentId", req.ParentID); err != nil {
			return InstancePage{}, err
		}
		items, total, err = s.store.ListInstances(ctx, a.AccountID, parent.CAID, offset, req.Limit)
	default:
		var parent pca.Instance
		if parent, err = s.instanceByID(ctx, a, "ParentId", req.ParentID); err != nil {
			return InstancePage{}, err
		}
		var all []pca.Instance
		if all, err = s.subtreeInstances(ctx, a, parent.CAID, cas); err != nil {
			return InstancePage{}, err
		}
		total = int64(len(all))
		if offset < total {
			items = all[offset:min(total, offset+int64(req.Limit))]
		}
	}
	if err != nil {
		return InstancePage{}, internal(err)
	}
	page := InstancePage{Total: total, Offset: offset, Items: make([]InstanceInfo, 0, len(items))}
	for _, in := range items {
		ca, ok := cas[in.CAID]
		if !ok {
			if ca, err = s.store.GetCAByID(ctx, a.AccountID, in.CAID); err != nil {
				return InstancePage{}, internal(fmt.Errorf("service: load instance CA: %w", err))
			}
			cas[in.CAID] = ca
		}
		page.Items = append(page.Items, InstanceInfo{Instance: in, CA: ca})
	}
	if req.Token && len(items) > 0 && offset+int64(len(items)) < total {
		page.NextToken = s.sealToken(binding, offset+int64(len(items)))
	}
	return page, nil
}

// subtreeInstances returns the instances of the CA caID and of every CA
// below it, in ascending id order, and records the CAs it loaded in cas.
func (s *Service) subtreeInstances(ctx context.Context, a Actor, caID int64, cas map[int64]pca.CA) ([]pca.Instance, error) {
	children := map[int64][]int64{}
	for before := int64(0); ; {
		page, _, err := s.store.ListCAs(ctx, a.AccountID, store.CAQuery{BeforeID: before, Limit: 2000})
		if err != nil {
			return nil, internal(err)
		}
		for _, ca := range page {
			cas[ca.ID] = ca
			children[ca.ParentID] = append(children[ca.ParentID], ca.ID)
		}
		if len(page) < 2000 {
			break
		}
		before = page[len(page)-1].ID
	}
	var out []pca.Instance
	seen := map[int64]bool{}
	for queue := []int64{caID}; len(queue) > 0; queue = queue[1:] {
		id := queue[0]
		if seen[id] {
			continue
		}
		seen[id] = true
		ins, err := s.caInstances(ctx, a, id)
		if err != nil {
			return nil, err
		}
		out = append(out, ins...)
		queue = append(queue, children[id]...)
	}
	slices.SortFunc(out, func(x, y pca.Instance) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}
