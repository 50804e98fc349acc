package iam

import "sort"

// systemDocs are the built-in system policies pcad ships, named and written
// as Alibaba Cloud's system policies of the same names (scoped to what pcad
// implements: the yundun-cert and ram services).
var systemDocs = map[string]string{
	"AdministratorAccess": `{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}
  ]
}`,
	"AliyunYundunCertFullAccess": `{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": "yundun-cert:*", "Resource": "*"}
  ]
}`,
	"AliyunYundunCertReadOnlyAccess": `{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": ["yundun-cert:Describe*", "yundun-cert:List*", "yundun-cert:Get*"], "Resource": "*"}
  ]
}`,
	"AliyunRAMFullAccess": `{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": "ram:*", "Resource": "*"}
  ]
}`,
	"AliyunRAMReadOnlyAccess": `{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": ["ram:Get*", "ram:List*"], "Resource": "*"}
  ]
}`,
}

// systemPolicies are systemDocs parsed once; a document that fails to parse
// is a programming error caught by the first test run.
var systemPolicies = func() map[string]*Policy {
	m := make(map[string]*Policy, len(systemDocs))
	for name, doc := range systemDocs {
		p, err := Parse(doc)
		if err != nil {
			panic("iam: system policy " + name + ": " + err.Error())
		}
		m[name] = p
	}
	return m
}()

// SystemPolicy returns the built-in system policy called name (names are
// case-sensitive), with its document.
func SystemPolicy(name string) (*Policy, string, bool) {
	p, ok := systemPolicies[name]
	if !ok {
		return nil, "", false
	}
	return p, systemDocs[name], true
}

// SystemPolicyNames lists the built-in system policies, sorted.
func SystemPolicyNames() []string {
	names := make([]string, 0, len(systemDocs))
	for name := range systemDocs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
