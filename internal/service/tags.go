package service

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// ResourceKind says which resources a tag or resource-group call may name.
type ResourceKind int

const (
	// AnyResource is a CA, an end-entity certificate, or a CA's instance
	// (named by its UUID, standing for its CA).
	AnyResource ResourceKind = iota
	// CAResource is a CA or a CA's instance UUID.
	CAResource
	// CertificateResource is an end-entity certificate.
	CertificateResource
)

// Limits of the tag calls.
const (
	MaxTagResources = 50   // ResourceId.N per call
	MaxTagKeys      = 20   // TagKey.N per call
	MaxTagPage      = 1000 // MaxResults of ListTags
)

// resource is a CA or certificate of the caller, as tags name it.
type resource struct {
	ID          string // the identifier its tags are stored under
	Certificate bool   // false: a CA
	CA          pca.CA // the CA, when not a certificate
}

func (r resource) what() string {
	if r.Certificate {
		return "Certificate"
	}
	return "CA"
}

func (k ResourceKind) what() string {
	switch k {
	case CAResource:
		return "CA"
	case CertificateResource:
		return "Certificate"
	}
	return "Resource"
}

// resolve finds the resource of kind named by id in the caller's account:
// a certificate identifier, a CA identifier, or (standing for its CA) a CA
// instance UUID. Anything else is a KindNotFound error naming param.
func (s *Service) resolve(ctx context.Context, a Actor, kind ResourceKind, param, id string) (resource, error) {
	notFound := pca.NotFound(param, kind.what(), id)
	if id == "" || utf8.RuneCountInString(id) > 64 {
		return resource{}, notFound
	}
	if kind != CAResource {
		_, err := s.store.GetCertificate(ctx, a.AccountID, id)
		if err == nil {
			return resource{ID: id, Certificate: true}, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return resource{}, internal(err)
		}
		if kind == CertificateResource {
			return resource{}, notFound
		}
	}
	ca, err := s.store.GetCA(ctx, a.AccountID, id)
	if err == nil {
		return resource{ID: ca.Identifier, CA: ca}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return resource{}, internal(err)
	}
	if !pca.ValidUUID(id) {
		return resource{}, notFound
	}
	in, err := s.store.GetInstance(ctx, a.AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return resource{}, notFound
	}
	if err != nil {
		return resource{}, internal(err)
	}
	ca, err = s.store.GetCAByID(ctx, a.AccountID, in.CAID)
	if err != nil {
		return resource{}, internal(fmt.Errorf("service: CA of instance %s: %w", id, err))
	}
	return resource{ID: ca.Identifier, CA: ca}, nil
}

// logCAs appends an UPDATE entry with content to the log of each CA among rs.
func (s *Service) logCAs(ctx context.Context, rs []resource, content string) {
	for _, r := range rs {
		if !r.Certificate {
			s.caEvent(ctx, r.CA, CAEventUpdate, content)
		}
	}
}

// tagText renders tags as "k=v, k2=v2" for the CA log.
func tagText(tags []pca.Tag) string {
	parts := make([]string, 0, len(tags))
	for _, t := range tags {
		parts = append(parts, t.Key+"="+t.Value)
	}
	return strings.Join(parts, ", ")
}

