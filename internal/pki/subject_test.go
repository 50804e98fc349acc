package pki

import (
	"crypto/x509/pkix"
	"reflect"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
)

func TestValidateSubject(t *testing.T) {
	full := pca.Subject{CommonName: "Example Root", Organization: "Example Inc", OrganizationUnit: "PKI",
		Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
	with := func(f func(*pca.Subject)) pca.Subject { s := full; f(&s); return s }
	tests := []struct {
		name         string
		in           pca.Subject
		countryParam string
		want         pca.Subject
		kind         pca.Kind
		param        string
	}{
		{name: "ok/full", in: full, countryParam: "CountryCode", want: full},
		{name: "ok/cn-only", in: pca.Subject{CommonName: "a"}, countryParam: "Country", want: pca.Subject{CommonName: "a"}},
		{name: "ok/trimmed-and-country-upper-cased",
			in:           pca.Subject{CommonName: "  host  ", Organization: " O ", Country: " us "},
			countryParam: "Country",
			want:         pca.Subject{CommonName: "host", Organization: "O", Country: "US"}},
		{name: "ok/unicode", in: with(func(s *pca.Subject) { s.Organization = "阿里巴巴（中国）有限公司" }), countryParam: "Country",
			want: with(func(s *pca.Subject) { s.Organization = "阿里巴巴（中国）有限公司" })},
		{name: "ok/cn-64-characters", in: pca.Subject{CommonName: strings.Repeat("é", 64)}, countryParam: "Country",
			want: pca.Subject{CommonName: strings.Repeat("é", 64)}},
		{name: "ok/locality-128", in: pca.Subject{CommonName: "a", Locality: strings.Repeat("l", 128)}, countryParam: "Country",
			want: pca.Subject{CommonName: "a", Locality: strings.Repeat("l", 128)}},

		{name: "fail/cn-missing", in: with(func(s *pca.Subject) { s.CommonName = "" }), countryParam: "Country", kind: pca.KindMissing, param: "CommonName"},
		{name: "fail/cn-blank", in: with(func(s *pca.Subject) { s.CommonName = "   " }), countryParam: "Country", kind: pca.KindMissing, param: "CommonName"},
		{name: "fail/cn-65", in: pca.Subject{CommonName: strings.Repeat("a", 65)}, countryParam: "Country", kind: pca.KindInvalid, param: "CommonName"},
		{name: "fail/o-65", in: with(func(s *pca.Subject) { s.Organization = strings.Repeat("o", 65) }), countryParam: "Country", kind: pca.KindInvalid, param: "Organization"},
		{name: "fail/ou-65", in: with(func(s *pca.Subject) { s.OrganizationUnit = strings.Repeat("u", 65) }), countryParam: "Country", kind: pca.KindInvalid, param: "OrganizationUnit"},
		{name: "fail/l-129", in: with(func(s *pca.Subject) { s.Locality = strings.Repeat("l", 129) }), countryParam: "Country", kind: pca.KindInvalid, param: "Locality"},
		{name: "fail/st-129", in: with(func(s *pca.Subject) { s.State = strings.Repeat("s", 129) }), countryParam: "Country", kind: pca.KindInvalid, param: "State"},
		{name: "fail/control-character", in: with(func(s *pca.Subject) { s.Organization = "a\x00b" }), countryParam: "Country", kind: pca.KindInvalid, param: "Organization"},
		{name: "fail/newline", in: with(func(s *pca.Subject) { s.CommonName = "a\nb" }), countryParam: "Country", kind: pca.KindInvalid, param: "CommonName"},
		{name: "fail/bidi-override", in: with(func(s *pca.Subject) { s.Locality = "a\u202eb" }), countryParam: "Country", kind: pca.KindInvalid, param: "Locality"},
		{name: "fail/invalid-utf8", in: with(func(s *pca.Subject) { s.State = "a\xffb" }), countryParam: "Country", kind: pca.KindInvalid, param: "State"},
		{name: "fail/country-3-letters", in: with(func(s *pca.Subject) { s.Country = "CHN" }), countryParam: "Country", kind: pca.KindInvalid, param: "Country"},
		{name: "fail/country-digits-ca-call", in: with(func(s *pca.Subject) { s.Country = "1A" }), countryParam: "CountryCode", kind: pca.KindInvalid, param: "CountryCode"},
		{name: "fail/country-non-ascii", in: with(func(s *pca.Subject) { s.Country = "ÄB" }), countryParam: "Country", kind: pca.KindInvalid, param: "Country"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValidateSubject(tc.in, tc.countryParam)
			wantErr(t, err, tc.kind, tc.param)
			if tc.param == "" && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNameAndSubjectDN(t *testing.T) {
	tests := []struct {
		name   string
		in     pca.Subject
		want   pkix.Name
		wantDN string
	}{
		{name: "full",
			in: pca.Subject{CommonName: "www.example.com", Organization: "Example, Inc", OrganizationUnit: "Web",
				Locality: "Hangzhou", State: "Zhejiang", Country: "CN"},
			want: pkix.Name{CommonName: "www.example.com", Organization: []string{"Example, Inc"}, OrganizationalUnit: []string{"Web"},
				Locality: []string{"Hangzhou"}, Province: []string{"Zhejiang"}, Country: []string{"CN"}},
			wantDN: `CN=www.example.com,OU=Web,O=Example\, Inc,L=Hangzhou,ST=Zhejiang,C=CN`},
		{name: "empty-fields-omitted",
			in:     pca.Subject{CommonName: "client-1", Country: "US"},
			want:   pkix.Name{CommonName: "client-1", Country: []string{"US"}},
			wantDN: "CN=client-1,C=US"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Name(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Name: got %+v, want %+v", got, tc.want)
			}
			if dn := SubjectDN(got); dn != tc.wantDN {
				t.Errorf("SubjectDN: got %q, want %q", dn, tc.wantDN)
			}
			if back := SubjectFromName(got); back != tc.in {
				t.Errorf("SubjectFromName: got %+v, want %+v", back, tc.in)
			}
		})
	}
}
