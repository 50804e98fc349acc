package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pcad-dev/pcad/internal/iam"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// This file decides whether a caller may make a call (RAM policy
// enforcement). The account owner may do everything in its own account; a
// RAM user may do what its attached policies allow (iam.Evaluate: an
// explicit Deny wins, no matching Allow is an implicit deny). Resources are
// always named in the caller's own account, so no policy can reach another
// account's objects.

// RAM service names, the part before the colon of an action and the second
// segment of a resource ARN.
const (
	CertService = "yundun-cert"
	RAMService  = "ram"
)

// AllResources is the resource of a call that targets no particular object
// (lists, counts, creation without a parent): only a policy whose Resource
// is "*" matches it.
const AllResources = "*"

// Values of the AccessDeniedDetail fields pcad answers.
const (
	principalTypeSubUser = "SubUser"
	// policyTypeIdentity is the only kind of policy pcad has: identity-based
	// policies attached at account level.
	policyTypeIdentity = "AccountLevelIdentityBasedPolicy"
)

// policyCacheTTL is how long a principal's parsed policies are reused.
// invalidatePolicies drops an entry at once; the TTL bounds staleness for
// any change that does not call it.
const policyCacheTTL = time.Second

// maxCachedPrincipals bounds the policy cache; beyond it the cache starts
// afresh.
const maxCachedPrincipals = 10000

// CAARN is the resource name of a CA of the account:
// "acs:yundun-cert:*:<account>:ca/<identifier>".
func CAARN(accountID int64, identifier string) string {
	return iam.ARN(CertService, accountID, "ca/"+identifier)
}

// CertificateARN is the resource name of an end-entity certificate of the
// account: "acs:yundun-cert:*:<account>:certificate/<identifier>".
func CertificateARN(accountID int64, identifier string) string {
	return iam.ARN(CertService, accountID, "certificate/"+identifier)
}

// UserARN is the resource name of a RAM user: "acs:ram:*:<account>:user/<name>".
func UserARN(accountID int64, name string) string {
	return iam.ARN(RAMService, accountID, "user/"+name)
}

// PolicyARN is the resource name of a policy: "acs:ram:*:<account>:policy/<name>".
func PolicyARN(accountID int64, name string) string {
	return iam.ARN(RAMService, accountID, "policy/"+name)
}

// principalAuth is what authorization needs to know about a principal,
// cached for policyCacheTTL.
type principalAuth struct {
	accountID int64
	owner     bool
	name      string
	policies  []namedPolicy
}

// namedPolicy is one attached policy, parsed.
type namedPolicy struct {
	typ, name string
	policy    *iam.Policy
}

// invalidatePolicies forgets the cached policies of a principal. Call it
// after changing a principal's attachments, renaming or deleting it, so
// that the change applies to the very next call rather than after
// policyCacheTTL.
func (s *Service) invalidatePolicies(principalID int64) { s.policies.forget(principalID) }

// principalAuth returns the caller's principal and parsed policies, from the
// cache when fresh.
func (s *Service) principalAuth(ctx context.Context, a Actor) (*principalAuth, error) {
	now := s.now()
	pa, ok, epoch := s.policies.get(a.PrincipalID, now)
	if ok && pa.accountID == a.AccountID {
		return pa, nil
	}
	pa, err := s.loadPrincipalAuth(ctx, a)
	if err != nil {
		return nil, err
	}
	s.policies.put(a.PrincipalID, pa, now, epoch)
	return pa, nil
}

// loadPrincipalAuth reads the principal and its attachments and parses its
// policies. A stored custom policy that does not parse fails the call (fail
// closed: it might hold a Deny); an attachment naming a policy that no
// longer exists grants nothing.
func (s *Service) loadPrincipalAuth(ctx context.Context, a Actor) (*principalAuth, error) {
	p, err := s.store.GetPrincipal(ctx, a.AccountID, a.PrincipalID)
	if errors.Is(err, store.ErrNotFound) {
		// No such principal in the account: it may do nothing.
		return &principalAuth{accountID: a.AccountID}, nil
	}
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: authorize: load principal: %w", err))
	}
	pa := &principalAuth{accountID: a.AccountID, owner: p.Owner, name: p.Name}
	if p.Owner {
		return pa, nil
	}
	atts, err := s.store.Attachments(ctx, a.AccountID, p.ID)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: authorize: load attachments: %w", err))
	}
	for _, at := range atts {
		np := namedPolicy{typ: at.PolicyType, name: at.PolicyName}
		switch at.PolicyType {
		case PolicySystem:
			pol, _, ok := iam.SystemPolicy(at.PolicyName)
			if !ok {
				continue
			}
			np.policy = pol
		default:
			cp, err := s.store.GetPolicy(ctx, a.AccountID, at.PolicyName)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, pca.Internal(fmt.Errorf("service: authorize: load policy %s: %w", at.PolicyName, err))
			}
			pol, err := iam.Parse(cp.Document)
			if err != nil {
				return nil, pca.Internal(fmt.Errorf("service: authorize: stored policy %s does not parse: %w", at.PolicyName, err))
			}
			np.policy = pol
		}
		pa.policies = append(pa.policies, np)
	}
	return pa, nil
}

