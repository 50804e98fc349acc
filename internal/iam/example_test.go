package iam_test

import (
	"fmt"
	"net"

	"github.com/pcad-dev/pcad/internal/iam"
)

func ExampleEvaluate() {
	p, err := iam.Parse(`{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": "yundun-cert:*", "Resource": "*",
     "Condition": {"IpAddress": {"acs:SourceIp": "192.0.2.0/24"}}},
    {"Effect": "Deny", "Action": "yundun-cert:Delete*", "Resource": "*"}
  ]
}`)
	if err != nil {
		panic(err)
	}
	ca := iam.ARN("yundun-cert", 1000000000000001, "ca/1a2b")
	for _, action := range []string{"yundun-cert:DescribeCACertificate", "yundun-cert:DeleteClientCertificate", "ram:CreateUser"} {
		d := iam.Evaluate([]*iam.Policy{p}, iam.Request{Action: action, Resources: []string{ca}, SourceIP: net.ParseIP("192.0.2.7")})
		fmt.Println(action, d)
	}
	// Output:
	// yundun-cert:DescribeCACertificate Allow
	// yundun-cert:DeleteClientCertificate ExplicitDeny
	// ram:CreateUser ImplicitDeny
}

func ExampleParse_error() {
	_, err := iam.Parse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
  "Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.300"}}}]}`)
	fmt.Println(err)
	// Output:
	// Statement[0].Condition.IpAddress."acs:SourceIp": "10.0.0.300" is not an IP address or CIDR
}
