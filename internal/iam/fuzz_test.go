package iam

import (
	"errors"
	"net"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, name := range SystemPolicyNames() {
		_, d, _ := SystemPolicy(name)
		f.Add(d)
	}
	f.Add(doc(okStmt, deny("yundun-cert:Delete*", "acs:yundun-cert:*:*:ca/?*")))
	f.Add(doc(`{"Effect":"Allow","NotAction":["ram:*"],"Resource":["acs:ram::1:user/*","*"]}`))
	f.Add(doc(withCond(`{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","::1"]},"Bool":{"acs:SecureTransport":"true"}}`)))
	f.Add(doc(withCond(`{"DateLessThanIfExists":{"acs:CurrentTime":"2019-08-12T17:00:00+08:00"},"NumericGreaterThan":{"acs:CurrentTime":1}}`)))
	f.Add(doc(withCond(`{"StringNotLike":{"acs:SourceIp":"192.*"},"StringEqualsIgnoreCase":{"acs:SecureTransport":"TRUE"}}`)))
	f.Add(`{"Version":"1","Statement":{}}`)
	f.Add(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Effect":"Deny"}]}`)

	reqs := []Request{
		{Action: "yundun-cert:ListCert", Resources: []string{"*"}},
		{Action: "YUNDUN-CERT:DeleteClientCertificate", Resources: []string{ARN("yundun-cert", 1, "cert/x"), ARN("yundun-cert", 1, "ca/a")},
			SourceIP: net.ParseIP("10.1.2.3"), Time: time.Unix(1565600400, 5), Secure: true},
		{Action: "ram:CreateUser", Resources: []string{"acs:ram::1:user/é?"}, SourceIP: net.ParseIP("::1"), Time: time.Unix(0, 0)},
	}
	f.Fuzz(func(t *testing.T, d string) {
		p, err := Parse(d)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Error() == "" {
				t.Fatalf("Parse error %T %q is not a descriptive *ParseError", err, err)
			}
			if p != nil {
				t.Fatal("Parse returned both a policy and an error")
			}
			return
		}
		p2, err := Parse(d)
		if err != nil {
			t.Fatalf("second Parse failed: %v", err)
		}
		for _, r := range reqs {
			a, b, c := Evaluate([]*Policy{p}, r), Evaluate([]*Policy{p}, r), Evaluate([]*Policy{p2}, r)
			if a != b || a != c {
				t.Fatalf("Evaluate not deterministic for %+v: %v %v %v", r, a, b, c)
			}
			if a < ImplicitDeny || a > ExplicitDeny {
				t.Fatalf("Evaluate returned %v", a)
			}
			// Adding a policy never turns an explicit deny into anything else.
			if a == ExplicitDeny {
				if got := Evaluate([]*Policy{p, systemPolicies["AdministratorAccess"]}, r); got != ExplicitDeny {
					t.Fatalf("admin policy overrode explicit deny: %v", got)
				}
			}
		}
	})
}
