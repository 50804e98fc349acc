package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Policy is a parsed, validated policy document. It is immutable and safe
// for concurrent use.
type Policy struct {
	allows []*statement
	denies []*statement
}

// statement is one validated Statement element.
type statement struct {
	deny       bool
	notAction  bool
	actions    []actionPattern
	resources  []resourcePattern
	conditions []condition
}

// actionPattern is one Action value, lower-cased and split at the colon so
// that the service, usually a literal, is compared without globbing.
type actionPattern struct {
	all        bool   // the pattern "*"
	svcLiteral bool   // svc has no wildcard
	svc, name  string // glob patterns
}

// resourcePattern is one Resource value: "*" or an ARN whose segments are
// glob patterns.
type resourcePattern struct {
	any                       bool // the pattern "*": every resource, including "*"
	svc, region, account, rel string
}

// Parse validates doc and returns the policy. Errors are *ParseError.
func Parse(doc string) (*Policy, error) {
	if doc == "" {
		return nil, &ParseError{Msg: "policy document is empty"}
	}
	if !utf8.ValidString(doc) {
		return nil, &ParseError{Msg: "policy document is not valid UTF-8"}
	}
	if n := utf8.RuneCountInString(doc); n > MaxDocumentChars {
		return nil, &ParseError{Msg: fmt.Sprintf("policy document has %d characters; the limit is %d", n, MaxDocumentChars)}
	}
	root, err := decodeJSON(doc)
	if err != nil {
		return nil, err
	}
	if root.kind != jObject {
		return nil, &ParseError{Msg: "policy document must be a JSON object"}
	}
	p := &Policy{}
	var version, stmts *jval
	for i, k := range root.keys {
		switch k {
		case "Version":
			version = root.vals[i]
		case "Statement":
			stmts = root.vals[i]
		default:
			return nil, &ParseError{Path: pathKey("", k), Msg: "unknown element; a policy has only Version and Statement"}
		}
	}
	if version == nil {
		return nil, &ParseError{Path: "Version", Msg: `is required and must be "1"`}
	}
	if version.kind != jString || version.str != "1" {
		return nil, &ParseError{Path: "Version", Msg: fmt.Sprintf(`must be the string "1", not %s`, version.describe())}
	}
	if stmts == nil {
		return nil, &ParseError{Path: "Statement", Msg: "is required"}
	}
	switch {
	case stmts.kind == jObject:
		return nil, &ParseError{Path: "Statement", Msg: "must be a list of statements: wrap the single statement in [ ]"}
	case stmts.kind != jArray:
		return nil, &ParseError{Path: "Statement", Msg: "must be a list of statements, not " + stmts.describe()}
	case len(stmts.vals) == 0:
		return nil, &ParseError{Path: "Statement", Msg: "must contain at least one statement"}
	case len(stmts.vals) > MaxStatements:
		return nil, &ParseError{Path: "Statement", Msg: fmt.Sprintf("has %d statements; the limit is %d", len(stmts.vals), MaxStatements)}
	}
	for i, v := range stmts.vals {
		s, err := parseStatement("Statement["+strconv.Itoa(i)+"]", v)
		if err != nil {
			return nil, err
		}
		if s.deny {
			p.denies = append(p.denies, s)
		} else {
			p.allows = append(p.allows, s)
		}
	}
	return p, nil
}

