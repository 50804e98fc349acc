package openapi

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Params are the parameters of one request: the URL query string and, for an
// application/x-www-form-urlencoded body, the form body, merged. When a name
// appears in both, the body's values replace the query's (the official
// client puts ClientToken in the body and everything else in the query).
// For a V1-signed request the Signature parameter is removed; the other
// common parameters (AccessKeyId, Timestamp, Format, RegionId, ...) stay and
// handlers ignore what they do not define.
//
// The zero Params has no parameters. Params is immutable and safe for
// concurrent use.
type Params struct {
	v     url.Values
	names []string // sorted
}

// NewParams returns Params holding a copy of v. It exists so other packages
// can build requests in tests.
func NewParams(v url.Values) Params {
	c := make(url.Values, len(v))
	for k, vals := range v {
		c[k] = slices.Clone(vals)
	}
	return Params{v: c, names: sortedKeys(c)}
}

// Get returns the first value of the parameter named exactly name, and
// whether it was present (an empty value counts as present).
func (p Params) Get(name string) (string, bool) {
	vals, ok := p.v[name]
	if !ok || len(vals) == 0 {
		return "", false
	}
	return vals[0], true
}

// GetFold is Get with a case-insensitive name: an exact match wins; otherwise
// the first name in sorted order that equals name under Unicode case folding.
// The wire sends "customIdentifier" on some calls and "CustomIdentifier" on
// others.
func (p Params) GetFold(name string) (string, bool) {
	if v, ok := p.Get(name); ok {
		return v, true
	}
	for _, n := range p.names {
		if strings.EqualFold(n, name) {
			return p.Get(n)
		}
	}
	return "", false
}

// Names returns all parameter names in sorted order. The caller owns the
// returned slice.
func (p Params) Names() []string {
	return slices.Clone(p.names)
}

// Len returns the number of distinct parameter names.
func (p Params) Len() int { return len(p.names) }

// List returns the values of a flattened list parameter, Name.1, Name.2, ...
// (A.2), stopping at the first missing index. It returns nil when Name.1 is
// absent.
func (p Params) List(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := p.Get(name + "." + strconv.Itoa(i))
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// Objects returns the elements of a flattened list of objects,
// Name.N.Field=value (A.2), as one map Field -> value per index N = 1, 2, ...,
// stopping at the first index with no field. Nested fields keep their dots
// ("Name.1.A.B" gives key "A.B").
func (p Params) Objects(name string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		prefix := name + "." + strconv.Itoa(i) + "."
		var m map[string]string
		// Names sharing a prefix are contiguous in sorted order.
		start, _ := slices.BinarySearch(p.names, prefix)
		for _, n := range p.names[start:] {
			field, ok := strings.CutPrefix(n, prefix)
			if !ok {
				break
			}
			if field == "" {
				continue
			}
			if m == nil {
				m = make(map[string]string)
			}
			m[field], _ = p.Get(n)
		}
		if m == nil {
			return out
		}
		out = append(out, m)
	}
}

// mergeParams returns query with body's names replacing query's.
func mergeParams(query, body url.Values) url.Values {
	m := make(url.Values, len(query)+len(body))
	for k, v := range query {
		m[k] = v
	}
	for k, v := range body {
		m[k] = v
	}
	return m
}
