package casapi

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"strings"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// Authorization (RAM policy enforcement) of the cas actions. Every action is
// checked before its handler runs, as the RAM action "yundun-cert:<Action>"
// on the resources its parameters name, in the caller's own account:
//
//	acs:yundun-cert:*:<account>:ca/<CA identifier>
//	acs:yundun-cert:*:<account>:certificate/<certificate identifier>
//	*   (the call names no particular object)
//
// authzTargets below is the one table saying, per action, which parameters
// name which resources. A call is checked on every resource its target
// parameters name (a Deny on any one refuses it; an Allow must cover each);
// when none of them is given, on "*". Values are taken as sent, before the
// handler validates them, so a RAM user without permission learns nothing
// from a malformed request either. Parameters that name an object
// indirectly (an instance UUID or numeric id, a tag call's ResourceId) are
// resolved in the caller's account to the CA or certificate they stand for;
// a value that names nothing there is checked as the type the parameter
// names (as both CA and certificate when it may be either), and the handler
// then answers that it does not exist.
//
// The account owner is always allowed (see service.Authorize). Actions
// with only "*" (lists, counts, CreateRootCACertificate, the by-serial
// lookups, UploadPcaCertToCas, ListTagResources, ListAllEndEntityInstance)
// need a policy whose Resource is "*".

// targetKind says how one parameter names a resource.
type targetKind int

const (
	caID       targetKind = iota // a CA identifier: ca/<value>
	certID                       // a certificate identifier: certificate/<value>
	certIDs                      // a comma-separated list of certificate identifiers
	caRef                        // a CA identifier or a CA instance UUID, resolved to its CA
	anyRef                       // a CA or certificate identifier (or instance UUID), resolved
	instanceNo                   // a numeric instance id, resolved to its CA
	tagRefs                      // ResourceId.N of the kind ResourceType says, resolved
	tagRef                       // ResourceId (one) of the kind ResourceType says, resolved
)

// target is one parameter that names a resource.
type target struct {
	param string
	kind  targetKind
}

// authzTargets maps every action of the table to the parameters that name
// its resources; an empty list means "*". Actions panics if an action has
// no entry, so that no action can escape authorization.
var authzTargets = map[string][]target{
	// CAs
	"CreateRootCACertificate":     nil,
	"CreateSubCACertificate":      {{"ParentIdentifier", caID}},
	"CreateExternalCACertificate": {{"InstanceId", caRef}},
	"DescribeCACertificate":       {{"Identifier", caID}},
	"UpdateCACertificateStatus":   {{"Identifier", caID}},
	"ListCACertificateLog":        {{"Identifier", caID}},
	"GetCAInstanceStatus":         {{"Identifier", caID}, {"InstanceId", caRef}},
	"GetCaInstanceCrlAddress":     {{"CaIdentifier", caID}, {"Uuid", caRef}},
	"AssignCertificateCount":      {{"Id", instanceNo}},
	// CA lists and counts
	"DescribeCACertificateList":               nil,
	"DescribeCACertificateCount":              nil,
	"DescribePcaAndExternalCACertificateList": nil,
	"ListPcaCaCertificate":                    nil,
	"ListAllEndEntityInstance":                nil,
	// issuance: the issuing CA
	"CreateServerCertificate":        {{"ParentIdentifier", caID}},
	"CreateClientCertificate":        {{"ParentIdentifier", caID}},
	"CreateServerCertificateWithCsr": {{"ParentIdentifier", caID}},
	"CreateClientCertificateWithCsr": {{"ParentIdentifier", caID}},
	"CreateCustomCertificate":        {{"ParentIdentifier", caID}},
	// end-entity certificates
	"DescribeClientCertificate":       {{"Identifier", certID}},
	"CreateRevokeClientCertificate":   {{"Identifier", certID}},
	"DeleteClientCertificate":         {{"Identifier", certID}},
	"DescribeCertificatePrivateKey":   {{"Identifier", certID}},
	"DescribeClientCertificateStatus": {{"Identifier", certIDs}},
	"UpdatePcaCertificate":            {{"Identifier", anyRef}},
	// certificate lists and lookups by serial or numeric id
	"ListCert":              nil,
	"ListClientCertificate": nil,
	"ListRevokeCertificate": nil,
	"DescribeClientCertificateStatusForSerialNumber": nil,
	"DescribeClientCertificateForSerialNumber":       nil,
	"UploadPcaCertToCas":                             nil,
	// tags and resource groups
	"TagResources":      {{"ResourceId", tagRefs}},
	"UntagResources":    {{"ResourceId", tagRefs}},
	"MoveResourceGroup": {{"ResourceId", tagRef}},
	"ListTagResources":  nil,
}

// RAMAction is the RAM action name of a cas action: "yundun-cert:<action>".
func RAMAction(action string) string { return service.CertService + ":" + action }

// withAuthz wraps every action so that the caller's authorization is checked
// first (see authzTargets). It also names the call's resources in
// Request.Resource for the audit log. It panics if an action of the table
// has no authzTargets entry.
func (a *API) withAuthz(table map[string]openapi.HandlerFunc) map[string]openapi.HandlerFunc {
	for name, fn := range table {
		targets, ok := authzTargets[name]
		if !ok {
			panic("casapi: action " + name + " has no authorization entry in authzTargets")
		}
		table[name] = a.authorized(name, targets, fn)
	}
	return table
}

