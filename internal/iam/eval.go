package iam

import (
	"net"
	"strings"
	"time"
	"unicode/utf8"
)

// Request is what is being asked.
type Request struct {
	Action    string    // e.g. "yundun-cert:ListCert" or "ram:CreateUser"
	Resources []string  // ARNs, e.g. "acs:yundun-cert:*:1000000000000001:ca/<id>"; at least one ("*" means the call has no resource-level target)
	SourceIP  net.IP    // nil: acs:SourceIp is absent
	Time      time.Time // zero: acs:CurrentTime is absent
	Secure    bool      // arrived over TLS
}

// Evaluate decides req against the policies: any matching Deny statement ->
// ExplicitDeny; else every resource covered by some matching Allow -> Allow;
// else ImplicitDeny. It is pure: same inputs, same answer. Nil policies are
// skipped; a request with no Action or no Resources is ImplicitDeny (fail
// closed: a caller that forgot the target must not slip past a Deny).
//
// A statement matches when all of these hold:
//   - Action: one of its patterns matches req.Action (NotAction: none does).
//     Matching ignores ASCII case in both the service and the action name
//     ("yundun-cert:listcert" == "Yundun-Cert:ListCert"), since RAM
//     documents Action values as "in most cases not case-sensitive"; '*' matches any run of characters, '?' exactly one.
//   - Resource: the pattern "*" matches every resource, including the
//     request resource "*". An ARN pattern matches a request ARN segment by
//     segment: the service case-insensitively; region, account and
//     relative-id as case-sensitive globs, except that a request region of
//     "*" (pcad is regionless, see ARN) matches any region. An ARN pattern
//     never matches the request resource "*" (an action with no
//     resource-level target), as in RAM/AWS, where such actions need "*".
//   - Condition: every (operator, key) pair holds (AND); a pair holds when
//     any of its values matches (OR), or for a negated operator when none
//     does. A key absent from the request (SourceIP nil, Time zero) makes
//     a positive operator false and a negated one (StringNot*,
//     NumericNotEquals, DateNotEquals, NotIpAddress) true, as AWS
//     documents, so "Deny unless NotIpAddress" also denies an unknown
//     source; the ...IfExists forms are true when the key is absent.
//
// A Deny statement applies when it matches any one of the resources; an
// Allow covers only the resources it matches, and every resource must be
// covered.
func Evaluate(policies []*Policy, req Request) Decision {
	if req.Action == "" || len(req.Resources) == 0 {
		return ImplicitDeny
	}
	act := splitRequestAction(req.Action)
	rc := newReqContext(req)
	var rbuf [4]reqResource
	rs := rbuf[:0]
	for _, r := range req.Resources {
		rs = append(rs, splitRequestResource(r))
	}
	for _, p := range policies {
		if p == nil {
			continue
		}
		for _, s := range p.denies {
			if !s.matchesAction(&act) {
				continue
			}
			for i := range rs {
				if s.matchesResource(&rs[i]) {
					if s.conditionsHold(&rc) {
						return ExplicitDeny
					}
					break
				}
			}
		}
	}
	var cbuf [8]bool
	covered := cbuf[:0]
	for range rs {
		covered = append(covered, false)
	}
	remaining := len(rs)
	for _, p := range policies {
		if p == nil {
			continue
		}
		for _, s := range p.allows {
			if !s.matchesAction(&act) {
				continue
			}
			condChecked, condOK := false, false
			for i := range rs {
				if covered[i] || !s.matchesResource(&rs[i]) {
					continue
				}
				if !condChecked {
					condChecked, condOK = true, s.conditionsHold(&rc)
				}
				if !condOK {
					break
				}
				covered[i] = true
				remaining--
			}
			if remaining == 0 {
				return Allow
			}
		}
	}
	return ImplicitDeny
}

// reqAction is the request action split once per Evaluate: svc is
// lower-cased (without allocating when it already is, as usual); name keeps
// its case and is compared case-insensitively.
type reqAction struct {
	ok        bool // has the form "<service>:<name>"
	svc, name string
}

func splitRequestAction(a string) reqAction {
	svc, name, ok := strings.Cut(a, ":")
	return reqAction{ok: ok, svc: toLowerASCII(svc), name: name}
}

// toLowerASCII lower-cases ASCII letters only (strings.ToLower would also
// map e.g. the Kelvin sign to 'k'), allocating only when s has upper case.
func toLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}

func (p *actionPattern) matches(a *reqAction) bool {
	switch {
	case p.all:
		return true
	case !a.ok:
		return false
	case p.svcLiteral && p.svc != a.svc:
		return false
	case !p.svcLiteral && !glob(p.svc, a.svc, false):
		return false
	}
	return glob(p.name, a.name, true)
}

func (s *statement) matchesAction(a *reqAction) bool {
	for i := range s.actions {
		if s.actions[i].matches(a) {
			return !s.notAction
		}
	}
	return s.notAction
}

func (s *statement) matchesResource(r *reqResource) bool {
	for i := range s.resources {
		if s.resources[i].matches(r) {
			return true
		}
	}
	return false
}

func (s *statement) conditionsHold(rc *reqContext) bool {
	for i := range s.conditions {
		if !s.conditions[i].holds(rc) {
			return false
		}
	}
	return true
}

// reqResource is a request resource split once per Evaluate.
type reqResource struct {
	isARN                     bool
	svc, region, account, rel string
}

func splitRequestResource(r string) reqResource {
	svc, region, account, rel, ok := arnParts(r)
	if !ok {
		return reqResource{}
	}
	return reqResource{isARN: true, svc: svc, region: region, account: account, rel: rel}
}

func (p *resourcePattern) matches(r *reqResource) bool {
	if p.any {
		return true
	}
	if !r.isARN {
		return false
	}
	return glob(p.svc, r.svc, true) &&
		(r.region == "*" || glob(p.region, r.region, false)) &&
		glob(p.account, r.account, false) &&
		glob(p.rel, r.rel, false)
}

// glob reports whether s matches pattern, where '*' matches any run of
// characters (including none) and '?' exactly one character. With fold,
// ASCII letters compare case-insensitively. It backtracks only to the last
// '*', so it runs in O(len(pattern)*len(s)) at worst.
func glob(pattern, s string, fold bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				starP, starI = p, i
				p++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[i:])
				p++
				i += n
				continue
			default:
				if c == s[i] || fold && lowerASCII(c) == lowerASCII(s[i]) {
					p++
					i++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '*' absorb one more character and retry after it.
		_, n := utf8.DecodeRuneInString(s[starI:])
		starI += n
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
