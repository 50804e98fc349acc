package ramapi

import (
	"context"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/service"
)

// defaultVersion is every policy's version: pcad keeps one document per
// policy (no CreatePolicyVersion), so it is always "v1".
const defaultVersion = "v1"

var policyTypes = []string{service.PolicySystem, service.PolicyCustom}

// policyResource names a policy for the audit log: "policy/<type>/<name>".
func policyResource(policyType, name string) string {
	return resource("policy", policyType, name)
}

// createdPolicyJSON is the policy CreatePolicy returns.
type createdPolicyJSON struct {
	PolicyName     string `json:"PolicyName"`
	PolicyType     string `json:"PolicyType"`
	Description    string `json:"Description"`
	DefaultVersion string `json:"DefaultVersion"`
	CreateDate     string `json:"CreateDate"`
}

type createPolicyResponse struct {
	Policy createdPolicyJSON `json:"Policy"`
}

func (a *API) createPolicy(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	name := b.str("PolicyName", true)
	doc := b.str("PolicyDocument", true)
	desc := b.str("Description", false)
	r.Resource = policyResource(service.PolicyCustom, name)
	if b.err != nil {
		return nil, b.err
	}
	p, err := a.svc.CreatePolicy(ctx, actor(r), name, desc, doc)
	if err != nil {
		return nil, err
	}
	return createPolicyResponse{Policy: createdPolicyJSON{PolicyName: p.Name, PolicyType: p.Type, Description: p.Description,
		DefaultVersion: defaultVersion, CreateDate: date(p.Created)}}, nil
}

// policyDetailJSON is the policy GetPolicy returns. PolicyDocument is
// marked deprecated by RAM in favour of DefaultPolicyVersion; it is still
// filled for older clients.
type policyDetailJSON struct {
	PolicyName      string `json:"PolicyName"`
	PolicyType      string `json:"PolicyType"`
	Description     string `json:"Description"`
	DefaultVersion  string `json:"DefaultVersion"`
	PolicyDocument  string `json:"PolicyDocument"`
	AttachmentCount int    `json:"AttachmentCount"`
	CreateDate      string `json:"CreateDate"`
	UpdateDate      string `json:"UpdateDate"`
}

// policyVersionJSON is GetPolicy's DefaultPolicyVersion.
type policyVersionJSON struct {
	VersionId        string `json:"VersionId"`
	IsDefaultVersion bool   `json:"IsDefaultVersion"`
	PolicyDocument   string `json:"PolicyDocument"`
	CreateDate       string `json:"CreateDate"`
}

type getPolicyResponse struct {
	Policy               policyDetailJSON  `json:"Policy"`
	DefaultPolicyVersion policyVersionJSON `json:"DefaultPolicyVersion"`
}

func (a *API) getPolicy(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	typ := b.oneOf("PolicyType", true, policyTypes...)
	name := b.str("PolicyName", true)
	r.Resource = policyResource(typ, name)
	if b.err != nil {
		return nil, b.err
	}
	p, err := a.svc.GetPolicy(ctx, actor(r), typ, name)
	if err != nil {
		return nil, err
	}
	return getPolicyResponse{
		Policy: policyDetailJSON{PolicyName: p.Name, PolicyType: p.Type, Description: p.Description, DefaultVersion: defaultVersion,
			PolicyDocument: p.Document, AttachmentCount: p.Attachments, CreateDate: date(p.Created), UpdateDate: date(p.Updated)},
		DefaultPolicyVersion: policyVersionJSON{VersionId: defaultVersion, IsDefaultVersion: true, PolicyDocument: p.Document,
			CreateDate: date(p.Updated)},
	}, nil
}

// policyJSON is a policy as ListPolicies returns it.
type policyJSON struct {
	PolicyName      string `json:"PolicyName"`
	PolicyType      string `json:"PolicyType"`
	Description     string `json:"Description"`
	DefaultVersion  string `json:"DefaultVersion"`
	AttachmentCount int    `json:"AttachmentCount"`
	CreateDate      string `json:"CreateDate"`
	UpdateDate      string `json:"UpdateDate"`
}

