package pki

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
)

func TestServerNames(t *testing.T) {
	many := make([]string, MaxNames)
	for i := range many {
		many[i] = fmt.Sprintf("h%d.example.com", i)
	}
	tests := []struct {
		name    string
		cn      string
		domain  string
		wantDNS []string
		wantIPs []string
		kind    pca.Kind
		param   string
	}{
		{name: "ok/cn-only", cn: "www.example.com", wantDNS: []string{"www.example.com"}},
		{name: "ok/cn-and-domains-trimmed", cn: "www.example.com", domain: " api.example.com , ,static.example.com,",
			wantDNS: []string{"www.example.com", "api.example.com", "static.example.com"}},
		{name: "ok/lower-cased-and-deduplicated", cn: "WWW.Example.COM", domain: "www.example.com,API.example.com,api.EXAMPLE.com",
			wantDNS: []string{"www.example.com", "api.example.com"}},
		{name: "ok/ip-cn-and-ips", cn: "10.0.0.1", domain: "2001:db8::1, 10.0.0.1, ::ffff:10.0.0.2, db.internal",
			wantDNS: []string{"db.internal"}, wantIPs: []string{"10.0.0.1", "2001:db8::1", "10.0.0.2"}},
		{name: "ok/wildcard", cn: "*.example.com", wantDNS: []string{"*.example.com"}},
		{name: "ok/single-label", cn: "localhost", domain: "printer", wantDNS: []string{"localhost", "printer"}},
		{name: "ok/punycode", cn: "xn--fiqs8s.example", wantDNS: []string{"xn--fiqs8s.example"}},
		{name: "ok/label-63", cn: strings.Repeat("a", 63) + ".example", wantDNS: []string{strings.Repeat("a", 63) + ".example"}},
		{name: "ok/exactly-max-names", cn: many[0], domain: strings.Join(many, ","), wantDNS: many},

		{name: "fail/cn-missing", cn: " ", domain: "a.example", kind: pca.KindMissing, param: "CommonName"},
		{name: "fail/cn-with-space", cn: "my server", kind: pca.KindInvalid, param: "CommonName"},
		{name: "fail/domain-underscore", cn: "ok.example", domain: "_sip.example.com", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/trailing-dot", cn: "ok.example", domain: "www.example.com.", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/empty-label", cn: "ok.example", domain: "www..example.com", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/leading-hyphen", cn: "-www.example.com", kind: pca.KindInvalid, param: "CommonName"},
		{name: "fail/trailing-hyphen", cn: "ok.example", domain: "www-.example.com", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/label-64", cn: "ok.example", domain: strings.Repeat("a", 64) + ".example", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/name-254", cn: "ok.example", domain: strings.Repeat(strings.Repeat("a", 62)+".", 4) + "ab", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/wildcard-not-leftmost", cn: "ok.example", domain: "www.*.example.com", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/partial-wildcard", cn: "ok.example", domain: "w*.example.com", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/bare-wildcard", cn: "*", kind: pca.KindInvalid, param: "CommonName"},
		{name: "fail/non-ascii", cn: "ok.example", domain: "中国.example", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/ip-with-zone", cn: "ok.example", domain: "fe80::1%eth0", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/bracketed-ip", cn: "ok.example", domain: "[::1]", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/numeric-tld", cn: "ok.example", domain: "1.2.3", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/url-not-name", cn: "ok.example", domain: "https://ok.example", kind: pca.KindInvalid, param: "Domain"},
		{name: "fail/too-many", cn: "cn.example.com", domain: strings.Join(many, ","), kind: pca.KindInvalid, param: "Domain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dns, ips, err := ServerNames(tc.cn, tc.domain)
			wantErr(t, err, tc.kind, tc.param)
			if tc.param != "" {
				return
			}
			if !reflect.DeepEqual(dns, tc.wantDNS) {
				t.Errorf("DNS: got %q, want %q", dns, tc.wantDNS)
			}
			var gotIPs []string
			for _, ip := range ips {
				gotIPs = append(gotIPs, ip.String())
				if ip.To4() != nil && len(ip) != net.IPv4len {
					t.Errorf("IPv4 %s returned in %d-byte form", ip, len(ip))
				}
			}
			if !reflect.DeepEqual(gotIPs, tc.wantIPs) {
				t.Errorf("IPs: got %q, want %q", gotIPs, tc.wantIPs)
			}
		})
	}
}

func TestClientSANs(t *testing.T) {
	tests := []struct {
		name       string
		sanType    int
		sanValue   string
		wantEmails []string
		wantURIs   []string
		kind       pca.Kind
		param      string
	}{
		{name: "ok/none", sanType: 0, sanValue: "  "},
		{name: "ok/emails", sanType: 1, sanValue: "alice@example.com, bob.smith+tag@mail.example.org,alice@example.com",
			wantEmails: []string{"alice@example.com", "bob.smith+tag@mail.example.org"}},
		{name: "ok/email-single-label-domain", sanType: 1, sanValue: "root@localhost", wantEmails: []string{"root@localhost"}},
		{name: "ok/uris", sanType: 6, sanValue: "spiffe://example.org/ns/prod/sa/web, https://id.example.com:8443/users/7?x=1, urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
			wantURIs: []string{"spiffe://example.org/ns/prod/sa/web", "https://id.example.com:8443/users/7?x=1", "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}},
		{name: "ok/uri-ip-host", sanType: 6, sanValue: "https://10.1.2.3/x", wantURIs: []string{"https://10.1.2.3/x"}},

		{name: "fail/value-without-type", sanType: 0, sanValue: "alice@example.com", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/dns-type", sanType: 2, sanValue: "www.example.com", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/ip-type", sanType: 7, sanValue: "10.0.0.1", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/negative-type", sanType: -1, sanValue: "x", kind: pca.KindInvalid, param: "SanType"},
		{name: "fail/type-without-value", sanType: 1, sanValue: " , ", kind: pca.KindMissing, param: "SanValue"},
		{name: "fail/email-display-name", sanType: 1, sanValue: "Alice <alice@example.com>", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/email-angle-brackets", sanType: 1, sanValue: "<alice@example.com>", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/email-comment", sanType: 1, sanValue: "alice@example.com(home)", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/email-no-at", sanType: 1, sanValue: "alice.example.com", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/email-non-ascii", sanType: 1, sanValue: "jörg@example.com", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/email-bad-domain", sanType: 1, sanValue: "a@exa_mple.com", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/email-domain-literal", sanType: 1, sanValue: "a@[10.0.0.1]", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/email-local-part-65", sanType: 1, sanValue: strings.Repeat("a", 65) + "@example.com", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/uri-relative", sanType: 6, sanValue: "/users/7", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/uri-space", sanType: 6, sanValue: "https://example.com/a b", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/uri-no-host", sanType: 6, sanValue: "file:///etc/passwd", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/uri-single-label-host", sanType: 6, sanValue: "https://intranet/x", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/uri-bad-host", sanType: 6, sanValue: "https://exa_mple.com/x", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/uri-bad-port", sanType: 6, sanValue: "https://example.com:/x", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/uri-non-ascii", sanType: 6, sanValue: "https://example.com/ü", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/uri-scheme-only", sanType: 6, sanValue: "urn:", kind: pca.KindInvalid, param: "SanValue"},
		{name: "fail/too-many", sanType: 1, sanValue: manyEmails(MaxNames + 1), kind: pca.KindInvalid, param: "SanValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emails, uris, err := ClientSANs(tc.sanType, tc.sanValue)
			wantErr(t, err, tc.kind, tc.param)
			if tc.param != "" {
				return
			}
			if !reflect.DeepEqual(emails, tc.wantEmails) {
				t.Errorf("emails: got %q, want %q", emails, tc.wantEmails)
			}
			var got []string
			for _, u := range uris {
				got = append(got, u.String())
			}
			if !reflect.DeepEqual(got, tc.wantURIs) {
				t.Errorf("URIs: got %q, want %q", got, tc.wantURIs)
			}
		})
	}
}

func manyEmails(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("u%d@example.com", i)
	}
	return strings.Join(s, ",")
}

func TestSANsOf(t *testing.T) {
	u1, _ := url.Parse("spiffe://example.org/a")
	u2, _ := url.Parse("urn:x:y")
	tests := []struct {
		name string
		cert *x509.Certificate
		want []pca.SAN
	}{
		{name: "none", cert: &x509.Certificate{}, want: nil},
		{name: "all-kinds-in-api-order", cert: &x509.Certificate{
			URIs:           []*url.URL{u1, u2},
			EmailAddresses: []string{"a@example.com"},
			IPAddresses:    []net.IP{net.ParseIP("10.0.0.1").To4(), net.ParseIP("2001:db8::1")},
			DNSNames:       []string{"b.example", "a.example"},
		}, want: []pca.SAN{
			{Type: pca.SANDNS, Value: "b.example"}, {Type: pca.SANDNS, Value: "a.example"},
			{Type: pca.SANIP, Value: "10.0.0.1"}, {Type: pca.SANIP, Value: "2001:db8::1"},
			{Type: pca.SANEmail, Value: "a@example.com"},
			{Type: pca.SANURI, Value: "spiffe://example.org/a"}, {Type: pca.SANURI, Value: "urn:x:y"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SANsOf(tc.cert); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
