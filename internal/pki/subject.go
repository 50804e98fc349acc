package pki

import (
	"crypto/x509/pkix"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Upper bounds, in characters, of the subject attributes (RFC 5280 appendix
// A.1: ub-common-name, ub-organization-name, ub-organizational-unit-name,
// ub-locality-name, ub-state-name).
const (
	MaxCommonName       = 64
	MaxOrganization     = 64
	MaxOrganizationUnit = 64
	MaxLocality         = 128
	MaxState            = 128
)

// Name turns a pca.Subject into a pkix.Name. Empty fields are omitted; no
// other change is made (call ValidateSubject first).
func Name(s pca.Subject) pkix.Name {
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	return pkix.Name{
		CommonName:         s.CommonName,
		Organization:       one(s.Organization),
		OrganizationalUnit: one(s.OrganizationUnit),
		Locality:           one(s.Locality),
		Province:           one(s.State),
		Country:            one(s.Country),
	}
}

// SubjectFromName is the inverse of Name for the attributes pca.Subject
// holds: it takes the first value of each attribute of n.
func SubjectFromName(n pkix.Name) pca.Subject {
	first := func(v []string) string {
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	return pca.Subject{
		CommonName:       n.CommonName,
		Organization:     first(n.Organization),
		OrganizationUnit: first(n.OrganizationalUnit),
		Locality:         first(n.Locality),
		State:            first(n.Province),
		Country:          first(n.Country),
	}
}

// SubjectDN renders n as an RFC 4514 string, most specific attribute first
// (for example "CN=www.example.com,O=Example,C=CN"). Pass the Subject of a
// parsed certificate to render exactly what was issued.
func SubjectDN(n pkix.Name) string { return n.String() }

// ValidateSubject checks and normalises the subject fields of a create call
// and returns the normalised subject. Every field has surrounding white space
// removed; a field that is then empty counts as absent. CommonName is
// required (pca.Missing("CommonName")); which other fields an action requires
// is the caller's business. Each present field must be valid UTF-8 made of
// printable characters (no control, format or private-use characters) and no
// longer than the RFC 5280 bound (MaxCommonName and so on, counted in
// characters). Country, when present, must be two ASCII letters and is
// upper-cased; countryParam names it in errors: "CountryCode" on CA calls,
// "Country" on end-entity calls. Errors are *pca.Error with the parameter
// name as Param.
func ValidateSubject(s pca.Subject, countryParam string) (pca.Subject, error) {
	return validateSubject(s, "", countryParam, true)
}

// validateSubject is ValidateSubject with every parameter name but the
// country's prefixed by prefix, and CommonName optional unless requireCN.
func validateSubject(s pca.Subject, prefix, countryParam string, requireCN bool) (pca.Subject, error) {
	fields := []struct {
		param string
		value *string
		max   int
	}{
		{prefix + "CommonName", &s.CommonName, MaxCommonName},
		{prefix + "Organization", &s.Organization, MaxOrganization},
		{prefix + "OrganizationUnit", &s.OrganizationUnit, MaxOrganizationUnit},
		{prefix + "Locality", &s.Locality, MaxLocality},
		{prefix + "State", &s.State, MaxState},
	}
	for _, f := range fields {
		*f.value = strings.TrimSpace(*f.value)
		if err := checkText(f.param, *f.value, f.max); err != nil {
			return pca.Subject{}, err
		}
	}
	if requireCN && s.CommonName == "" {
		return pca.Subject{}, pca.Missing(prefix + "CommonName")
	}
	s.Country = strings.TrimSpace(s.Country)
	if s.Country != "" {
		c := s.Country
		if len(c) != 2 || !isASCIILetter(c[0]) || !isASCIILetter(c[1]) {
			return pca.Subject{}, pca.Invalid(countryParam, "The specified parameter %s is not valid: %q is not a two-letter ISO 3166 country code such as CN or US.", countryParam, c)
		}
		s.Country = strings.ToUpper(c)
	}
	return s, nil
}

// checkText validates one subject attribute value.
func checkText(param, v string, max int) error {
	if !utf8.ValidString(v) {
		return pca.Invalid(param, "The specified parameter %s is not valid: it is not valid UTF-8 text.", param)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return pca.Invalid(param, "The specified parameter %s is too long: %d characters, at most %d are allowed.", param, n, max)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return pca.Invalid(param, "The specified parameter %s is not valid: it contains the non-printable character %U.", param, r)
		}
	}
	return nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
