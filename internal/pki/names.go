package pki

import (
	"crypto/x509"
	"errors"
	"net"
	"net/mail"
	"net/url"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Limits on subject alternative names.
const (
	// MaxNames is the most names ServerNames or ClientSANs accept (after
	// duplicates are removed).
	MaxNames = 100
	// MaxDNSName is the longest DNS name, in octets (RFC 1035, without the
	// trailing dot).
	MaxDNSName = 253
	// MaxEmail is the longest email address (RFC 5321 path limit minus the
	// angle brackets).
	MaxEmail = 254
	// MaxURI is the longest URI accepted in a SAN.
	MaxURI = 2048
)

// SAN types of the SanType parameter of CreateClientCertificate.
const (
	SanTypeNone  = 0
	SanTypeEmail = int(pca.SANEmail)
	SanTypeURI   = int(pca.SANURI)
)

// ServerNames parses the CommonName and Domain parameters of a server
// certificate request into DNS and IP subject alternative names. CommonName
// is required and always becomes the first SAN. Domain is a comma-separated
// list; items are trimmed and empty items ignored.
//
// An item that parses as an IPv4 or IPv6 literal (without zone or brackets)
// becomes an IP SAN; IPv4 addresses are returned in their 4-byte form.
// Anything else must be a DNS name: ASCII letters, digits and hyphens in
// labels of 1 to 63 octets that neither start nor end with a hyphen, at most
// MaxDNSName octets in all, no trailing dot, and not ending in an all-digit
// label. The leftmost label may be exactly "*" (a wildcard) when at least one
// label follows. Single-label names such as "localhost" are allowed: this is
// a private CA. DNS names are lower-cased; internationalised names must be
// given in their A-label (xn--) form.
//
// Duplicates are removed, keeping the first occurrence, and at most MaxNames
// names may remain. Errors are *pca.Error with Param "CommonName" or
// "Domain", whichever held the bad item.
func ServerNames(commonName, domain string) (dns []string, ips []net.IP, err error) {
	commonName = strings.TrimSpace(commonName)
	if commonName == "" {
		return nil, nil, pca.Missing("CommonName")
	}
	seen := make(map[string]bool)
	add := func(param, item string) error {
		if ip := parseIP(item); ip != nil {
			if !seen[ip.String()] {
				seen[ip.String()] = true
				ips = append(ips, ip)
			}
			return nil
		}
		name := strings.ToLower(item)
		if err := checkDNSName(name, true); err != nil {
			return pca.Invalid(param, "The specified parameter %s is not valid: %q is neither an IP address nor a valid DNS name (%v).", param, item, err)
		}
		if !seen[name] {
			seen[name] = true
			dns = append(dns, name)
		}
		return nil
	}
	if err := add("CommonName", commonName); err != nil {
		return nil, nil, err
	}
	for _, item := range splitList(domain) {
		if err := add("Domain", item); err != nil {
			return nil, nil, err
		}
		if len(seen) > MaxNames {
			return nil, nil, pca.Invalid("Domain", "The specified parameter Domain lists too many names: at most %d names, the common name included, are allowed.", MaxNames)
		}
	}
	return dns, ips, nil
}

// ClientSANs parses the SanType and SanValue parameters of a client
// certificate request. sanType is 1 for email addresses (rfc822Name), 6 for
// URIs, or 0 when SanType was not given; sanValue is a comma-separated list,
// items trimmed and empty items ignored. Both absent yields no names.
//
// An email address must be a bare addr-spec (local@domain, no display name,
// angle brackets or comments) in ASCII, at most MaxEmail octets, whose domain
// is a valid DNS name without wildcard. A URI must be ASCII without white
// space, at most MaxURI octets, absolute (with a scheme) and either opaque
// (urn:..., mailto:...) or with a host that is an IP address or a DNS name of
// at least two labels (RFC 5280 4.2.1.6 asks for a fully qualified name).
// Duplicates are removed, keeping the first occurrence; at most MaxNames.
//
// SanValue without SanType, or a SanType other than 0, 1 or 6, is a
// pca.Invalid("SanType", ...); SanType without any SanValue is
// pca.Missing("SanValue"); a bad item is pca.Invalid("SanValue", ...).
func ClientSANs(sanType int, sanValue string) (emails []string, uris []*url.URL, err error) {
	items := splitList(sanValue)
	switch {
	case sanType == SanTypeNone && len(items) > 0:
		return nil, nil, pca.Invalid("SanType", "The specified parameter SanType is not valid: SanType must be given with SanValue (1 for email addresses, 6 for URIs).")
	case sanType == SanTypeNone:
		return nil, nil, nil
	case sanType != SanTypeEmail && sanType != SanTypeURI:
		return nil, nil, pca.Invalid("SanType", "The specified parameter SanType value %d is not supported: use 1 for email addresses or 6 for URIs.", sanType)
	case len(items) == 0:
		return nil, nil, pca.Missing("SanValue")
	}
	seen := make(map[string]bool)
	for _, item := range items {
		if seen[item] {
			continue
		}
		seen[item] = true
		if len(seen) > MaxNames {
			return nil, nil, pca.Invalid("SanValue", "The specified parameter SanValue lists too many names: at most %d are allowed.", MaxNames)
		}
		if sanType == SanTypeEmail {
			if err := checkEmail(item); err != nil {
				return nil, nil, pca.Invalid("SanValue", "The specified parameter SanValue is not valid: %q is not a plain email address like user@example.com (%v).", item, err)
			}
			emails = append(emails, item)
			continue
		}
		u, err := parseSANURI(item)
		if err != nil {
			return nil, nil, pca.Invalid("SanValue", "The specified parameter SanValue is not valid: %q is not an absolute URI usable as a subject alternative name (%v).", item, err)
		}
		uris = append(uris, u)
	}
	return emails, uris, nil
}

// SANsOf lists c's subject alternative names as the API reports them: DNS
// names (type 2), then IP addresses (7), email addresses (1) and URIs (6),
// each group in certificate order. It returns nil when c has none.
func SANsOf(c *x509.Certificate) []pca.SAN {
	var out []pca.SAN
	for _, n := range c.DNSNames {
		out = append(out, pca.SAN{Type: pca.SANDNS, Value: n})
	}
	for _, ip := range c.IPAddresses {
		out = append(out, pca.SAN{Type: pca.SANIP, Value: ip.String()})
	}
	for _, e := range c.EmailAddresses {
		out = append(out, pca.SAN{Type: pca.SANEmail, Value: e})
	}
	for _, u := range c.URIs {
		out = append(out, pca.SAN{Type: pca.SANURI, Value: u.String()})
	}
	return out
}

// splitList splits a comma list, trimming items and dropping empty ones.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseIP parses an IP literal, returning IPv4 addresses in 4-byte form.
func parseIP(s string) net.IP {
	ip := net.ParseIP(s)
	if ip == nil {
		return nil
	}
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}

// checkDNSName validates a lower-case DNS name as described at ServerNames;
// wildcard says whether a leading "*." label is allowed. The error text is a
// short reason meant to be embedded in a caller-facing message.
func checkDNSName(name string, wildcard bool) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case len(name) > MaxDNSName:
		return errors.New("longer than 253 characters")
	case strings.HasSuffix(name, "."):
		return errors.New("trailing dot")
	}
	labels := strings.Split(name, ".")
	if labels[0] == "*" {
		if !wildcard {
			return errors.New("wildcards are not allowed here")
		}
		if len(labels) == 1 {
			return errors.New("a wildcard needs at least one label after it")
		}
		labels = labels[1:]
	}
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return err
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return errors.New("the last label is all digits")
	}
	return nil
}

