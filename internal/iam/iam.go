// Package iam parses Alibaba Cloud RAM policy documents and decides requests
// against them. It is a pure core (upspin access.Parse/Can): Parse turns a
// JSON document into an immutable *Policy once; Evaluate is a pure function
// of policies and a Request, with no I/O, clock or globals.
//
// The grammar follows the RAM reference pages "Policy structure and syntax",
// "Policy elements" and "Conditional operators" (alibabacloud.com/help/en/ram):
//
//	{"Version": "1",
//	 "Statement": [{"Sid": "...",                      optional, ignored
//	                "Effect": "Allow" | "Deny",
//	                "Action" | "NotAction": "*" | "svc:Name" | [...],
//	                "Resource": "*" | "acs:svc:region:account:relative" | [...],
//	                "Condition": {"<Operator>": {"<key>": value | [values]}}}]}
//
// Parse is strict, so that a policy pcad could not enforce exactly is refused
// when it is written rather than misread when it is used:
//   - Element names, operators, "Allow"/"Deny" and "1" are case-sensitive
//     (RAM: "Element names, operators, and predefined values are
//     case-sensitive"); unknown elements, operators and condition keys and
//     duplicate JSON keys are errors.
//   - Statement must be a list, as in RAM's grammar, even for one statement.
//   - NotAction is supported (RAM documents it); NotResource is not in RAM's
//     element list and Principal belongs to resource-based policies only:
//     both are refused.
//   - Condition keys: acs:SourceIp, acs:CurrentTime, acs:SecureTransport
//     (names case-insensitive). Operators: the String, Numeric, Date, Bool
//     and IpAddress/NotIpAddress families of RAM, each also with the suffix
//     IfExists. Dates are ISO 8601 date-times with a zone (RFC 3339, e.g.
//     "2019-08-12T17:00:00+08:00"), compared to the second; Numeric operators
//     apply to acs:CurrentTime as Unix seconds (AWS's aws:EpochTime
//     precedent); String operators apply to the text of acs:SourceIp and
//     acs:SecureTransport.
//   - A document has at most MaxDocumentChars characters and MaxStatements
//     statements.
//
// Evaluation: a request is ExplicitDeny if any Deny statement matches its
// action, any of its resources and its conditions; else Allow if every
// resource is matched by some Allow statement whose action and conditions
// match; else ImplicitDeny. Matching rules are documented on Evaluate.
package iam

import (
	"strconv"
	"strings"
)

// Limits on one policy document.
const (
	// MaxDocumentChars is RAM's limit on a policy document (CreatePolicy:
	// "The document must be 1 to 6,144 characters in length"), counted in
	// Unicode characters, whitespace included.
	MaxDocumentChars = 6144
	// MaxStatements caps the statements in one document. The size limit
	// alone allows about 130 minimal statements; 100 is plenty for any real
	// policy and bounds evaluation cost.
	MaxStatements = 100
)

// Decision is the outcome of Evaluate. Its String values are the
// NoPermissionType values of Alibaba's AccessDeniedDetail.
type Decision int

// Decisions. ImplicitDeny is the zero value: nothing allowed it.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// ParseError reports why a policy document was refused. Path names the
// element, e.g. `Statement[1].Condition.IpAddress."acs:SourceIp"` (statement
// and list indexes are zero-based; keys that are not plain identifiers are
// quoted). Path is empty for errors about the document as a whole (size,
// encoding, JSON syntax).
type ParseError struct {
	Path string
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// ARN builds the resource name "acs:<service>:*:<accountID>:<relative>".
// pcad has no regions, so the region is "*"; a request ARN whose region is
// "*" is matched by a policy ARN naming any region (see Evaluate).
func ARN(service string, accountID int64, relative string) string {
	return "acs:" + service + ":*:" + strconv.FormatInt(accountID, 10) + ":" + relative
}

// arnParts splits "acs:svc:region:account:relative" (relative may contain
// ':'). ok is false when s is not of that form.
func arnParts(s string) (svc, region, account, rel string, ok bool) {
	if len(s) < 4 || !strings.EqualFold(s[:4], "acs:") {
		return "", "", "", "", false
	}
	rest := s[4:]
	var ok1, ok2, ok3 bool
	svc, rest, ok1 = strings.Cut(rest, ":")
	region, rest, ok2 = strings.Cut(rest, ":")
	account, rel, ok3 = strings.Cut(rest, ":")
	if !ok1 || !ok2 || !ok3 {
		return "", "", "", "", false
	}
	return svc, region, account, rel, true
}