type listPoliciesResponse struct {
	IsTruncated bool         `json:"IsTruncated"`
	Marker      string       `json:"Marker,omitempty"`
	Policies    policiesJSON `json:"Policies"`
}

type policiesJSON struct {
	Policy []policyJSON `json:"Policy"`
}

func (a *API) listPolicies(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	typ := b.oneOf("PolicyType", false, policyTypes...)
	marker := b.str("Marker", false)
	max := b.integer("MaxItems", 1, 1000)
	r.Resource = policyResource(typ, "*")
	if typ == "" {
		r.Resource = "policy/*"
	}
	if b.err != nil {
		return nil, b.err
	}
	page, err := a.svc.ListPolicies(ctx, actor(r), typ, marker, max)
	if err != nil {
		return nil, err
	}
	out := make([]policyJSON, 0, len(page.Policies))
	for _, p := range page.Policies {
		out = append(out, policyJSON{PolicyName: p.Name, PolicyType: p.Type, Description: p.Description, DefaultVersion: defaultVersion,
			AttachmentCount: p.Attachments, CreateDate: date(p.Created), UpdateDate: date(p.Updated)})
	}
	return listPoliciesResponse{IsTruncated: page.Truncated, Marker: page.Marker, Policies: policiesJSON{Policy: out}}, nil
}

func (a *API) deletePolicy(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	name := b.str("PolicyName", true)
	r.Resource = policyResource(service.PolicyCustom, name)
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.DeletePolicy(ctx, actor(r), name); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// bindAttachment reads the parameters of AttachPolicyToUser and
// DetachPolicyFromUser and names the attachment for the audit log.
func bindAttachment(r *openapi.Request) (typ, name, user string, err error) {
	b := newBinder(r)
	typ = b.oneOf("PolicyType", true, policyTypes...)
	name = b.str("PolicyName", true)
	user = b.str("UserName", true)
	r.Resource = resource("user", user, "policy", typ, name)
	return typ, name, user, b.err
}

func (a *API) attachPolicyToUser(ctx context.Context, r *openapi.Request) (any, error) {
	typ, name, user, err := bindAttachment(r)
	if err != nil {
		return nil, err
	}
	if err := a.svc.AttachPolicyToUser(ctx, actor(r), typ, name, user); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (a *API) detachPolicyFromUser(ctx context.Context, r *openapi.Request) (any, error) {
	typ, name, user, err := bindAttachment(r)
	if err != nil {
		return nil, err
	}
	if err := a.svc.DetachPolicyFromUser(ctx, actor(r), typ, name, user); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// attachedPolicyJSON is a policy as ListPoliciesForUser returns it.
type attachedPolicyJSON struct {
	PolicyName     string `json:"PolicyName"`
	PolicyType     string `json:"PolicyType"`
	Description    string `json:"Description"`
	DefaultVersion string `json:"DefaultVersion"`
	AttachDate     string `json:"AttachDate"`
}

type listPoliciesForUserResponse struct {
	Policies attachedPoliciesJSON `json:"Policies"`
}

type attachedPoliciesJSON struct {
	Policy []attachedPolicyJSON `json:"Policy"`
}

func (a *API) listPoliciesForUser(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	user := b.str("UserName", false)
	r.Resource = resource("user", user, "policy", "*")
	if user == "" {
		r.Resource = "policy/attached-to-caller"
	}
	if b.err != nil {
		return nil, b.err
	}
	atts, err := a.svc.ListPoliciesForUser(ctx, actor(r), user)
	if err != nil {
		return nil, err
	}
	out := make([]attachedPolicyJSON, 0, len(atts))
	for _, p := range atts {
		out = append(out, attachedPolicyJSON{PolicyName: p.Name, PolicyType: p.Type, Description: p.Description,
			DefaultVersion: defaultVersion, AttachDate: date(p.Attached)})
	}
	return listPoliciesForUserResponse{Policies: attachedPoliciesJSON{Policy: out}}, nil
}
