package ramapi

import (
	"context"
	"net"
	"strings"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// Authorization of the RAM actions: every call is checked before its
// handler runs (service.Authorize), as the RAM action "ram:<Action>" on the
// resources below, in the caller's own account. The owner may do
// everything; a RAM user needs a policy that allows it. A refusal answers
// RAM's NoPermission (403) with AccessDeniedDetail.
//
//	user/<UserName>        CreateUser GetUser UpdateUser DeleteUser; the key
//	                       calls and ListPoliciesForUser (without UserName: the
//	                       caller's own user)
//	policy/<PolicyName>    CreatePolicy GetPolicy DeletePolicy
//	policy/<PolicyName> and user/<UserName>
//	                       AttachPolicyToUser DetachPolicyFromUser
//	*                      ListUsers ListPolicies
//
// (each "acs:ram:*:<account>:..."). Values are taken as sent, before the
// handler validates them.

// ramTarget says which resources an action names.
type ramTarget int

const (
	ramAll        ramTarget = iota // "*"
	ramUser                        // user/<UserName>
	ramUserOrSelf                  // user/<UserName>, the caller itself without UserName
	ramPolicy                      // policy/<PolicyName>
	ramAttachment                  // policy/<PolicyName> and user/<UserName>
)

// ramTargets maps every action to its resources; Actions panics if an
// action has no entry.
var ramTargets = map[string]ramTarget{
	"CreateUser": ramUser,
	"GetUser":    ramUser,
	"UpdateUser": ramUser,
	"DeleteUser": ramUser,
	"ListUsers":  ramAll,

	"CreateAccessKey": ramUserOrSelf,
	"ListAccessKeys":  ramUserOrSelf,
	"UpdateAccessKey": ramUserOrSelf,
	"DeleteAccessKey": ramUserOrSelf,

	"CreatePolicy":         ramPolicy,
	"GetPolicy":            ramPolicy,
	"ListPolicies":         ramAll,
	"DeletePolicy":         ramPolicy,
	"AttachPolicyToUser":   ramAttachment,
	"DetachPolicyFromUser": ramAttachment,
	"ListPoliciesForUser":  ramUserOrSelf,
}

// codeNoPermission is RAM's code for a call the caller's policies refuse.
const codeNoPermission = "NoPermission"

// withAuthz wraps every action of table with the authorization check.
func (a *API) withAuthz(table map[string]openapi.HandlerFunc) map[string]openapi.HandlerFunc {
	for name, fn := range table {
		t, ok := ramTargets[name]
		if !ok {
			panic("ramapi: action " + name + " has no authorization entry in ramTargets")
		}
		table[name] = a.authorized(name, t, fn)
	}
	return table
}

func (a *API) authorized(action string, t ramTarget, fn openapi.HandlerFunc) openapi.HandlerFunc {
	return func(ctx context.Context, r *openapi.Request) (any, error) {
		act := actor(r)
		resources, err := a.resources(ctx, act, r, t)
		if err != nil {
			return nil, err
		}
		r.Resource = auditResource(act.AccountID, resources)
		err = a.svc.Authorize(ctx, act, service.RAMService+":"+action, resources, net.ParseIP(r.SourceIP), r.Secure)
		if pe, ok := pca.AsError(err); ok && pe.Kind == pca.KindPermission {
			return nil, pe.WithCode(codeNoPermission)
		}
		if err != nil {
			return nil, err
		}
		return fn(ctx, r)
	}
}

// resources returns the ARNs the call names.
func (a *API) resources(ctx context.Context, act service.Actor, r *openapi.Request, t ramTarget) ([]string, error) {
	user, _ := r.Params.Get("UserName")
	policy, _ := r.Params.Get("PolicyName")
	switch t {
	case ramUser:
		return []string{service.UserARN(act.AccountID, user)}, nil
	case ramUserOrSelf:
		if user == "" {
			self, err := a.svc.SelfARN(ctx, act)
			if err != nil {
				return nil, err
			}
			return []string{self}, nil
		}
		return []string{service.UserARN(act.AccountID, user)}, nil
	case ramPolicy:
		return []string{service.PolicyARN(act.AccountID, policy)}, nil
	case ramAttachment:
		return []string{service.PolicyARN(act.AccountID, policy), service.UserARN(act.AccountID, user)}, nil
	}
	return []string{service.AllResources}, nil
}

// auditResource names the resources for the audit log relative to the
// account ("user/<name>", "policy/<name>", "*"), comma-separated, each part
// cut as resource does.
func auditResource(accountID int64, arns []string) string {
	prefix := strings.TrimSuffix(service.UserARN(accountID, ""), "user/")
	parts := make([]string, len(arns))
	for i, arn := range arns {
		parts[i] = resource(strings.TrimPrefix(arn, prefix))
	}
	return strings.Join(parts, ",")
}
