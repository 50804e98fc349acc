package iam

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Condition keys pcad supplies. Names are matched case-insensitively (as
// AWS documents for its context keys; RAM is silent).
type condKey uint8

const (
	keySourceIP        condKey = iota + 1 // acs:SourceIp: the client address
	keyCurrentTime                        // acs:CurrentTime: when the request arrived
	keySecureTransport                    // acs:SecureTransport: "true" over TLS
)

var condKeys = map[string]condKey{
	"acs:sourceip":        keySourceIP,
	"acs:currenttime":     keyCurrentTime,
	"acs:securetransport": keySecureTransport,
}

func (k condKey) String() string {
	switch k {
	case keySourceIP:
		return "acs:SourceIp"
	case keyCurrentTime:
		return "acs:CurrentTime"
	case keySecureTransport:
		return "acs:SecureTransport"
	}
	return "?"
}

// family is the value type an operator compares.
type family uint8

const (
	famString family = iota + 1
	famNumeric
	famDate
	famBool
	famIP
)

// families lists which operator families each key accepts. acs:SourceIp and
// acs:SecureTransport also take String operators on their text forms (RAM
// lists acs:SourceIp as a String key); acs:CurrentTime takes Numeric
// operators on its Unix time in seconds, as AWS allows for aws:EpochTime.
var families = map[condKey][]family{
	keySourceIP:        {famIP, famString},
	keyCurrentTime:     {famDate, famNumeric},
	keySecureTransport: {famBool, famString},
}

type cmpKind uint8

const (
	cmpEq     cmpKind = iota + 1 // equal (string, number, date, bool)
	cmpEqFold                    // equal ignoring case (string)
	cmpLike                      // glob with * and ? (string)
	cmpLT
	cmpLE
	cmpGT
	cmpGE
	cmpIn // address within prefix (IP)
)

// operator is a condition operator without its IfExists suffix. A negated
// operator is true when the positive comparison holds for none of the values.
type operator struct {
	fam     family
	cmp     cmpKind
	negated bool
}

// operators are RAM's ("Conditional operators": string, number, date and
// time, Boolean, IP address); each also exists with the suffix IfExists.
var operators = map[string]operator{
	"StringEquals":              {famString, cmpEq, false},
	"StringNotEquals":           {famString, cmpEq, true},
	"StringEqualsIgnoreCase":    {famString, cmpEqFold, false},
	"StringNotEqualsIgnoreCase": {famString, cmpEqFold, true},
	"StringLike":                {famString, cmpLike, false},
	"StringNotLike":             {famString, cmpLike, true},
	"NumericEquals":             {famNumeric, cmpEq, false},
	"NumericNotEquals":          {famNumeric, cmpEq, true},
	"NumericLessThan":           {famNumeric, cmpLT, false},
	"NumericLessThanEquals":     {famNumeric, cmpLE, false},
	"NumericGreaterThan":        {famNumeric, cmpGT, false},
	"NumericGreaterThanEquals":  {famNumeric, cmpGE, false},
	"DateEquals":                {famDate, cmpEq, false},
	"DateNotEquals":             {famDate, cmpEq, true},
	"DateLessThan":              {famDate, cmpLT, false},
	"DateLessThanEquals":        {famDate, cmpLE, false},
	"DateGreaterThan":           {famDate, cmpGT, false},
	"DateGreaterThanEquals":     {famDate, cmpGE, false},
	"Bool":                      {famBool, cmpEq, false},
	"IpAddress":                 {famIP, cmpIn, false},
	"NotIpAddress":              {famIP, cmpIn, true},
}

// condition is one (operator, key, values) triple. Values are parsed into
// the slice matching the operator's family.
type condition struct {
	op       operator
	ifExists bool
	key      condKey
	strs     []string
	nums     []float64
	times    []time.Time
	bools    []bool
	prefixes []netip.Prefix
}

// parseConditions validates a Condition block: an object of operators, each
// an object of keys, each a scalar or a non-empty list of scalars.
func parseConditions(path string, v *jval) ([]condition, error) {
	if v.kind != jObject {
		return nil, &ParseError{Path: path, Msg: "must be an object of operators, not " + v.describe()}
	}
	if len(v.keys) == 0 {
		return nil, &ParseError{Path: path, Msg: "must not be empty (omit Condition instead)"}
	}
	var out []condition
	for i, opName := range v.keys {
		opPath := pathKey(path, opName)
		base, ifExists := strings.CutSuffix(opName, "IfExists")
		op, ok := operators[base]
		if !ok {
			return nil, &ParseError{Path: opPath, Msg: "unknown condition operator (names are case-sensitive, e.g. StringEquals, IpAddress, DateLessThan, Bool)"}
		}
		block := v.vals[i]
		if block.kind != jObject {
			return nil, &ParseError{Path: opPath, Msg: "must be an object of condition keys, not " + block.describe()}
		}
		if len(block.keys) == 0 {
			return nil, &ParseError{Path: opPath, Msg: "must name at least one condition key"}
		}
		seen := map[condKey]bool{}
		for j, keyName := range block.keys {
			keyPath := pathKey(opPath, keyName)
			key, ok := condKeys[strings.ToLower(keyName)]
			if !ok {
				return nil, &ParseError{Path: keyPath, Msg: "unknown condition key; pcad supports acs:SourceIp, acs:CurrentTime and acs:SecureTransport"}
			}
			if seen[key] {
				return nil, &ParseError{Path: keyPath, Msg: "appears twice under this operator (condition keys are case-insensitive)"}
			}
			seen[key] = true
			if !acceptsFamily(key, op.fam) {
				return nil, &ParseError{Path: keyPath, Msg: fmt.Sprintf("operator %s cannot be used with %s", base, key)}
			}
			c := condition{op: op, ifExists: ifExists, key: key}
			if err := c.parseValues(keyPath, block.vals[j]); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func acceptsFamily(k condKey, f family) bool {
	for _, g := range families[k] {
		if g == f {
			return true
		}
	}
	return false
}

func (c *condition) parseValues(path string, v *jval) error {
	var elems []*jval
	switch v.kind {
	case jArray:
		if len(v.vals) == 0 {
			return &ParseError{Path: path, Msg: "must have at least one value"}
		}
		elems = v.vals
	default:
		elems = []*jval{v}
	}
	for i, e := range elems {
		p := indexPath(path, v, i)
		var text string
		switch e.kind {
		case jString, jNumber:
			text = e.str
		case jBool:
			text = strconv.FormatBool(e.b)
		default:
			return &ParseError{Path: p, Msg: "condition values must be strings, numbers or booleans, not " + e.describe()}
		}
		if msg := c.addValue(text); msg != "" {
			return &ParseError{Path: p, Msg: strconv.Quote(text) + " " + msg}
		}
	}
	return nil
}

// addValue parses one value for the condition's family; it returns a
// message when the value is invalid.
func (c *condition) addValue(s string) string {
	switch c.op.fam {
	case famString:
		c.strs = append(c.strs, s)
	case famNumeric:
		// Decimal only: ParseFloat would also take "0x1p3", "Inf" and "1_0".
		if strings.Trim(s, "0123456789.+-eE") != "" {
			return "is not a number"
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "is not a number"
		}
		c.nums = append(c.nums, f)
	case famDate:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return `is not an ISO 8601 date-time such as "2019-08-12T17:00:00+08:00" or "2019-08-12T09:00:00Z"`
		}
		c.times = append(c.times, t)
	case famBool:
		switch strings.ToLower(s) {
		case "true":
			c.bools = append(c.bools, true)
		case "false":
			c.bools = append(c.bools, false)
		default:
			return `is not a boolean ("true" or "false")`
		}
	case famIP:
		p, ok := parseIPOrCIDR(s)
		if !ok {
			return "is not an IP address or CIDR"
		}
		c.prefixes = append(c.prefixes, p)
	}
	return ""
}

// parseIPOrCIDR accepts an IPv4/IPv6 address (a /32 or /128) or a CIDR
// block; host bits in a CIDR are masked off; IPv4-mapped IPv6 forms become
// IPv4 so they match IPv4 clients. Zones (fe80::1%eth0) are refused.
func parseIPOrCIDR(s string) (netip.Prefix, bool) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, false
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return p.Masked(), true
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// reqContext holds the condition key values of one request, computed once.
type reqContext struct {
	hasIP   bool
	ip      netip.Addr
	ipText  string
	hasTime bool
	time    time.Time // truncated to the second, as RAM/AWS compare dates
	secure  bool
}

func newReqContext(req Request) reqContext {
	var rc reqContext
	if a, ok := netip.AddrFromSlice(req.SourceIP); ok {
		rc.hasIP, rc.ip = true, a.Unmap()
	}
	if !req.Time.IsZero() {
		rc.hasTime, rc.time = true, req.Time.Truncate(time.Second)
	}
	rc.secure = req.Secure
	return rc
}

// holds reports whether the condition is true for the request. A key absent
// from the request makes a positive operator false and a negated operator
// (StringNot*, NumericNotEquals, DateNotEquals, NotIpAddress) true, as AWS
// documents; the IfExists forms are true when the key is absent.
func (c *condition) holds(rc *reqContext) bool {
	present := true
	switch c.key {
	case keySourceIP:
		present = rc.hasIP
	case keyCurrentTime:
		present = rc.hasTime
	}
	if !present {
		return c.ifExists || c.op.negated
	}
	return c.anyMatch(rc) != c.op.negated
}

// anyMatch reports whether the positive comparison holds for at least one
// of the condition's values (several values of one key are ORed).
func (c *condition) anyMatch(rc *reqContext) bool {
	switch c.op.fam {
	case famString:
		var s string
		if c.key == keySourceIP {
			if rc.ipText == "" {
				rc.ipText = rc.ip.String()
			}
			s = rc.ipText
		} else {
			s = strconv.FormatBool(rc.secure)
		}
		for _, v := range c.strs {
			switch {
			case c.op.cmp == cmpEq && s == v,
				c.op.cmp == cmpEqFold && strings.EqualFold(s, v),
				c.op.cmp == cmpLike && glob(v, s, false):
				return true
			}
		}
	case famNumeric:
		x := float64(rc.time.Unix())
		for _, v := range c.nums {
			if compare(cmpFloat(x, v), c.op.cmp) {
				return true
			}
		}
	case famDate:
		for _, v := range c.times {
			if compare(rc.time.Compare(v), c.op.cmp) {
				return true
			}
		}
	case famBool:
		for _, v := range c.bools {
			if rc.secure == v {
				return true
			}
		}
	case famIP:
		for _, p := range c.prefixes {
			if p.Contains(rc.ip) {
				return true
			}
		}
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare applies an ordering comparison to the sign of (request - value).
func compare(sign int, k cmpKind) bool {
	switch k {
	case cmpEq:
		return sign == 0
	case cmpLT:
		return sign < 0
	case cmpLE:
		return sign <= 0
	case cmpGT:
		return sign > 0
	case cmpGE:
		return sign >= 0
	}
	return false
}
