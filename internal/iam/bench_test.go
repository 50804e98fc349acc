package iam

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// BenchmarkEvaluate decides one request against 10 policies of 10
// statements each; only the last statement of the last policy allows it, and
// every Deny statement must be checked first.
func BenchmarkEvaluate(b *testing.B) {
	var ps []*Policy
	for i := range 10 {
		var stmts []string
		for j := range 10 {
			switch {
			case i == 9 && j == 9:
				stmts = append(stmts, `{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:Create*"],"Resource":"acs:yundun-cert:*:1000000000000001:ca/*","Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.0.2.0/24"]},"Bool":{"acs:SecureTransport":"true"}}}`)
			case j%3 == 0:
				stmts = append(stmts, fmt.Sprintf(`{"Effect":"Deny","Action":["yundun-cert:Delete%d*","ram:*"],"Resource":"acs:yundun-cert:*:*:ca/deny-%d-*","Condition":{"NotIpAddress":{"acs:SourceIp":"192.0.2.0/24"}}}`, j, i))
			default:
				stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["yundun-cert:List%d*","yundun-cert:Get*Status"],"Resource":["acs:yundun-cert:*:1000000000000001:ca/p%d-%d","acs:yundun-cert:*:*:cert/*"],"Condition":{"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}}`, j, i, j))
			}
		}
		ps = append(ps, mustParse(b, `{"Version":"1","Statement":[`+strings.Join(stmts, ",")+`]}`)...)
	}
	r := Request{
		Action:    "yundun-cert:CreateSubCACertificate",
		Resources: []string{ARN("yundun-cert", acct, "ca/root-1"), ARN("yundun-cert", acct, "ca/root-2")},
		SourceIP:  net.ParseIP("192.0.2.44"),
		Time:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Secure:    true,
	}
	if got := Evaluate(ps, r); got != Allow {
		b.Fatalf("Evaluate = %v, want Allow", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Evaluate(ps, r)
	}
}

func BenchmarkParse(b *testing.B) {
	d := doc(okStmt, deny("yundun-cert:Delete*", "acs:yundun-cert:*:*:ca/*"),
		withCond(`{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.0.2.0/24"]},"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}`))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(d); err != nil {
			b.Fatal(err)
		}
	}
}
