package casapi

import (
	"context"
	"strings"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// The generic tag and resource-group calls (spec B.4) name resources by
// ResourceId.N and a ResourceType, matched case-insensitively:
//
//   - "instance" (Alibaba's value): any CA or end-entity certificate
//     identifier, or a CA instance UUID standing for its CA;
//   - "ca": a CA identifier or a CA instance UUID;
//   - "certificate": an end-entity certificate identifier.
//
// Tags are stored on the CA or certificate identifier: ListTagResources
// reports that identifier as ResourceId even when an instance UUID was given.
var tagResourceTypes = map[string]service.ResourceKind{
	"instance":    service.AnyResource,
	"ca":          service.CAResource,
	"certificate": service.CertificateResource,
}

// resourceType reads a ResourceType; it returns the lower-case name too.
func (b *binder) tagResourceType(name string) (service.ResourceKind, string) {
	v := strings.ToLower(b.str(name, true, 0))
	if v == "" {
		return 0, ""
	}
	k, ok := tagResourceTypes[v]
	if !ok {
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid: %q is not one of instance, ca, certificate.", name, v))
		return 0, ""
	}
	return k, v
}

func (a *API) tagResources(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	b.str("RegionId", true, 64)
	kind, _ := b.tagResourceType("ResourceType")
	ids := b.list("ResourceId")
	tags := b.tags("Tag")
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.TagResources(ctx, actor(r), kind, ids, tags); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (a *API) untagResources(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	b.str("RegionId", true, 64)
	kind, _ := b.tagResourceType("ResourceType")
	ids := b.list("ResourceId")
	keys := b.list("TagKey")
	all := b.flag("All")
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.UntagResources(ctx, actor(r), kind, ids, keys, all); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// tagResource is one TagResources entry of ListTagResources.
type tagResource struct {
	ResourceId   string `json:"ResourceId"`
	ResourceType string `json:"ResourceType"`
	TagKey       string `json:"TagKey"`
	TagValue     string `json:"TagValue"`
}

// listTagsResponse has the doubled nesting of spec B.4:
// Data.TagResources.TagResources[].
type listTagsResponse struct {
	Data listTagsData `json:"Data"`
}

type listTagsData struct {
	MaxResults   int64        `json:"MaxResults"`
	NextToken    string       `json:"NextToken"`
	TagResources tagResources `json:"TagResources"`
}

type tagResources struct {
	TagResources []tagResource `json:"TagResources"`
}

// listTags lists tags, MaxResults (1..1000, default 20) pairs per page.
// ResourceType in each entry echoes the request's, in lower case.
func (a *API) listTags(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	b.str("RegionId", true, 64)
	kind, typeName := b.tagResourceType("ResourceType")
	q := service.TagQuery{
		Kind:        kind,
		ResourceIDs: b.list("ResourceId"),
		Match:       b.tags("Tag"),
		MaxResults:  int(b.integer("MaxResults", false, 1, service.MaxTagPage, 20)),
		NextToken:   b.str("NextToken", false, 1024),
	}
	if b.err != nil {
		return nil, b.err
	}
	page, err := a.svc.ListTags(ctx, actor(r), q)
	if err != nil {
		return nil, err
	}
	items := make([]tagResource, 0, len(page.Items))
	for _, it := range page.Items {
		items = append(items, tagResource{ResourceId: it.ResourceID, ResourceType: typeName, TagKey: it.Tag.Key, TagValue: it.Tag.Value})
	}
	return listTagsResponse{Data: listTagsData{MaxResults: int64(q.MaxResults), NextToken: page.NextToken,
		TagResources: tagResources{TagResources: items}}}, nil
}

func (a *API) moveResourceGroup(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	b.str("RegionId", false, 64)
	id := b.str("ResourceId", true, 64)
	group := b.str("ResourceGroupId", true, 64)
	kind, _ := b.tagResourceType("ResourceType")
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.MoveResourceGroup(ctx, actor(r), kind, id, group); err != nil {
		return nil, err
	}
	return empty{}, nil
}