// Authorize decides whether the caller may perform action (e.g.
// "yundun-cert:ListCert", "ram:CreateUser") on resources (ARNs built with
// CAARN, CertificateARN, UserARN, PolicyARN for the caller's own account, or
// AllResources; at least one). src is the caller's address (nil: unknown)
// and secure whether the call came over TLS; with the service clock they
// are the acs:SourceIp, acs:CurrentTime and acs:SecureTransport condition
// values.
//
// The account owner is always allowed. A RAM user is allowed when its
// attached policies allow the action on every resource and none denies it
// on any. Otherwise the error is a *pca.Error of KindPermission whose
// Denied field carries the AccessDeniedDetail.
//
// A principal's policies are cached for about a second (policyCacheTTL),
// or until invalidatePolicies drops them.
func (s *Service) Authorize(ctx context.Context, a Actor, action string, resources []string, src net.IP, secure bool) error {
	pa, err := s.principalAuth(ctx, a)
	if err != nil {
		return err
	}
	if pa.owner {
		return nil
	}
	req := iam.Request{Action: action, Resources: resources, SourceIP: src, Time: s.now(), Secure: secure}
	policies := make([]*iam.Policy, len(pa.policies))
	for i, np := range pa.policies {
		policies[i] = np.policy
	}
	d := iam.Evaluate(policies, req)
	if d == iam.Allow {
		return nil
	}
	denier := ""
	if d == iam.ExplicitDeny {
		for _, np := range pa.policies {
			if iam.Evaluate([]*iam.Policy{np.policy}, req) == iam.ExplicitDeny {
				denier = np.typ + "/" + np.name
				break
			}
		}
	}
	return s.denied(a, action, d, denier)
}

// denied builds the KindPermission error of a refused call.
func (s *Service) denied(a Actor, action string, d iam.Decision, denier string) error {
	detail := &pca.AccessDenied{
		Action:               action,
		PrincipalType:        principalTypeSubUser,
		PrincipalOwnerID:     strconv.FormatInt(a.AccountID, 10),
		PrincipalDisplayName: strconv.FormatInt(a.PrincipalID, 10),
		NoPermissionType:     d.String(),
		PolicyType:           policyTypeIdentity,
	}
	// The diagnostic names only what the caller already knows (it never
	// names resources, which may have been resolved from other parameters)
	// and, for an explicit deny, the policy that denied.
	diag := struct {
		AuthAction       string `json:"AuthAction"`
		NoPermissionType string `json:"NoPermissionType"`
		PolicyType       string `json:"PolicyType"`
		AccountID        string `json:"AuthPrincipalOwnerId"`
		PrincipalID      string `json:"AuthPrincipalDisplayName"`
		DenyingPolicy    string `json:"DenyingPolicy,omitempty"`
		Time             string `json:"Time"`
	}{detail.Action, detail.NoPermissionType, detail.PolicyType, detail.PrincipalOwnerID, detail.PrincipalDisplayName,
		denier, s.now().UTC().Format(time.RFC3339)}
	if b, err := json.Marshal(diag); err == nil {
		detail.EncodedDiagnosticMessage = base64.StdEncoding.EncodeToString(b)
	}
	msg := fmt.Sprintf("You are not authorized to perform %s: no policy attached to this RAM user allows it on the specified resource.", action)
	if d == iam.ExplicitDeny {
		msg = fmt.Sprintf("You are not authorized to perform %s: a policy attached to this RAM user explicitly denies it on the specified resource.", action)
	}
	return &pca.Error{Kind: pca.KindPermission, Msg: msg, Denied: detail}
}

// maxResolved caps the lookups ResolveARNs makes for one call; further
// values are named without a lookup.
const maxResolved = 64

// ResolveARNs names the resources that ids (of kind, as a tag call reads
// them: CA or certificate identifiers, or CA instance UUIDs standing for
// their CA) denote in the caller's account: CAARN of a CA (an instance's
// CA), CertificateARN of a certificate. An id that names nothing of the
// caller is named as the kind says (AnyResource: as both a CA and a
// certificate, so that permission on both is needed). Only a store failure
// is an error.
func (s *Service) ResolveARNs(ctx context.Context, a Actor, kind ResourceKind, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		if i < maxResolved {
			r, err := s.resolve(ctx, a, kind, "", id)
			if err == nil {
				if r.Certificate {
					out = append(out, CertificateARN(a.AccountID, r.ID))
				} else {
					out = append(out, CAARN(a.AccountID, r.ID))
				}
				continue
			}
			if pca.KindOf(err) != pca.KindNotFound {
				return nil, err
			}
		}
		if kind != CertificateResource {
			out = append(out, CAARN(a.AccountID, id))
		}
		if kind != CAResource {
			out = append(out, CertificateARN(a.AccountID, id))
		}
	}
	return out, nil
}

// InstanceARN names the CA that the caller's instance with numeric id
// (given as text) is bound to; an id that names no instance of the caller
// is named as a CA ("ca/<id>"). Only a store failure is an error.
func (s *Service) InstanceARN(ctx context.Context, a Actor, id string) (string, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return CAARN(a.AccountID, id), nil
	}
	in, err := s.store.GetInstanceByID(ctx, a.AccountID, n)
	if errors.Is(err, store.ErrNotFound) {
		return CAARN(a.AccountID, id), nil
	}
	if err != nil {
		return "", internal(err)
	}
	ca, err := s.store.GetCAByID(ctx, a.AccountID, in.CAID)
	if err != nil {
		return "", internal(fmt.Errorf("service: CA of instance %d: %w", n, err))
	}
	return CAARN(a.AccountID, ca.Identifier), nil
}

// SelfARN names the caller as a RAM user ("user/<its name>"), the resource
// of a RAM call that acts on the caller itself (no UserName given).
func (s *Service) SelfARN(ctx context.Context, a Actor) (string, error) {
	pa, err := s.principalAuth(ctx, a)
	if err != nil {
		return "", err
	}
	return UserARN(a.AccountID, pa.name), nil
}
