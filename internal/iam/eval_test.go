package iam

import (
	"net"
	"testing"
	"time"
)

const acct = int64(1000000000000001)

var (
	caA   = ARN("yundun-cert", acct, "ca/a")
	caB   = ARN("yundun-cert", acct, "ca/b")
	certX = ARN("yundun-cert", acct, "cert/x")
	userU = ARN("ram", acct, "user/alice")
)

func mustParse(t testing.TB, docs ...string) []*Policy {
	t.Helper()
	var ps []*Policy
	for _, d := range docs {
		p, err := Parse(d)
		if err != nil {
			t.Fatalf("Parse(%s): %v", d, err)
		}
		ps = append(ps, p)
	}
	return ps
}

func allow(action, resource string) string {
	return `{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}`
}

func deny(action, resource string) string {
	return `{"Effect":"Deny","Action":"` + action + `","Resource":"` + resource + `"}`
}

func req(action string, resources ...string) Request {
	return Request{Action: action, Resources: resources}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name string
		docs []string // one policy per entry
		req  Request
		want Decision
	}{
		{"no policies", nil, req("yundun-cert:ListCert", "*"), ImplicitDeny},
		{"exact allow", []string{doc(allow("yundun-cert:ListCert", "*"))}, req("yundun-cert:ListCert", "*"), Allow},
		{"other action", []string{doc(allow("yundun-cert:ListCert", "*"))}, req("yundun-cert:DeleteClientCertificate", "*"), ImplicitDeny},
		{"action case-insensitive", []string{doc(allow("Yundun-Cert:listcert", "*"))}, req("YUNDUN-CERT:ListCert", "*"), Allow},
		{"action prefix must match whole name", []string{doc(allow("yundun-cert:List", "*"))}, req("yundun-cert:ListCert", "*"), ImplicitDeny},
		{"action star suffix", []string{doc(allow("yundun-cert:List*", "*"))}, req("yundun-cert:ListClientCertificate", "*"), Allow},
		{"action star suffix other verb", []string{doc(allow("yundun-cert:List*", "*"))}, req("yundun-cert:DescribeCACertificate", "*"), ImplicitDeny},
		{"action star infix", []string{doc(allow("yundun-cert:*Client*", "*"))}, req("yundun-cert:CreateClientCertificateWithCsr", "*"), Allow},
		{"action question mark", []string{doc(allow("yundun-cert:?etCAInstanceStatus", "*"))}, req("yundun-cert:GetCAInstanceStatus", "*"), Allow},
		{"action question mark needs one char", []string{doc(allow("yundun-cert:?GetCert", "*"))}, req("yundun-cert:GetCert", "*"), ImplicitDeny},
		{"action service wildcard", []string{doc(allow("yundun-*:ListCert", "*"))}, req("yundun-cert:ListCert", "*"), Allow},
		{"action other service", []string{doc(allow("ram:ListCert", "*"))}, req("yundun-cert:ListCert", "*"), ImplicitDeny},
		{"action star matches all", []string{doc(allow("*", "*"))}, req("ram:CreateUser", userU), Allow},
		{"action service wildcard with name", []string{doc(allow("*:List*", "*"))}, req("ram:ListUsers", "*"), Allow},
		{"request action without colon: pattern *:* no", []string{doc(allow("*:*", "*"))}, req("ListCert", "*"), ImplicitDeny},
		{"request action without colon: pattern * yes", []string{doc(allow("*", "*"))}, req("ListCert", "*"), Allow},
		{"action case folding is ASCII only", []string{doc(allow("kms:*", "*"))}, req("\u212Ams:Encrypt", "*"), ImplicitDeny},
		{"action list", []string{doc(`{"Effect":"Allow","Action":["ram:GetUser","yundun-cert:ListCert"],"Resource":"*"}`)}, req("yundun-cert:ListCert", "*"), Allow},

		{"explicit deny beats allow in one policy", []string{doc(allow("*", "*"), deny("yundun-cert:ListCert", "*"))}, req("yundun-cert:ListCert", "*"), ExplicitDeny},
		{"explicit deny beats allow across policies", []string{doc(allow("yundun-cert:*", "*")), doc(deny("yundun-cert:Delete*", "*"))}, req("yundun-cert:DeleteClientCertificate", certX), ExplicitDeny},
		{"deny alone", []string{doc(deny("*", "*"))}, req("yundun-cert:ListCert", "*"), ExplicitDeny},
		{"deny of other action ignored", []string{doc(allow("*", "*"), deny("ram:*", "*"))}, req("yundun-cert:ListCert", "*"), Allow},
		{"deny of other resource ignored", []string{doc(allow("*", "*"), deny("*", caB))}, req("yundun-cert:DescribeCACertificate", caA), Allow},
		{"deny hits one of several resources", []string{doc(allow("*", "*"), deny("*", caB))}, req("yundun-cert:CreateSubCACertificate", caA, caB), ExplicitDeny},
		{"deny on ARN does not reach resourceless call", []string{doc(allow("*", "*"), deny("*", "acs:yundun-cert:*:*:*"))}, req("yundun-cert:ListCert", "*"), Allow},

		{"resource exact ARN", []string{doc(allow("*", caA))}, req("yundun-cert:DescribeCACertificate", caA), Allow},
		{"resource other ARN", []string{doc(allow("*", caA))}, req("yundun-cert:DescribeCACertificate", caB), ImplicitDeny},
		{"resource wildcard relative", []string{doc(allow("*", "acs:yundun-cert:*:1000000000000001:ca/*"))}, req("x:y", caB), Allow},
		{"resource wildcard relative other type", []string{doc(allow("*", "acs:yundun-cert:*:1000000000000001:ca/*"))}, req("x:y", certX), ImplicitDeny},
		{"resource other account", []string{doc(allow("*", "acs:yundun-cert:*:2000:ca/*"))}, req("x:y", caA), ImplicitDeny},
		{"resource any account", []string{doc(allow("*", "acs:yundun-cert:*:*:*"))}, req("x:y", caA), Allow},
		{"resource question mark", []string{doc(allow("*", "acs:yundun-cert:*:*:ca/?"))}, req("x:y", caA), Allow},
		{"resource question mark one char only", []string{doc(allow("*", "acs:yundun-cert:*:*:ca/?"))}, req("x:y", ARN("yundun-cert", acct, "ca/ab")), ImplicitDeny},
		{"resource service case-insensitive", []string{doc(allow("*", "acs:YUNDUN-CERT:*:*:ca/a"))}, req("x:y", caA), Allow},
		{"resource relative case-sensitive", []string{doc(allow("*", "acs:yundun-cert:*:*:CA/A"))}, req("x:y", caA), ImplicitDeny},
		{"resource other service", []string{doc(allow("*", "acs:ram:*:*:*"))}, req("x:y", caA), ImplicitDeny},
		{"policy region matches regionless pcad ARN", []string{doc(allow("*", "acs:yundun-cert:cn-hangzhou:*:ca/a"))}, req("x:y", caA), Allow},
		{"RAM empty region matches regionless pcad ARN", []string{doc(allow("ram:GetUser", "acs:ram::1000000000000001:user/alice"))}, req("ram:GetUser", userU), Allow},
		{"explicit region in request must match", []string{doc(allow("*", "acs:yundun-cert:cn-hangzhou:*:ca/a"))}, req("x:y", "acs:yundun-cert:cn-beijing:1:ca/a"), ImplicitDeny},
		{"star resource matches ARN", []string{doc(allow("*", "*"))}, req("x:y", caA), Allow},
		{"ARN pattern does not match resourceless call", []string{doc(allow("*", "acs:yundun-cert:*:*:*"))}, req("yundun-cert:ListCert", "*"), ImplicitDeny},
		{"non-ARN request resource matched only by star", []string{doc(allow("*", "acs:yundun-cert:*:*:*"))}, req("x:y", "ca/a"), ImplicitDeny},

		{"all resources covered by one statement", []string{doc(allow("*", "acs:yundun-cert:*:*:ca/*"))}, req("x:y", caA, caB), Allow},
		{"one resource uncovered", []string{doc(allow("*", caA))}, req("x:y", caA, caB), ImplicitDeny},
		{"resources covered by two statements", []string{doc(allow("*", caA), allow("*", caB))}, req("x:y", caA, caB), Allow},
		{"resources covered by two policies", []string{doc(allow("*", caA)), doc(allow("*", certX))}, req("x:y", caA, certX), Allow},
		{"resource list in one statement", []string{doc(`{"Effect":"Allow","Action":"*","Resource":["` + caA + `","` + caB + `"]}`)}, req("x:y", caB, caA), Allow},
		{"second resource covered only for other action", []string{doc(allow("*", caA), allow("ram:*", caB))}, req("yundun-cert:CreateSubCACertificate", caA, caB), ImplicitDeny},
		{"many resources", []string{doc(allow("*", "acs:yundun-cert:*:*:*"))}, req("x:y", caA, caB, certX, caA, caB, certX, caA, caB, certX, caA), Allow},
		{"many resources one uncovered", []string{doc(allow("*", "acs:yundun-cert:*:*:ca/*"))}, req("x:y", caA, caB, caA, caB, caA, caB, caA, caB, caA, certX), ImplicitDeny},

		{"NotAction allows the rest", []string{doc(`{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}`)}, req("yundun-cert:ListCert", "*"), Allow},
		{"NotAction excludes listed", []string{doc(`{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}`)}, req("RAM:CreateUser", userU), ImplicitDeny},
		{"NotAction deny", []string{doc(allow("*", "*"), `{"Effect":"Deny","NotAction":["yundun-cert:List*","yundun-cert:Describe*"],"Resource":"*"}`)}, req("yundun-cert:CreateRootCACertificate", "*"), ExplicitDeny},
		{"NotAction deny spares listed", []string{doc(allow("*", "*"), `{"Effect":"Deny","NotAction":["yundun-cert:List*","yundun-cert:Describe*"],"Resource":"*"}`)}, req("yundun-cert:ListCert", "*"), Allow},

		{"empty resources fail closed", []string{doc(allow("*", "*"))}, Request{Action: "yundun-cert:ListCert"}, ImplicitDeny},
		{"empty action fail closed", []string{doc(allow("*", "*"))}, Request{Resources: []string{"*"}}, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := mustParse(t, tt.docs...)
			if got := Evaluate(ps, tt.req); got != tt.want {
				t.Errorf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluateNilPolicy(t *testing.T) {
	ps := append([]*Policy{nil}, mustParse(t, doc(allow("*", "*")))...)
	if got := Evaluate(append(ps, nil), req("x:y", "*")); got != Allow {
		t.Errorf("Evaluate with nil policies = %v, want Allow", got)
	}
}

// TestConditions covers every operator true and false, absent keys, IfExists,
// OR across values and AND across keys and operators.
func TestConditions(t *testing.T) {
	at := time.Date(2019, 8, 12, 9, 0, 0, 0, time.UTC) // 17:00 +08:00
	base := Request{Action: "yundun-cert:ListCert", Resources: []string{"*"},
		SourceIP: net.ParseIP("192.0.2.10"), Time: at, Secure: true}
	with := func(f func(*Request)) Request { r := base; f(&r); return r }
	noIP := with(func(r *Request) { r.SourceIP = nil })
	noTime := with(func(r *Request) { r.Time = time.Time{} })
	plain := with(func(r *Request) { r.Secure = false })
	v6 := with(func(r *Request) { r.SourceIP = net.ParseIP("2001:db8::7") })
	mapped := with(func(r *Request) { r.SourceIP = net.ParseIP("::ffff:192.0.2.10") })
	subSecond := with(func(r *Request) { r.Time = at.Add(999 * time.Millisecond) })

	tests := []struct {
		name string
		cond string
		req  Request
		want bool // Allow when true, ImplicitDeny otherwise
	}{
		{"StringEquals true", `{"StringEquals":{"acs:SourceIp":"192.0.2.10"}}`, base, true},
		{"StringEquals false", `{"StringEquals":{"acs:SourceIp":"192.0.2.11"}}`, base, false},
		{"StringEquals case-sensitive", `{"StringEquals":{"acs:SecureTransport":"TRUE"}}`, base, false},
		{"StringNotEquals true", `{"StringNotEquals":{"acs:SourceIp":"192.0.2.11"}}`, base, true},
		{"StringNotEquals false", `{"StringNotEquals":{"acs:SourceIp":"192.0.2.10"}}`, base, false},
		{"StringEqualsIgnoreCase true", `{"StringEqualsIgnoreCase":{"acs:SecureTransport":"TRUE"}}`, base, true},
		{"StringEqualsIgnoreCase false", `{"StringEqualsIgnoreCase":{"acs:SecureTransport":"FALSE"}}`, base, false},
		{"StringNotEqualsIgnoreCase true", `{"StringNotEqualsIgnoreCase":{"acs:SecureTransport":"FALSE"}}`, base, true},
		{"StringNotEqualsIgnoreCase false", `{"StringNotEqualsIgnoreCase":{"acs:SecureTransport":"True"}}`, base, false},
		{"StringLike true", `{"StringLike":{"acs:SourceIp":"192.0.2.*"}}`, base, true},
		{"StringLike question mark", `{"StringLike":{"acs:SourceIp":"192.0.2.1?"}}`, base, true},
		{"StringLike false", `{"StringLike":{"acs:SourceIp":"10.*"}}`, base, false},
		{"StringNotLike true", `{"StringNotLike":{"acs:SourceIp":"10.*"}}`, base, true},
		{"StringNotLike false", `{"StringNotLike":{"acs:SourceIp":"192.*"}}`, base, false},
		{"String on mapped IPv4 uses IPv4 text", `{"StringEquals":{"acs:SourceIp":"192.0.2.10"}}`, mapped, true},

		{"NumericEquals true", `{"NumericEquals":{"acs:CurrentTime":1565600400}}`, base, true},
		{"NumericEquals false", `{"NumericEquals":{"acs:CurrentTime":"1565600401"}}`, base, false},
		{"NumericNotEquals true", `{"NumericNotEquals":{"acs:CurrentTime":1}}`, base, true},
		{"NumericNotEquals false", `{"NumericNotEquals":{"acs:CurrentTime":1565600400}}`, base, false},
		{"NumericLessThan true", `{"NumericLessThan":{"acs:CurrentTime":1565600401}}`, base, true},
		{"NumericLessThan false at equal", `{"NumericLessThan":{"acs:CurrentTime":1565600400}}`, base, false},
		{"NumericLessThanEquals true at equal", `{"NumericLessThanEquals":{"acs:CurrentTime":1565600400}}`, base, true},
		{"NumericLessThanEquals false", `{"NumericLessThanEquals":{"acs:CurrentTime":1565600399}}`, base, false},
		{"NumericGreaterThan true", `{"NumericGreaterThan":{"acs:CurrentTime":1565600399.5}}`, base, true},
		{"NumericGreaterThan false", `{"NumericGreaterThan":{"acs:CurrentTime":1565600400}}`, base, false},
		{"NumericGreaterThanEquals true", `{"NumericGreaterThanEquals":{"acs:CurrentTime":"1565600400"}}`, base, true},
		{"NumericGreaterThanEquals false", `{"NumericGreaterThanEquals":{"acs:CurrentTime":1e10}}`, base, false},

		{"DateEquals true across zones", `{"DateEquals":{"acs:CurrentTime":"2019-08-12T17:00:00+08:00"}}`, base, true},
		{"DateEquals compares to the second", `{"DateEquals":{"acs:CurrentTime":"2019-08-12T09:00:00Z"}}`, subSecond, true},
		{"DateEquals false", `{"DateEquals":{"acs:CurrentTime":"2019-08-12T09:00:01Z"}}`, base, false},
		{"DateNotEquals true", `{"DateNotEquals":{"acs:CurrentTime":"2019-08-12T09:00:01Z"}}`, base, true},
		{"DateNotEquals false", `{"DateNotEquals":{"acs:CurrentTime":"2019-08-12T09:00:00Z"}}`, base, false},
		{"DateLessThan true", `{"DateLessThan":{"acs:CurrentTime":"2019-08-12T17:00:01+08:00"}}`, base, true},
		{"DateLessThan false at equal", `{"DateLessThan":{"acs:CurrentTime":"2019-08-12T17:00:00+08:00"}}`, base, false},
		{"DateLessThanEquals true", `{"DateLessThanEquals":{"acs:CurrentTime":"2019-08-12T09:00:00Z"}}`, base, true},
		{"DateLessThanEquals false", `{"DateLessThanEquals":{"acs:CurrentTime":"2019-08-12T08:59:59Z"}}`, base, false},
		{"DateGreaterThan true", `{"DateGreaterThan":{"acs:CurrentTime":"2019-08-12T08:59:59Z"}}`, base, true},
		{"DateGreaterThan false", `{"DateGreaterThan":{"acs:CurrentTime":"2019-08-12T09:00:00Z"}}`, base, false},
		{"DateGreaterThanEquals true", `{"DateGreaterThanEquals":{"acs:CurrentTime":"2019-08-12T09:00:00Z"}}`, base, true},
		{"DateGreaterThanEquals false", `{"DateGreaterThanEquals":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}`, base, false},

		{"Bool true", `{"Bool":{"acs:SecureTransport":"true"}}`, base, true},
		{"Bool false over plain HTTP", `{"Bool":{"acs:SecureTransport":"true"}}`, plain, false},
		{"Bool false value matches plain", `{"Bool":{"acs:SecureTransport":false}}`, plain, true},

		{"IpAddress CIDR true", `{"IpAddress":{"acs:SourceIp":"192.0.2.0/24"}}`, base, true},
		{"IpAddress single true", `{"IpAddress":{"acs:SourceIp":"192.0.2.10"}}`, base, true},
		{"IpAddress false", `{"IpAddress":{"acs:SourceIp":"203.0.113.0/24"}}`, base, false},
		{"IpAddress IPv6 true", `{"IpAddress":{"acs:SourceIp":"2001:db8::/32"}}`, v6, true},
		{"IpAddress IPv6 vs IPv4 false", `{"IpAddress":{"acs:SourceIp":"2001:db8::/32"}}`, base, false},
		{"IpAddress mapped client matches IPv4 CIDR", `{"IpAddress":{"acs:SourceIp":"192.0.2.0/24"}}`, mapped, true},
		{"IpAddress mapped CIDR matches IPv4 client", `{"IpAddress":{"acs:SourceIp":"::ffff:192.0.2.0/120"}}`, base, true},
		{"NotIpAddress true", `{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`, base, true},
		{"NotIpAddress false", `{"NotIpAddress":{"acs:SourceIp":"192.0.2.0/24"}}`, base, false},

		{"values OR: second matches", `{"IpAddress":{"acs:SourceIp":["203.0.113.2","192.0.2.0/24"]}}`, base, true},
		{"values OR: none match", `{"IpAddress":{"acs:SourceIp":["203.0.113.2","198.51.100.0/24"]}}`, base, false},
		{"negated values NOR: one matches", `{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","192.0.2.0/24"]}}`, base, false},
		{"negated values NOR: none match", `{"StringNotEquals":{"acs:SourceIp":["10.0.0.1","10.0.0.2"]}}`, base, true},
		{"keys AND: both hold", `{"StringEquals":{"acs:SourceIp":"192.0.2.10","acs:SecureTransport":"true"}}`, base, true},
		{"keys AND: one fails", `{"StringEquals":{"acs:SourceIp":"192.0.2.10","acs:SecureTransport":"true"}}`, plain, false},
		{"operators AND: all hold", `{"IpAddress":{"acs:SourceIp":"192.0.2.0/24"},"Bool":{"acs:SecureTransport":"true"},"DateLessThan":{"acs:CurrentTime":"2020-01-01T00:00:00Z"}}`, base, true},
		{"operators AND: date fails", `{"IpAddress":{"acs:SourceIp":"192.0.2.0/24"},"Bool":{"acs:SecureTransport":"true"},"DateLessThan":{"acs:CurrentTime":"2019-01-01T00:00:00Z"}}`, base, false},
		{"operators AND: IP fails", `{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"Bool":{"acs:SecureTransport":"true"}}`, base, false},

		{"absent IP: positive false", `{"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}}`, noIP, false},
		{"absent IP: StringEquals false", `{"StringEquals":{"acs:SourceIp":"192.0.2.10"}}`, noIP, false},
		{"absent IP: negated true", `{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`, noIP, true},
		{"absent IP: StringNotLike true", `{"StringNotLike":{"acs:SourceIp":"*"}}`, noIP, true},
		{"absent IP: IfExists true", `{"IpAddressIfExists":{"acs:SourceIp":"10.0.0.0/8"}}`, noIP, true},
		{"present IP: IfExists evaluates", `{"IpAddressIfExists":{"acs:SourceIp":"10.0.0.0/8"}}`, base, false},
		{"absent time: positive false", `{"DateGreaterThan":{"acs:CurrentTime":"2000-01-01T00:00:00Z"}}`, noTime, false},
		{"absent time: numeric false", `{"NumericGreaterThan":{"acs:CurrentTime":0}}`, noTime, false},
		{"absent time: DateNotEquals true", `{"DateNotEquals":{"acs:CurrentTime":"2000-01-01T00:00:00Z"}}`, noTime, true},
		{"absent time: IfExists true", `{"DateLessThanIfExists":{"acs:CurrentTime":"2000-01-01T00:00:00Z"}}`, noTime, true},
		{"present time: IfExists evaluates", `{"DateLessThanIfExists":{"acs:CurrentTime":"2000-01-01T00:00:00Z"}}`, base, false},
		{"BoolIfExists present", `{"BoolIfExists":{"acs:SecureTransport":"true"}}`, plain, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := mustParse(t, doc(withCond(tt.cond)))
			want := ImplicitDeny
			if tt.want {
				want = Allow
			}
			if got := Evaluate(ps, tt.req); got != want {
				t.Errorf("Evaluate = %v, want %v", got, want)
			}
		})
	}
}

// TestDenyConditions checks the RAM IP allow-list pattern: Deny with
// NotIpAddress, which also denies when the source address is unknown.
func TestDenyConditions(t *testing.T) {
	ps := mustParse(t, doc(allow("yundun-cert:*", "*"),
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":["192.0.2.0/24","203.0.113.2"]}}}`))
	tests := []struct {
		name string
		ip   net.IP
		want Decision
	}{
		{"inside range", net.ParseIP("192.0.2.200"), Allow},
		{"listed address", net.ParseIP("203.0.113.2"), Allow},
		{"outside", net.ParseIP("198.51.100.1"), ExplicitDeny},
		{"unknown source", nil, ExplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{Action: "yundun-cert:ListCert", Resources: []string{"*"}, SourceIP: tt.ip}
			if got := Evaluate(ps, r); got != tt.want {
				t.Errorf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"a*", "a", false, true},
		{"a*c", "abbbc", false, true},
		{"a*c", "abbbd", false, false},
		{"*a*b*c*", "xxaxxbxxcxx", false, true},
		{"*a*b*c*", "xxaxxcxxbxx", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"a?c", "aéc", false, true}, // '?' is one character, not one byte
		{"*é", "xé", false, true},
		{"ABC", "abc", false, false},
		{"ABC", "abc", true, true},
		{"list*", "ListCert", true, true},
		{"**", "x", false, true},
		{"a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
	}
	for _, tt := range tests {
		if got := glob(tt.pattern, tt.s, tt.fold); got != tt.want {
			t.Errorf("glob(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.fold, got, tt.want)
		}
	}
}

func TestARN(t *testing.T) {
	if got, want := ARN("yundun-cert", 1000000000000001, "ca/abc"), "acs:yundun-cert:*:1000000000000001:ca/abc"; got != want {
		t.Errorf("ARN = %q, want %q", got, want)
	}
	if got, want := ARN("ram", 7, "user/a:b"), "acs:ram:*:7:user/a:b"; got != want {
		t.Errorf("ARN = %q, want %q", got, want)
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{ImplicitDeny: "ImplicitDeny", Allow: "Allow", ExplicitDeny: "ExplicitDeny", Decision(9): "Decision(9)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(d), got, want)
		}
	}
	var zero Decision
	if zero != ImplicitDeny {
		t.Errorf("zero Decision = %v, want ImplicitDeny", zero)
	}
}