func parseStatement(path string, v *jval) (*statement, error) {
	if v.kind != jObject {
		return nil, &ParseError{Path: path, Msg: "must be an object, not " + v.describe()}
	}
	s := &statement{}
	var effect, action, notAction, resource, cond *jval
	for i, k := range v.keys {
		val := v.vals[i]
		switch k {
		case "Sid":
			if val.kind != jString {
				return nil, &ParseError{Path: pathKey(path, k), Msg: "must be a string, not " + val.describe()}
			}
		case "Effect":
			effect = val
		case "Action":
			action = val
		case "NotAction":
			notAction = val
		case "Resource":
			resource = val
		case "Condition":
			cond = val
		case "Principal":
			return nil, &ParseError{Path: pathKey(path, k), Msg: "is only for resource-based policies, not for identity policies"}
		default:
			return nil, &ParseError{Path: pathKey(path, k), Msg: "unknown element; a statement has Effect, Action or NotAction, Resource, and optionally Condition and Sid"}
		}
	}
	switch {
	case effect == nil:
		return nil, &ParseError{Path: path + ".Effect", Msg: `is required ("Allow" or "Deny")`}
	case effect.kind == jString && effect.str == "Allow":
	case effect.kind == jString && effect.str == "Deny":
		s.deny = true
	default:
		return nil, &ParseError{Path: path + ".Effect", Msg: fmt.Sprintf(`must be "Allow" or "Deny" (case-sensitive), not %s`, effect.describe())}
	}
	switch {
	case action != nil && notAction != nil:
		return nil, &ParseError{Path: path, Msg: "has both Action and NotAction; use one"}
	case action == nil && notAction == nil:
		return nil, &ParseError{Path: path + ".Action", Msg: "is required (or NotAction)"}
	case notAction != nil:
		s.notAction = true
		action = notAction
	}
	actPath := path + ".Action"
	if s.notAction {
		actPath = path + ".NotAction"
	}
	acts, err := stringList(actPath, action)
	if err != nil {
		return nil, err
	}
	for i, a := range acts {
		if msg := checkAction(a); msg != "" {
			return nil, &ParseError{Path: indexPath(actPath, action, i), Msg: strconv.Quote(a) + " " + msg}
		}
		s.actions = append(s.actions, newActionPattern(a))
	}
	if resource == nil {
		return nil, &ParseError{Path: path + ".Resource", Msg: `is required ("*" or ARNs)`}
	}
	resPath := path + ".Resource"
	res, err := stringList(resPath, resource)
	if err != nil {
		return nil, err
	}
	for i, r := range res {
		rp, msg := parseResource(r)
		if msg != "" {
			return nil, &ParseError{Path: indexPath(resPath, resource, i), Msg: strconv.Quote(r) + " " + msg}
		}
		s.resources = append(s.resources, rp)
	}
	if cond != nil {
		s.conditions, err = parseConditions(path+".Condition", cond)
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// stringList accepts a string or a non-empty list of non-empty strings.
func stringList(path string, v *jval) ([]string, error) {
	switch v.kind {
	case jString:
		if v.str == "" {
			return nil, &ParseError{Path: path, Msg: "must not be empty"}
		}
		return []string{v.str}, nil
	case jArray:
		if len(v.vals) == 0 {
			return nil, &ParseError{Path: path, Msg: "must not be an empty list"}
		}
		out := make([]string, 0, len(v.vals))
		for i, e := range v.vals {
			p := path + "[" + strconv.Itoa(i) + "]"
			if e.kind != jString {
				return nil, &ParseError{Path: p, Msg: "must be a string, not " + e.describe()}
			}
			if e.str == "" {
				return nil, &ParseError{Path: p, Msg: "must not be empty"}
			}
			out = append(out, e.str)
		}
		return out, nil
	}
	return nil, &ParseError{Path: path, Msg: "must be a string or a list of strings, not " + v.describe()}
}

// indexPath is path[i] when v is a list, else path.
func indexPath(path string, v *jval, i int) string {
	if v.kind == jArray {
		return path + "[" + strconv.Itoa(i) + "]"
	}
	return path
}

// checkAction returns "" when a is "*" or "<ram-code>:<action-name>" made of
// letters, digits, '-', '_', '.' and the wildcards '*' and '?'.
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return `must be "*" or "<service>:<action>", e.g. "yundun-cert:ListCert"`
	}
	for _, part := range [2]string{svc, name} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '-' || c == '_' || c == '.' || c == '*' || c == '?') {
				return fmt.Sprintf("contains %q; actions use letters, digits, '-', '_', '.', '*' and '?'", c)
			}
		}
	}
	return ""
}

