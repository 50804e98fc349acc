package iam

import (
	"slices"
	"testing"
)

func TestSystemPolicyNames(t *testing.T) {
	names := SystemPolicyNames()
	for _, want := range []string{"AdministratorAccess", "AliyunYundunCertFullAccess", "AliyunYundunCertReadOnlyAccess", "AliyunRAMFullAccess", "AliyunRAMReadOnlyAccess"} {
		if !slices.Contains(names, want) {
			t.Errorf("SystemPolicyNames() = %v, missing %s", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("SystemPolicyNames() = %v, not sorted", names)
	}
	for _, name := range names {
		p, d, ok := SystemPolicy(name)
		if !ok || p == nil || d == "" {
			t.Errorf("SystemPolicy(%q) = %v, %q, %v", name, p, d, ok)
			continue
		}
		if _, err := Parse(d); err != nil {
			t.Errorf("SystemPolicy(%q) document does not parse: %v", name, err)
		}
	}
	if _, _, ok := SystemPolicy("administratoraccess"); ok {
		t.Error("SystemPolicy is case-insensitive; want exact names")
	}
	if _, _, ok := SystemPolicy("NoSuchPolicy"); ok {
		t.Error("SystemPolicy(NoSuchPolicy) found")
	}
}

func TestSystemPolicies(t *testing.T) {
	tests := []struct {
		policy string
		action string
		res    string
		want   Decision
	}{
		{"AdministratorAccess", "ram:CreateUser", userU, Allow},
		{"AdministratorAccess", "yundun-cert:DeleteClientCertificate", certX, Allow},
		{"AdministratorAccess", "anything:Else", "*", Allow},
		{"AliyunYundunCertFullAccess", "yundun-cert:CreateRootCACertificate", "*", Allow},
		{"AliyunYundunCertFullAccess", "yundun-cert:UpdateCACertificateStatus", caA, Allow},
		{"AliyunYundunCertFullAccess", "ram:ListUsers", "*", ImplicitDeny},
		{"AliyunYundunCertReadOnlyAccess", "yundun-cert:ListCert", "*", Allow},
		{"AliyunYundunCertReadOnlyAccess", "yundun-cert:DescribeCACertificate", caA, Allow},
		{"AliyunYundunCertReadOnlyAccess", "yundun-cert:GetCAInstanceStatus", "*", Allow},
		{"AliyunYundunCertReadOnlyAccess", "yundun-cert:CreateClientCertificate", caA, ImplicitDeny},
		{"AliyunYundunCertReadOnlyAccess", "yundun-cert:DeleteClientCertificate", certX, ImplicitDeny},
		{"AliyunYundunCertReadOnlyAccess", "ram:ListUsers", "*", ImplicitDeny},
		{"AliyunRAMFullAccess", "ram:CreateUser", userU, Allow},
		{"AliyunRAMFullAccess", "yundun-cert:ListCert", "*", ImplicitDeny},
		{"AliyunRAMReadOnlyAccess", "ram:ListUsers", "*", Allow},
		{"AliyunRAMReadOnlyAccess", "ram:GetUser", userU, Allow},
		{"AliyunRAMReadOnlyAccess", "ram:CreateUser", userU, ImplicitDeny},
		{"AliyunRAMReadOnlyAccess", "ram:DeleteUser", userU, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.action, func(t *testing.T) {
			p, _, ok := SystemPolicy(tt.policy)
			if !ok {
				t.Fatalf("no system policy %s", tt.policy)
			}
			if got := Evaluate([]*Policy{p}, req(tt.action, tt.res)); got != tt.want {
				t.Errorf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}