// resolveAll resolves ids (1 to MaxTagResources, given in param) and drops
// repeats (an instance UUID and its CA's identifier are one resource).
func (s *Service) resolveAll(ctx context.Context, a Actor, kind ResourceKind, param string, ids []string) ([]resource, error) {
	if len(ids) == 0 {
		return nil, pca.Missing(param + ".1")
	}
	if len(ids) > MaxTagResources {
		return nil, pca.Invalid(param, "The specified parameter %s is not valid: at most %d resources per call.", param, MaxTagResources)
	}
	var out []resource
	seen := map[string]bool{}
	for i, id := range ids {
		r, err := s.resolve(ctx, a, kind, param+"."+strconv.Itoa(i+1), id)
		if err != nil {
			return nil, err
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// checkTags validates tags given in param: keys of 1 to 128 characters,
// unique, values of at most 128.
func checkTags(param string, tags []pca.Tag) error {
	seen := map[string]bool{}
	for i, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > 128 || utf8.RuneCountInString(t.Value) > 128 {
			return pca.Invalid(param, "The specified parameter %s.%d is not valid: a tag needs a Key of 1 to 128 characters and a Value of at most 128.", param, i+1)
		}
		if seen[t.Key] {
			return pca.Invalid(param, "The specified parameter %s is not valid: the tag key %q appears twice.", param, t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// touch sets the last-change time of the certificates among rs: a tag or
// resource-group change counts as a change for ListCert's date window.
func (s *Service) touch(ctx context.Context, a Actor, rs []resource) error {
	now := s.now().UTC()
	for _, r := range rs {
		if !r.Certificate {
			continue
		}
		if err := s.store.UpdateCertificate(ctx, a.AccountID, r.ID, nil, nil, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return internal(err)
		}
	}
	return nil
}

// TagResources adds tags to (or replaces same-key tags of) the resources
// named by ids. Every id must name a resource of kind in the caller's
// account, and no resource may end with more than MaxTagsPerResource tags
// (KindQuota); otherwise nothing changes. CAs log the change as an UPDATE,
// certificates get a new last-change time.
func (s *Service) TagResources(ctx context.Context, a Actor, kind ResourceKind, ids []string, tags []pca.Tag) error {
	if len(tags) == 0 {
		return pca.Missing("Tag.1.Key")
	}
	if len(tags) > MaxTagsPerResource {
		return pca.Invalid("Tag", "The specified parameter Tag is not valid: at most %d tags.", MaxTagsPerResource)
	}
	if err := checkTags("Tag", tags); err != nil {
		return err
	}
	rs, err := s.resolveAll(ctx, a, kind, "ResourceId", ids)
	if err != nil {
		return err
	}
	// Check every quota before changing anything.
	names := make([]string, 0, len(rs))
	for _, r := range rs {
		names = append(names, r.ID)
	}
	have, err := s.store.GetTags(ctx, a.AccountID, names)
	if err != nil {
		return internal(err)
	}
	for _, r := range rs {
		keys := map[string]bool{}
		for _, t := range have[r.ID] {
			keys[t.Key] = true
		}
		for _, t := range tags {
			keys[t.Key] = true
		}
		if len(keys) > MaxTagsPerResource {
			return &pca.Error{Kind: pca.KindQuota, Detail: "Tags",
				Msg: fmt.Sprintf("The resource %q would carry %d tags; at most %d are allowed.", r.ID, len(keys), MaxTagsPerResource)}
		}
	}
	for _, r := range rs {
		if err := s.setTags(ctx, a, r.ID, tags); err != nil {
			return err
		}
	}
	s.logCAs(ctx, rs, "tags set: "+tagText(tags))
	return s.touch(ctx, a, rs)
}

// UntagResources removes the tags with the given keys from the resources
// named by ids, or all their tags when all is set (keys must then be empty).
// Keys a resource does not carry are ignored. CAs log the change as an
// UPDATE, certificates get a new last-change time.
func (s *Service) UntagResources(ctx context.Context, a Actor, kind ResourceKind, ids, keys []string, all bool) error {
	switch {
	case all && len(keys) > 0:
		return pca.Invalid("All", "The specified parameter All is not valid together with TagKey.N: give one or the other.")
	case !all && len(keys) == 0:
		return pca.Missing("TagKey.1")
	case len(keys) > MaxTagKeys:
		return pca.Invalid("TagKey", "The specified parameter TagKey is not valid: at most %d keys.", MaxTagKeys)
	}
	for i, k := range keys {
		if k == "" || utf8.RuneCountInString(k) > 128 {
			return pca.Invalid("TagKey", "The specified parameter TagKey.%d is not valid: a key has 1 to 128 characters.", i+1)
		}
	}
	rs, err := s.resolveAll(ctx, a, kind, "ResourceId", ids)
	if err != nil {
		return err
	}
	content := "all tags removed"
	if all {
		keys = nil
	} else {
		content = "tags removed: " + strings.Join(keys, ", ")
	}
	for _, r := range rs {
		if err := s.store.RemoveTags(ctx, a.AccountID, r.ID, keys); err != nil {
			return internal(err)
		}
	}
	s.logCAs(ctx, rs, content)
	return s.touch(ctx, a, rs)
}

// MoveResourceGroup moves a CA or certificate of kind, named by id, to a
// resource group (1 to 64 characters). A CA logs the move as an UPDATE; a
// certificate gets a new last-change time.
func (s *Service) MoveResourceGroup(ctx context.Context, a Actor, kind ResourceKind, id, group string) error {
	if group == "" {
		return pca.Missing("ResourceGroupId")
	}
	if utf8.RuneCountInString(group) > 64 {
		return pca.Invalid("ResourceGroupId", "The specified parameter ResourceGroupId is too long: at most 64 characters.")
	}
	r, err := s.resolve(ctx, a, kind, "ResourceId", id)
	if err != nil {
		return err
	}
	if r.Certificate {
		err = s.store.UpdateCertificate(ctx, a.AccountID, r.ID, nil, &group, s.now().UTC())
	} else {
		err = s.store.SetResourceGroup(ctx, a.AccountID, r.ID, group)
	}
	if errors.Is(err, store.ErrNotFound) {
		return pca.NotFound("ResourceId", r.what(), id)
	}
	if err != nil {
		return internal(err)
	}
	s.logCAs(ctx, []resource{r}, fmt.Sprintf("moved to resource group %q", group))
	return nil
}

// TagQuery is one ListTags call.
type TagQuery struct {
	Kind ResourceKind
	// ResourceIDs, when given, limits the listing to these resources;
	// ids that name no resource of Kind are ignored.
	ResourceIDs []string
	// Match keeps resources carrying every one of these tags (an empty
	// Value matches any value).
	Match      []pca.Tag
	MaxResults int    // 1..MaxTagPage
	NextToken  string // from the previous page; "" for the first
}

// TagPage is one page of (resource, tag) pairs.
type TagPage struct {
	Items     []store.TaggedResource
	NextToken string // "" on the last page
}

// ListTags lists the tags of the caller's resources, by resource
// identifier then key, MaxResults pairs at most per page. NextToken is
// opaque, bound to the account and the query (HMAC under the server's list
// token key, like ListCert's).
func (s *Service) ListTags(ctx context.Context, a Actor, q TagQuery) (TagPage, error) {
	if q.MaxResults < 1 || q.MaxResults > MaxTagPage {
		return TagPage{}, pca.Invalid("MaxResults", "The specified parameter MaxResults is not valid: give 1 to %d.", MaxTagPage)
	}
	if len(q.ResourceIDs) > MaxTagResources {
		return TagPage{}, pca.Invalid("ResourceId", "The specified parameter ResourceId is not valid: at most %d resources per call.", MaxTagResources)
	}
	if len(q.Match) > MaxTagsPerResource {
		return TagPage{}, pca.Invalid("Tag", "The specified parameter Tag is not valid: at most %d tags.", MaxTagsPerResource)
	}
	if err := checkTags("Tag", q.Match); err != nil {
		return TagPage{}, err
	}
	var ids []string
	if len(q.ResourceIDs) > 0 {
		for i, id := range q.ResourceIDs {
			r, err := s.resolve(ctx, a, q.Kind, "ResourceId."+strconv.Itoa(i+1), id)
			if pca.KindOf(err) == pca.KindNotFound {
				continue
			}
			if err != nil {
				return TagPage{}, err
			}
			ids = append(ids, r.ID)
		}
		if len(ids) == 0 {
			return TagPage{Items: []store.TaggedResource{}}, nil
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	binding := tagBinding(a, q.Kind, ids, q.Match)
	cursor := ""
	if q.NextToken != "" {
		var ok bool
		if cursor, ok = s.openCursor(binding, q.NextToken); !ok {
			return TagPage{}, pca.Invalid("NextToken", "The specified parameter NextToken is not valid: it was not issued by this service for this caller and these filters.")
		}
	}
	out := TagPage{Items: []store.TaggedResource{}}
	// A kind other than AnyResource is applied after the store's filters, so
	// a batch may shrink: read again from where it stopped, asking only for
	// what is still missing so that the cursor stays exact.
	for range 50 {
		need := q.MaxResults - len(out.Items)
		batch, next, err := s.store.FindTagged(ctx, a.AccountID, ids, q.Match, cursor, need)
		if err != nil {
			return TagPage{}, internal(err)
		}
		if batch, err = s.keepKind(ctx, a, q.Kind, batch); err != nil {
			return TagPage{}, err
		}
		out.Items = append(out.Items, batch...)
		cursor = next
		if cursor == "" || len(out.Items) == q.MaxResults {
			break
		}
	}
	if cursor != "" {
		out.NextToken = s.sealCursor(binding, cursor)
	}
	return out, nil
}

// keepKind drops the pairs whose resource is not of kind.
func (s *Service) keepKind(ctx context.Context, a Actor, kind ResourceKind, in []store.TaggedResource) ([]store.TaggedResource, error) {
	if kind == AnyResource || len(in) == 0 {
		return in, nil
	}
	var ids []string
	for _, t := range in {
		ids = append(ids, t.ResourceID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	cas, _, err := s.store.ListCAs(ctx, a.AccountID, store.CAQuery{Identifiers: ids, Limit: len(ids)})
	if err != nil {
		return nil, internal(err)
	}
	isCA := map[string]bool{}
	for _, ca := range cas {
		isCA[ca.Identifier] = true
	}
	out := in[:0]
	for _, t := range in {
		if isCA[t.ResourceID] == (kind == CAResource) {
			out = append(out, t)
		}
	}
	return out, nil
}

// tagBinding is the text a ListTags NextToken is bound to: the caller
// (account and principal) and the exact query (page size may change between
// pages).
func tagBinding(a Actor, kind ResourceKind, ids []string, match []pca.Tag) string {
	var b strings.Builder
	b.WriteString("pcad-listtags-v1\x00")
	b.WriteString(strconv.FormatInt(a.AccountID, 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(a.PrincipalID, 10))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(int(kind)))
	for _, id := range ids {
		b.WriteString("\x00r=")
		b.WriteString(id)
	}
	tags := slices.Clone(match)
	slices.SortFunc(tags, func(x, y pca.Tag) int { return strings.Compare(x.Key, y.Key) })
	for _, t := range tags {
		b.WriteString("\x00t=")
		b.WriteString(strconv.Quote(t.Key))
		b.WriteString(strconv.Quote(t.Value))
	}
	return b.String()
}

// sealCursor wraps a store cursor in a token made like ListCert's (see
// sealToken): the cursor and a truncated HMAC over the binding and it.
func (s *Service) sealCursor(binding, cursor string) string {
	body := []byte(cursor)
	return base64.RawURLEncoding.EncodeToString(append(body, s.tokenMAC(binding, body)...))
}

// openCursor checks a token made by sealCursor and returns the cursor.
func (s *Service) openCursor(binding, token string) (string, bool) {
	if len(token) > 1024 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 17 {
		return "", false
	}
	body, mac := raw[:len(raw)-16], raw[len(raw)-16:]
	if !hmac.Equal(mac, s.tokenMAC(binding, body)) {
		return "", false
	}
	return string(body), true
}