func checkLabel(l string) error {
	switch {
	case l == "":
		return errors.New("empty label")
	case len(l) > 63:
		return errors.New("a label is longer than 63 characters")
	case l[0] == '-' || l[len(l)-1] == '-':
		return errors.New("a label starts or ends with a hyphen")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			if c == '*' {
				return errors.New("a wildcard must be the whole leftmost label")
			}
			return errors.New("only letters, digits and hyphens are allowed")
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isASCIIPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// checkEmail validates a bare addr-spec as described at ClientSANs.
func checkEmail(s string) error {
	if len(s) > MaxEmail {
		return errors.New("longer than 254 characters")
	}
	if !isASCIIPrintable(s) {
		return errors.New("only ASCII characters without spaces are allowed")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return errors.New("not an addr-spec")
	}
	at := strings.LastIndexByte(s, '@')
	if at > 64 {
		return errors.New("the local part is longer than 64 characters")
	}
	if err := checkDNSName(strings.ToLower(s[at+1:]), false); err != nil {
		return errors.New("bad domain: " + err.Error())
	}
	return nil
}

// parseSANURI parses and validates a URI as described at ClientSANs.
func parseSANURI(s string) (*url.URL, error) {
	if len(s) > MaxURI {
		return nil, errors.New("longer than 2048 characters")
	}
	if !isASCIIPrintable(s) {
		return nil, errors.New("only ASCII characters without spaces are allowed")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("malformed")
	}
	if u.Scheme == "" {
		return nil, errors.New("no scheme")
	}
	if u.Opaque != "" {
		return u, nil
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("no host")
	}
	if p := u.Port(); p == "" && strings.HasSuffix(u.Host, ":") || p != "" && !allDigits(p) {
		return nil, errors.New("bad port")
	}
	if parseIP(host) != nil {
		return u, nil
	}
	if err := checkDNSName(strings.ToLower(host), false); err != nil {
		return nil, errors.New("bad host: " + err.Error())
	}
	if !strings.Contains(host, ".") {
		return nil, errors.New("the host must be a fully qualified name")
	}
	return u, nil
}