func newActionPattern(a string) actionPattern {
	if a == "*" {
		return actionPattern{all: true}
	}
	svc, name, _ := strings.Cut(strings.ToLower(a), ":")
	return actionPattern{svc: svc, name: name, svcLiteral: !strings.ContainsAny(svc, "*?")}
}

// parseResource validates "*" or "acs:<service>:<region>:<account>:<relative>".
// Region and account may be empty (RAM writes "acs:ram::<account>:user/x").
func parseResource(r string) (resourcePattern, string) {
	for _, c := range r {
		if c < 0x20 || c == 0x7f {
			return resourcePattern{}, "contains a control character"
		}
	}
	if r == "*" {
		return resourcePattern{any: true}, ""
	}
	svc, region, account, rel, ok := arnParts(r)
	if !ok {
		return resourcePattern{}, `must be "*" or an ARN "acs:<service>:<region>:<account-id>:<relative-id>"`
	}
	if svc == "" {
		return resourcePattern{}, "has an empty service in its ARN"
	}
	if rel == "" {
		return resourcePattern{}, `has an empty relative-id in its ARN (use "*" for all)`
	}
	return resourcePattern{svc: strings.ToLower(svc), region: region, account: account, rel: rel}, ""
}

// pathKey appends key k to path, quoting keys that are not plain identifiers.
func pathKey(path, k string) string {
	plain := k != ""
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			plain = false
			break
		}
	}
	if !plain {
		k = strconv.Quote(k)
	}
	if path == "" {
		return k
	}
	return path + "." + k
}

// A jval is a decoded JSON value that keeps object keys in order, so that
// duplicate keys (which encoding/json silently merges) can be refused.
type jval struct {
	kind jkind
	str  string // jString value; jNumber text
	b    bool
	keys []string // jObject
	vals []*jval  // jObject values (aligned with keys) or jArray elements
}

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (v *jval) describe() string {
	switch v.kind {
	case jNull:
		return "null"
	case jBool:
		return "a boolean"
	case jNumber:
		return "the number " + v.str
	case jString:
		return "the string " + strconv.Quote(v.str)
	case jArray:
		return "a list"
	}
	return "an object"
}

func decodeJSON(doc string) (*jval, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	v, err := readValue(dec, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ParseError{Msg: "invalid JSON: unexpected data after the policy object"}
	}
	return v, nil
}

func readValue(dec *json.Decoder, path string) (*jval, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(err)
	}
	switch t := tok.(type) {
	case nil:
		return &jval{kind: jNull}, nil
	case bool:
		return &jval{kind: jBool, b: t}, nil
	case json.Number:
		return &jval{kind: jNumber, str: string(t)}, nil
	case string:
		return &jval{kind: jString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &jval{kind: jArray}
			for dec.More() {
				e, err := readValue(dec, path+"["+strconv.Itoa(len(v.vals))+"]")
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, e)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, jsonError(err)
			}
			return v, nil
		case '{':
			v := &jval{kind: jObject}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, jsonError(err)
				}
				k, _ := kt.(string) // the decoder only yields string keys here
				if seen[k] {
					return nil, &ParseError{Path: pathKey(path, k), Msg: "appears twice"}
				}
				seen[k] = true
				e, err := readValue(dec, pathKey(path, k))
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k)
				v.vals = append(v.vals, e)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, jsonError(err)
			}
			return v, nil
		}
	}
	return nil, &ParseError{Msg: "invalid JSON"}
}

func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &ParseError{Msg: fmt.Sprintf("invalid JSON at offset %d: %v", se.Offset, se)}
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ParseError{Msg: "invalid JSON: unexpected end of document"}
	}
	return &ParseError{Msg: "invalid JSON: " + err.Error()}
}
