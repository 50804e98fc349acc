package casapi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
)

// binder reads typed parameters and keeps the first error, so a handler can
// read everything and check once. Every message names the parameter.
type binder struct {
	p   openapi.Params
	err error
}

func newBinder(r *openapi.Request) *binder { return &binder{p: r.Params} }

func (b *binder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// has reports whether the parameter is present (even if empty).
func (b *binder) has(name string) bool {
	_, ok := b.p.Get(name)
	return ok
}

// str returns a string parameter. required rejects absent or empty values;
// maxLen > 0 caps the length in characters.
func (b *binder) str(name string, required bool, maxLen int) string {
	v, _ := b.p.Get(name)
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		b.fail(pca.Missing(name))
	case !utf8.ValidString(v):
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid UTF-8.", name))
	case maxLen > 0 && utf8.RuneCountInString(v) > maxLen:
		b.fail(pca.Invalid(name, "The specified parameter %s is too long: at most %d characters.", name, maxLen))
	}
	return v
}

// integer returns an integer parameter in [min, max], def when absent.
// Only plain decimal digits (with an optional minus) are accepted: out-of-range
// values are errors, never clamped.
func (b *binder) integer(name string, required bool, min, max, def int64) int64 {
	v, ok := b.p.Get(name)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		if required {
			b.fail(pca.Missing(name))
		}
		return def
	}
	n, err := parseDecimal(v)
	if err != nil || n < min || n > max {
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid: %q is not an integer from %d to %d.", name, v, min, max))
		return def
	}
	return n
}

func parseDecimal(v string) (int64, error) {
	digits := strings.TrimPrefix(v, "-")
	if digits == "" || len(digits) > 18 {
		return 0, fmt.Errorf("not a number")
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, fmt.Errorf("not a number")
		}
	}
	return strconv.ParseInt(v, 10, 64)
}

// flag reads a boolean that the API spells either true/false or 1/0.
func (b *binder) flag(name string) bool {
	v, ok := b.p.Get(name)
	if !ok || strings.TrimSpace(v) == "" {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	b.fail(pca.Invalid(name, "The specified parameter %s is not valid: %q is not one of true, false, 1, 0.", name, v))
	return false
}

// oneOf reads an enumerated string; "" when absent.
func (b *binder) oneOf(name string, required bool, allowed ...string) string {
	v := b.str(name, required, 0)
	if v == "" {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	b.fail(pca.Invalid(name, "The specified parameter %s is not valid: %q is not one of %s.", name, v, strings.Join(allowed, ", ")))
	return ""
}

// algorithm reads a key algorithm.
func (b *binder) algorithm(name string, required bool) pca.Algorithm {
	v := b.str(name, required, 0)
	if v == "" {
		return ""
	}
	a, err := pca.ParseAlgorithm(name, v)
	if err != nil {
		b.fail(err)
	}
	return a
}

// tags reads Tags.N.Key / Tags.N.Value (at most 20, keys unique).
func (b *binder) tags(name string) []pca.Tag {
	objs := b.p.Objects(name)
	if len(objs) > 20 {
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid: at most 20 tags.", name))
		return nil
	}
	var out []pca.Tag
	seen := map[string]bool{}
	for i, o := range objs {
		k := strings.TrimSpace(o["Key"])
		v := o["Value"]
		if k == "" || utf8.RuneCountInString(k) > 128 || utf8.RuneCountInString(v) > 128 {
			b.fail(pca.Invalid(name, "The specified parameter %s.%d is not valid: a tag needs a Key of 1 to 128 characters and a Value of at most 128.", name, i+1))
			return nil
		}
		if seen[k] {
			b.fail(pca.Invalid(name, "The specified parameter %s is not valid: the tag key %q appears twice.", name, k))
			return nil
		}
		seen[k] = true
		out = append(out, pca.Tag{Key: k, Value: v})
	}
	return out
}

// list reads Name.1, Name.2, ...
func (b *binder) list(name string) []string {
	var out []string
	for _, v := range b.p.List(name) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