func (a *API) authorized(action string, targets []target, fn openapi.HandlerFunc) openapi.HandlerFunc {
	return func(ctx context.Context, r *openapi.Request) (any, error) {
		act := actor(r)
		resources, err := a.resources(ctx, act, r, targets)
		if err != nil {
			return nil, err
		}
		r.Resource = auditResource(act.AccountID, resources)
		if err := a.svc.Authorize(ctx, act, RAMAction(action), resources, net.ParseIP(r.SourceIP), r.Secure); err != nil {
			return nil, err
		}
		ctx = service.WithRequestID(ctx, r.RequestID)
		arn, creates := createdARN[action]
		// named is the Resource of a creating call: its targets, then what
		// it created.
		named := func(created string) string {
			targets := resources
			if targets[0] == service.AllResources {
				targets = nil
			}
			return auditResource(act.AccountID, append(slices.Clip(targets), arn(act.AccountID, created)))
		}
		var ticket *service.InlineAudit
		if creates {
			// The record of a successful creation may be written with the
			// object it creates (service.InlineAudit).
			ctx, ticket = service.WithInlineAudit(ctx, service.AuditEntry{Time: r.Received, RequestID: r.RequestID, Action: action,
				AccessKeyID: r.Caller.AccessKeyID, AccountID: act.AccountID, PrincipalID: act.PrincipalID, SourceIP: r.SourceIP}, named)
		}
		res, err := fn(ctx, r)
		switch {
		case err != nil:
		case ticket.Written():
			r.Resource, r.Audited = ticket.Resource(), true
		case creates:
			if id := resultIdentifier(res); id != "" {
				r.Resource = named(id)
			}
		}
		return res, err
	}
}

// createdARN names the object each creating action makes; the audit log
// names it (from the answer's Identifier) after the call's targets.
var createdARN = map[string]func(accountID int64, identifier string) string{
	"CreateRootCACertificate":        service.CAARN,
	"CreateSubCACertificate":         service.CAARN,
	"CreateExternalCACertificate":    service.CAARN,
	"CreateServerCertificate":        service.CertificateARN,
	"CreateClientCertificate":        service.CertificateARN,
	"CreateServerCertificateWithCsr": service.CertificateARN,
	"CreateClientCertificateWithCsr": service.CertificateARN,
	"CreateCustomCertificate":        service.CertificateARN,
}

// resultIdentifier returns the top-level Identifier of an action's answer,
// "" when it has none.
func resultIdentifier(res any) string {
	b, err := json.Marshal(res)
	if err != nil {
		return ""
	}
	var v struct {
		Identifier string `json:"Identifier"`
	}
	_ = json.Unmarshal(b, &v)
	return v.Identifier
}

// maxTargets bounds the resources one call may name (far above what any
// handler accepts), so that authorizing a huge list stays cheap.
const maxTargets = 1000

// resources returns the ARNs the call's target parameters name, each once,
// or ["*"] when none is given.
func (a *API) resources(ctx context.Context, act service.Actor, r *openapi.Request, targets []target) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	b := newBinder(r)
	for _, t := range targets {
		var arns []string
		var err error
		switch t.kind {
		case tagRefs, tagRef:
			var ids []string
			if t.kind == tagRefs {
				if ids = b.list(t.param); len(ids) > maxTargets {
					return nil, tooManyTargets(t.param)
				}
			} else if v := strings.TrimSpace(param(r, t.param)); v != "" {
				ids = []string{v}
			}
			if len(ids) > 0 {
				kind, _ := b.tagResourceType("ResourceType") // unknown type: any kind (the handler refuses it)
				arns, err = a.svc.ResolveARNs(ctx, act, kind, ids)
			}
		default:
			v := strings.TrimSpace(param(r, t.param))
			if v == "" {
				continue
			}
			switch t.kind {
			case caID:
				arns = []string{service.CAARN(act.AccountID, v)}
			case certID:
				arns = []string{service.CertificateARN(act.AccountID, v)}
			case certIDs:
				for id := range strings.SplitSeq(v, ",") {
					if id = strings.TrimSpace(id); id != "" {
						if len(arns) == maxTargets {
							return nil, tooManyTargets(t.param)
						}
						arns = append(arns, service.CertificateARN(act.AccountID, id))
					}
				}
			case caRef:
				arns, err = a.svc.ResolveARNs(ctx, act, service.CAResource, []string{v})
			case anyRef:
				arns, err = a.svc.ResolveARNs(ctx, act, service.AnyResource, []string{v})
			case instanceNo:
				var arn string
				arn, err = a.svc.InstanceARN(ctx, act, v)
				arns = []string{arn}
			}
		}
		if err != nil {
			return nil, err
		}
		for _, arn := range arns {
			if !seen[arn] {
				seen[arn] = true
				out = append(out, arn)
			}
		}
		if len(out) > maxTargets {
			return nil, tooManyTargets(t.param)
		}
	}
	if len(out) == 0 {
		return []string{service.AllResources}, nil
	}
	return out, nil
}

func tooManyTargets(param string) error {
	return pca.Invalid(param, "The specified parameter %s is not valid: it names more than %d resources.", param, maxTargets)
}

// param returns a parameter's value, "" when absent.
func param(r *openapi.Request, name string) string {
	v, _ := r.Params.Get(name)
	return v
}

// maxAuditResource caps Request.Resource, which holds caller input.
const maxAuditResource = 1024

// auditResource names the resources for the audit log relative to the
// account ("ca/<id>", "certificate/<id>", "*"), comma-separated.
func auditResource(accountID int64, arns []string) string {
	prefix := service.CAARN(accountID, "")
	prefix = prefix[:len(prefix)-len("ca/")]
	var b strings.Builder
	for i, arn := range arns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.TrimPrefix(arn, prefix))
		if b.Len() > maxAuditResource {
			break
		}
	}
	s := b.String()
	if len(s) > maxAuditResource {
		s = strings.ToValidUTF8(s[:maxAuditResource], "") + "..."
	}
	return s
}
