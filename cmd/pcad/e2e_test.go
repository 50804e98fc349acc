package main

// End-to-end compatibility tests: every action through the official Alibaba
// Cloud client (darabonba-openapi v2.1.14, generic CallApi) in both signature
// modes, with strict JSON types, outside judges (crypto/x509 and openssl) on
// what is issued, and the protocol behaviour clients rely on.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

var (
	uuidRe     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	lowerHexRe = regexp.MustCompile(`^[0-9a-f]+$`)
)

// near reports whether t is within a few minutes of now (the server and the
// test share a clock).
func near(t time.Time) bool { return time.Since(t).Abs() < 5*time.Minute }

// checkKey checks the certificate's public key against an API algorithm name.
func checkKey(t *testing.T, c *x509.Certificate, alg string) {
	t.Helper()
	switch alg {
	case "RSA_2048":
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok || k.N.BitLen() != 2048 {
			t.Errorf("public key %T, want RSA 2048", c.PublicKey)
		}
	case "ECC_256":
		k, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() {
			t.Errorf("public key %T, want ECDSA P-256", c.PublicKey)
		}
	default:
		t.Fatalf("checkKey: unknown algorithm %s", alg)
	}
}

func checkSubject(t *testing.T, c *x509.Certificate, want map[string]string) {
	t.Helper()
	first := func(v []string) string {
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	got := map[string]string{
		"CommonName": c.Subject.CommonName, "Organization": first(c.Subject.Organization),
		"OrganizationUnit": first(c.Subject.OrganizationalUnit), "Locality": first(c.Subject.Locality),
		"State": first(c.Subject.Province), "CountryCode": first(c.Subject.Country),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("subject %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestCreateRootCACertificate(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		for _, alg := range []string{"RSA_2048", "ECC_256"} {
			t.Run(mode+"/"+alg, func(t *testing.T) {
				c := ts.client(t, mode)
				q := rootParams(alg)
				q["ClientToken"] = "root-" + mode + "-" + alg
				b := mustCall(t, c, "CreateRootCACertificate", q)
				id := jStr(t, b, "Identifier")
				if !uuidRe.MatchString(id) {
					t.Errorf("Identifier %q is not a lower-case UUID", id)
				}
				cert := parsePEM(t, jStr(t, b, "Certificate"))
				chain := parsePEMs(t, jStr(t, b, "CertificateChain"))
				if len(chain) != 1 || !chain[0].Equal(cert) {
					t.Errorf("CertificateChain of a root holds %d certificates, want the root itself", len(chain))
				}
				if !cert.IsCA || !cert.BasicConstraintsValid {
					t.Errorf("root is not a CA: IsCA=%v BasicConstraintsValid=%v", cert.IsCA, cert.BasicConstraintsValid)
				}
				if cert.KeyUsage&x509.KeyUsageCertSign == 0 {
					t.Errorf("root key usage %v lacks certSign", cert.KeyUsage)
				}
				if err := cert.CheckSignatureFrom(cert); err != nil {
					t.Errorf("root is not self-signed: %v", err)
				}
				checkKey(t, cert, alg)
				checkSubject(t, cert, map[string]string{"CommonName": q["CommonName"], "Organization": "pcad",
					"OrganizationUnit": "QA", "Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN"})
				if !near(cert.NotBefore) {
					t.Errorf("NotBefore %v is not now", cert.NotBefore)
				}
				if want := cert.NotBefore.AddDate(10, 0, 0); !cert.NotAfter.Equal(want) {
					t.Errorf("NotAfter %v, want NotBefore + 10 years = %v", cert.NotAfter, want)
				}
			})
		}
	}
}

func TestCreateSubCACertificate(t *testing.T) {
	ts := startServer(t, 0)
	cases := []struct {
		name        string
		over        map[string]string
		wantEKU     []x509.ExtKeyUsage
		wantPathLen int
	}{
		{"eku-and-pathlen0", map[string]string{"ExtendedKeyUsages.1": "serverAuth", "ExtendedKeyUsages.2": "clientAuth", "PathLenConstraint": "0"},
			[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, 0},
		{"pathlen1-no-eku", map[string]string{"PathLenConstraint": "1"}, nil, 1},
		{"defaults", nil, nil, 0},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		root := createRoot(t, c, "ECC_256", nil)
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				q := with(subParams(root.ID, "ECC_256"), tc.over)
				q["ClientToken"] = "sub-" + mode + "-" + tc.name // travels in the form body
				b := mustCall(t, c, "CreateSubCACertificate", q)
				sub := toCA(t, b)
				if !uuidRe.MatchString(sub.ID) {
					t.Errorf("Identifier %q is not a lower-case UUID", sub.ID)
				}
				cert := sub.Cert
				if !cert.IsCA || !cert.BasicConstraintsValid {
					t.Errorf("sub-CA is not a CA")
				}
				if cert.MaxPathLen != tc.wantPathLen || (tc.wantPathLen == 0 && !cert.MaxPathLenZero) {
					t.Errorf("MaxPathLen %d (zero=%v), want %d", cert.MaxPathLen, cert.MaxPathLenZero, tc.wantPathLen)
				}
				if !slices.Equal(cert.ExtKeyUsage, tc.wantEKU) {
					t.Errorf("ExtKeyUsage %v, want %v", cert.ExtKeyUsage, tc.wantEKU)
				}
				if err := cert.CheckSignatureFrom(root.Cert); err != nil {
					t.Errorf("sub-CA is not signed by the root: %v", err)
				}
				if !slices.Equal(cert.RawIssuer, root.Cert.RawSubject) {
					t.Errorf("issuer %v, want %v", cert.Issuer, root.Cert.Subject)
				}
				if !slices.Equal(cert.AuthorityKeyId, root.Cert.SubjectKeyId) || len(cert.SubjectKeyId) == 0 {
					t.Errorf("AKI/SKI wrong: AKI %x, root SKI %x, SKI %x", cert.AuthorityKeyId, root.Cert.SubjectKeyId, cert.SubjectKeyId)
				}
				checkKey(t, cert, "ECC_256")
				checkSubject(t, cert, map[string]string{"CommonName": "pcad Test Sub ECC_256", "CountryCode": "CN", "State": "Zhejiang"})
				if want := cert.NotBefore.AddDate(5, 0, 0); !cert.NotAfter.Equal(want) || !near(cert.NotBefore) {
					t.Errorf("validity %v..%v, want now..+5 years", cert.NotBefore, cert.NotAfter)
				}
				chain := parsePEMs(t, sub.Chain)
				if len(chain) != 2 || !chain[0].Equal(cert) || !chain[1].Equal(root.Cert) {
					t.Errorf("CertificateChain holds %d certificates, want [sub, root]", len(chain))
				}
			})
		}
	}
}

func TestDescribeCACertificate(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			root, sub := hierarchy(t, c)
			describe := func(id string) (map[string]any, map[string]any) {
				b := mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": id})
				return b, jObj(t, b, "Certificate")
			}
			for _, tc := range []struct {
				name, typ, parent string
				ca                ca
				years             int64
			}{
				{"root", "ROOT", "", root, 10},
				{"sub", "SUB_ROOT", root.ID, sub, 5},
			} {
				t.Run(tc.name, func(t *testing.T) {
					top, rec := describe(tc.ca.ID)
					if got := jInt(t, top, "Years"); got != tc.years {
						t.Errorf("top-level Years %d, want %d", got, tc.years)
					}
					cert := tc.ca.Cert
					strs := map[string]string{
						"Identifier": tc.ca.ID, "CertificateType": tc.typ, "Status": "ISSUE",
						"CommonName": cert.Subject.CommonName, "Organization": "pcad", "OrganizationUnit": "QA",
						"Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN",
						"Algorithm": "ECC", "FullAlgorithm": "ECC_256",
						"SerialNumber": cert.SerialNumber.Text(16), "X509Certificate": tc.ca.PEM,
					}
					for k, want := range strs {
						if got := jStr(t, rec, k); got != want {
							t.Errorf("%s = %q, want %q", k, got, want)
						}
					}
					if tc.parent != "" {
						if got := jStr(t, rec, "ParentIdentifier"); got != tc.parent {
							t.Errorf("ParentIdentifier %q, want %q", got, tc.parent)
						}
					} else if p, ok := rec["ParentIdentifier"]; ok && p != "" {
						t.Errorf("a root has ParentIdentifier %v", p)
					}
					if got := jStr(t, rec, "SubjectDN"); got != cert.Subject.String() {
						t.Errorf("SubjectDN %q, want %q", got, cert.Subject.String())
					}
					if jStr(t, rec, "SignAlgorithm") == "" {
						t.Error("SignAlgorithm is empty")
					}
					m := md5.Sum(cert.Raw)
					s := sha256.Sum256(cert.Raw)
					if got := strings.ToLower(jStr(t, rec, "Md5")); got != hex.EncodeToString(m[:]) {
						t.Errorf("Md5 %s, want %x", got, m)
					}
					if got := strings.ToLower(jStr(t, rec, "Sha2")); got != hex.EncodeToString(s[:]) {
						t.Errorf("Sha2 %s, want %x", got, s)
					}
					if got := jInt(t, rec, "KeySize"); got != 256 {
						t.Errorf("KeySize %d, want 256", got)
					}
					if got := jInt(t, rec, "BeforeDate"); got != cert.NotBefore.UnixMilli() {
						t.Errorf("BeforeDate %d, want %d (ms)", got, cert.NotBefore.UnixMilli())
					}
					if got := jInt(t, rec, "AfterDate"); got != cert.NotAfter.UnixMilli() {
						t.Errorf("AfterDate %d, want %d (ms)", got, cert.NotAfter.UnixMilli())
					}
					if got := jInt(t, rec, "Years"); got != tc.years {
						t.Errorf("Years %d, want %d", got, tc.years)
					}
					for _, k := range []string{"CertIssuedCount", "CertRemainingCount", "CertTotalCount", "CertMaxTime", "CrlDay"} {
						jInt(t, rec, k)
					}
					for _, k := range []string{"CrlStatus", "CrlUrl", "IssuerType", "ResourceGroupId"} {
						jStr(t, rec, k)
					}
					jArr(t, rec, "Tags")
					chain := parsePEMs(t, jStr(t, rec, "CaCertChain"))
					if !chain[0].Equal(cert) || !chain[len(chain)-1].Equal(root.Cert) {
						t.Errorf("CaCertChain does not run from the CA to the root")
					}
				})
			}
			// CertIssuedCount counts what the sub-CA issued, revoked or not.
			_, rec := describe(sub.ID)
			if got := jInt(t, rec, "CertIssuedCount"); got != 0 {
				t.Errorf("CertIssuedCount of a fresh sub-CA %d, want 0", got)
			}
			issueServer(t, c, sub.ID, nil)
			id := issueClient(t, c, sub.ID, nil)
			revoke(t, c, id)
			_, rec = describe(sub.ID)
			if got := jInt(t, rec, "CertIssuedCount"); got != 2 {
				t.Errorf("CertIssuedCount after two issues %d, want 2", got)
			}
		})
	}
}

func TestCreateServerCertificate(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		c := ts.client(t, mode)
		root, sub := hierarchy(t, c)
		for _, imm := range []string{"0", "1", "2"} {
			t.Run(mode+"/Immediately="+imm, func(t *testing.T) {
				b := mustCall(t, c, "CreateServerCertificate", with(serverParams(sub.ID), map[string]string{
					"Domain": "api.example.com, 10.0.0.1", "Immediately": imm, "Days": "30",
					"Organization": "Example", "Country": "US", "CustomIdentifier": "srv-" + mode + "-" + imm,
				}))
				id := jStr(t, b, "Identifier")
				if !uuidRe.MatchString(id) {
					t.Errorf("Identifier %q is not a UUID", id)
				}
				serial := jStr(t, b, "SerialNumber")
				if !lowerHexRe.MatchString(serial) {
					t.Errorf("SerialNumber %q is not lower-case hex", serial)
				}
				_, hasCert := b["X509Certificate"]
				_, hasChain := b["CertificateChain"]
				if wantCert := imm != "0"; hasCert != wantCert {
					t.Errorf("X509Certificate present=%v, want %v", hasCert, wantCert)
				}
				if wantChain := imm == "2"; hasChain != wantChain {
					t.Errorf("CertificateChain present=%v, want %v", hasChain, wantChain)
				}
				var certPEM string
				if hasCert {
					certPEM = jStr(t, b, "X509Certificate")
				} else {
					d := mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": id})
					certPEM = jStr(t, jObj(t, d, "Certificate"), "X509Certificate")
				}
				cert := parsePEM(t, certPEM)
				if got := cert.SerialNumber.Text(16); got != serial {
					t.Errorf("certificate serial %s, SerialNumber field %s", got, serial)
				}
				if !slices.Equal(cert.DNSNames, []string{"www.example.com", "api.example.com"}) {
					t.Errorf("DNSNames %v", cert.DNSNames)
				}
				if len(cert.IPAddresses) != 1 || !cert.IPAddresses[0].Equal(net.ParseIP("10.0.0.1")) {
					t.Errorf("IPAddresses %v", cert.IPAddresses)
				}
				if cert.Subject.CommonName != "www.example.com" || !slices.Equal(cert.Subject.Organization, []string{"Example"}) ||
					!slices.Equal(cert.Subject.Country, []string{"US"}) {
					t.Errorf("subject %v", cert.Subject)
				}
				if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || cert.IsCA {
					t.Errorf("ExtKeyUsage %v IsCA %v, want a serverAuth leaf", cert.ExtKeyUsage, cert.IsCA)
				}
				if d := cert.NotAfter.Sub(cert.NotBefore); d != 30*24*time.Hour || !near(cert.NotBefore) {
					t.Errorf("validity %v..%v (%v), want now + 30 days", cert.NotBefore, cert.NotAfter, d)
				}
				if err := cert.CheckSignatureFrom(sub.Cert); err != nil {
					t.Errorf("not signed by the sub-CA: %v", err)
				}
				if hasChain {
					chain := parsePEMs(t, jStr(t, b, "CertificateChain"))
					if len(chain) != 2 || !chain[0].Equal(sub.Cert) || !chain[1].Equal(root.Cert) {
						t.Errorf("CertificateChain holds %d certificates, want [sub, root]", len(chain))
					}
				}
			})
		}
	}
}

func TestCreateClientCertificate(t *testing.T) {
	ts := startServer(t, 0)
	cases := []struct {
		name       string
		sanType    string
		sanValue   string
		wantEmails []string
		wantURIs   []string
		wantSans   []map[string]any
	}{
		{"email", "1", "alice@example.com, bob@example.org", []string{"alice@example.com", "bob@example.org"}, nil,
			[]map[string]any{{"Type": 1.0, "Value": "alice@example.com"}, {"Type": 1.0, "Value": "bob@example.org"}}},
		{"uri", "6", "spiffe://example.com/ns/default/sa/alice", nil, []string{"spiffe://example.com/ns/default/sa/alice"},
			[]map[string]any{{"Type": 6.0, "Value": "spiffe://example.com/ns/default/sa/alice"}}},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		_, sub := hierarchy(t, c)
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				custom := "cli-" + mode + "-" + tc.name
				b := mustCall(t, c, "CreateClientCertificate", with(clientParams(sub.ID), map[string]string{
					"SanType": tc.sanType, "SanValue": tc.sanValue, "AliasName": "Alice's laptop", "CustomIdentifier": custom,
					"Tags.1.Key": "env", "Tags.1.Value": "prod", "Tags.2.Key": "team", "Tags.2.Value": "pki",
					"ClientToken": "tok-" + custom, "Immediately": "2", "Days": "7",
				}))
				id := jStr(t, b, "Identifier")
				cert := parsePEM(t, jStr(t, b, "X509Certificate"))
				parsePEMs(t, jStr(t, b, "CertificateChain"))
				if cert.SerialNumber.Text(16) != jStr(t, b, "SerialNumber") {
					t.Errorf("SerialNumber field does not match the certificate")
				}
				if !slices.Equal(cert.EmailAddresses, tc.wantEmails) {
					t.Errorf("EmailAddresses %v, want %v", cert.EmailAddresses, tc.wantEmails)
				}
				var uris []string
				for _, u := range cert.URIs {
					uris = append(uris, u.String())
				}
				if !slices.Equal(uris, tc.wantURIs) {
					t.Errorf("URIs %v, want %v", uris, tc.wantURIs)
				}
				if len(cert.DNSNames)+len(cert.IPAddresses) != 0 {
					t.Errorf("a client certificate got DNS/IP names %v %v", cert.DNSNames, cert.IPAddresses)
				}
				if cert.Subject.CommonName != "alice" || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
					t.Errorf("CN %q EKU %v, want alice/clientAuth", cert.Subject.CommonName, cert.ExtKeyUsage)
				}
				if d := cert.NotAfter.Sub(cert.NotBefore); d != 7*24*time.Hour {
					t.Errorf("validity %v, want 7 days", d)
				}

				rec := jObj(t, mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": id}), "Certificate")
				if jStr(t, rec, "AliasName") != "Alice's laptop" || jStr(t, rec, "CustomIdentifier") != custom {
					t.Errorf("AliasName %q CustomIdentifier %q", rec["AliasName"], rec["CustomIdentifier"])
				}
				if jStr(t, rec, "CertificateType") != "CLIENT" {
					t.Errorf("CertificateType %v, want CLIENT", rec["CertificateType"])
				}
				var sans []map[string]any
				if err := json.Unmarshal([]byte(jStr(t, rec, "Sans")), &sans); err != nil {
					t.Fatalf("Sans is not JSON text: %v", err)
				}
				if fmt.Sprint(sans) != fmt.Sprint(tc.wantSans) {
					t.Errorf("Sans %v, want %v", sans, tc.wantSans)
				}
				tags := jObjects(t, rec, "Tags")
				if len(tags) != 2 || jStr(t, tags[0], "TagKey") != "env" || jStr(t, tags[0], "TagValue") != "prod" ||
					jStr(t, tags[1], "TagKey") != "team" || jStr(t, tags[1], "TagValue") != "pki" {
					t.Errorf("Tags %v, want [{env prod} {team pki}]", tags)
				}
			})
		}
	}
}

func TestDescribeClientCertificate(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			root, sub := hierarchy(t, c)
			b := mustCall(t, c, "CreateServerCertificate", with(serverParams(sub.ID), map[string]string{
				"Domain": "10.1.2.3", "Days": "10", "CustomIdentifier": "desc-" + mode, "Tags.1.Key": "env", "Tags.1.Value": "dev",
			}))
			id := jStr(t, b, "Identifier")
			cert := parsePEM(t, jStr(t, b, "X509Certificate"))
			top := mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": id})
			rec := jObj(t, top, "Certificate")

			strs := map[string]string{
				"Identifier": id, "ParentIdentifier": sub.ID, "SerialNumber": cert.SerialNumber.Text(16),
				"CertificateType": "SERVER", "Status": "ISSUE", "CommonName": "www.example.com",
				"Organization": "pcad", "OrganizationUnit": "QA", "Locality": "Hangzhou", "State": "Zhejiang",
				"CountryCode": "CN", "SubjectDN": cert.Subject.String(), "Algorithm": "ECC", "FullAlgorithm": "ECC_256",
				"X509Certificate": jStr(t, b, "X509Certificate"), "CustomIdentifier": "desc-" + mode, "AliasName": "",
			}
			for k, want := range strs {
				if got := jStr(t, rec, k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, k := range []string{"SignAlgorithm", "Md5", "Sha2", "ResourceGroupId"} {
				jStr(t, rec, k)
			}
			s := sha256.Sum256(cert.Raw)
			if got := strings.ToLower(jStr(t, rec, "Sha2")); got != hex.EncodeToString(s[:]) {
				t.Errorf("Sha2 %s, want %x", got, s)
			}
			if got := jInt(t, rec, "Id"); got <= 0 {
				t.Errorf("Id %d, want a positive number", got)
			}
			if got := jInt(t, rec, "KeySize"); got != 256 {
				t.Errorf("KeySize %d", got)
			}
			if got := jInt(t, rec, "BeforeDate"); got != cert.NotBefore.UnixMilli() {
				t.Errorf("BeforeDate %d, want %d ms", got, cert.NotBefore.UnixMilli())
			}
			if got := jInt(t, rec, "AfterDate"); got != cert.NotAfter.UnixMilli() {
				t.Errorf("AfterDate %d, want %d ms", got, cert.NotAfter.UnixMilli())
			}
			if got := jInt(t, rec, "Days"); got != 10 {
				t.Errorf("Days %d, want 10", got)
			}
			jInt(t, rec, "UploadFlag")
			var sans []struct {
				Type  int
				Value string
			}
			if err := json.Unmarshal([]byte(jStr(t, rec, "Sans")), &sans); err != nil {
				t.Fatalf("Sans is not JSON text: %v", err)
			}
			if fmt.Sprint(sans) != "[{2 www.example.com} {7 10.1.2.3}]" {
				t.Errorf("Sans %v, want DNS www.example.com and IP 10.1.2.3", sans)
			}
			tags := jObjects(t, rec, "Tags")
			if len(tags) != 1 || jStr(t, tags[0], "TagKey") != "env" || jStr(t, tags[0], "TagValue") != "dev" {
				t.Errorf("Tags %v, want [{TagKey:env TagValue:dev}]", tags)
			}
			chain := parsePEMs(t, jStr(t, rec, "CertChain"))
			if !slices.ContainsFunc(chain, sub.Cert.Equal) || !slices.ContainsFunc(chain, root.Cert.Equal) {
				t.Errorf("CertChain lacks the sub-CA or the root")
			}
			if _, ok := rec["Years"]; ok {
				t.Errorf("DescribeClientCertificate carries Years, which B.3 drops")
			}

			revoke(t, c, id)
			rec = jObj(t, mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": id}), "Certificate")
			if got := jStr(t, rec, "Status"); got != "REVOKE" {
				t.Errorf("Status after revoke %q, want REVOKE", got)
			}
		})
	}
}

func TestCreateRevokeClientCertificate(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			_, sub := hierarchy(t, c)
			srv := issueServer(t, c, sub.ID, nil)
			cli := issueClient(t, c, sub.ID, nil)
			keep := issueClient(t, c, sub.ID, nil)
			for _, id := range []string{srv, cli} {
				b := mustCall(t, c, "CreateRevokeClientCertificate", map[string]string{"Identifier": id})
				for k := range b {
					if k != "RequestId" {
						t.Errorf("revoke answer carries %s; B.3 defines only RequestId", k)
					}
				}
			}
			status := map[string]string{}
			for _, it := range jObjects(t, list(t, c, map[string]string{"ParentIdentifier": sub.ID}), "List") {
				status[jStr(t, it, "Identifier")] = jStr(t, it, "Status")
			}
			want := map[string]string{srv: "REVOKE", cli: "REVOKE", keep: "ISSUE"}
			if fmt.Sprint(status) != fmt.Sprint(want) {
				t.Errorf("statuses in ListCert %v, want %v", status, want)
			}
		})
	}
}

// ---- outside judges ---------------------------------------------------------

func writePEM(t *testing.T, dir, name, pemText string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(pemText), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func opensslVerify(t *testing.T, rootPEM, subPEM, leafPEM string, extra ...string) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	args := []string{"verify", "-CAfile", writePEM(t, dir, "root.pem", rootPEM), "-untrusted", writePEM(t, dir, "sub.pem", subPEM)}
	args = append(args, extra...)
	leaf := writePEM(t, dir, "leaf.pem", leafPEM)
	out, err := exec.Command(bin, append(args, leaf)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), leaf+": OK") {
		t.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestOutsideJudges(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			root := createRoot(t, c, "ECC_256", nil)
			sub := createSub(t, c, root.ID, "ECC_256", map[string]string{
				"ExtendedKeyUsages.1": "serverAuth", "ExtendedKeyUsages.2": "clientAuth", "PathLenConstraint": "0"})
			roots := x509.NewCertPool()
			roots.AddCert(root.Cert)

			srvBody := mustCall(t, c, "CreateServerCertificate", with(serverParams(sub.ID), map[string]string{
				"CommonName": "svc.internal.example", "Domain": "api.example.com,192.0.2.7,2001:db8::1", "Days": "90", "Immediately": "2"}))
			srvPEM := jStr(t, srvBody, "X509Certificate")
			srv := parsePEM(t, srvPEM)
			chain := parsePEMs(t, jStr(t, srvBody, "CertificateChain"))
			inter := x509.NewCertPool()
			inter.AddCert(chain[0]) // the chain the API returned, not the one the test holds

			cliBody := mustCall(t, c, "CreateClientCertificate", with(clientParams(sub.ID), map[string]string{
				"SanType": "1", "SanValue": "alice@example.com", "Days": "45", "Immediately": "1"}))
			cliPEM := jStr(t, cliBody, "X509Certificate")
			cli := parsePEM(t, cliPEM)

			t.Run("x509/server", func(t *testing.T) {
				for _, name := range []string{"svc.internal.example", "api.example.com", "192.0.2.7", "2001:db8::1"} {
					chains, err := srv.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name,
						KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
					if err != nil {
						t.Errorf("Verify(%s): %v", name, err)
						continue
					}
					if len(chains[0]) != 3 || !chains[0][1].Equal(sub.Cert) || !chains[0][2].Equal(root.Cert) {
						t.Errorf("Verify(%s) built a chain of %d, want leaf -> sub -> root", name, len(chains[0]))
					}
				}
				if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "evil.example.com",
					KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
					t.Error("the server certificate verifies for a name it does not carry")
				}
			})
			t.Run("x509/client", func(t *testing.T) {
				if _, err := cli.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
					KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
					t.Errorf("Verify: %v", err)
				}
				if !slices.Equal(cli.EmailAddresses, []string{"alice@example.com"}) {
					t.Errorf("EmailAddresses %v", cli.EmailAddresses)
				}
			})
			t.Run("validity", func(t *testing.T) {
				for _, tc := range []struct {
					c    *x509.Certificate
					days int
				}{{srv, 90}, {cli, 45}} {
					if d := tc.c.NotAfter.Sub(tc.c.NotBefore); d != time.Duration(tc.days)*24*time.Hour || !near(tc.c.NotBefore) {
						t.Errorf("%s: %v..%v, want now + %d days", tc.c.Subject.CommonName, tc.c.NotBefore, tc.c.NotAfter, tc.days)
					}
					if tc.c.NotAfter.After(sub.Cert.NotAfter) || tc.c.NotBefore.Before(sub.Cert.NotBefore) {
						t.Errorf("%s outlives its issuer", tc.c.Subject.CommonName)
					}
				}
			})
			t.Run("SANs", func(t *testing.T) {
				if !slices.Equal(srv.DNSNames, []string{"svc.internal.example", "api.example.com"}) {
					t.Errorf("DNSNames %v", srv.DNSNames)
				}
				var ips []string
				for _, ip := range srv.IPAddresses {
					ips = append(ips, ip.String())
				}
				if !slices.Equal(ips, []string{"192.0.2.7", "2001:db8::1"}) {
					t.Errorf("IPAddresses %v", ips)
				}
			})
			t.Run("openssl/server", func(t *testing.T) {
				opensslVerify(t, root.PEM, sub.PEM, srvPEM, "-purpose", "sslserver", "-verify_hostname", "api.example.com")
			})
			t.Run("openssl/client", func(t *testing.T) {
				opensslVerify(t, root.PEM, sub.PEM, cliPEM, "-purpose", "sslclient", "-verify_email", "alice@example.com")
			})
		})
	}
}

// ---- protocol -------------------------------------------------------------

func TestProtocolUnknownAction(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			_, err := call(t, ts.client(t, mode), "NoSuchAction", map[string]string{"Foo": "bar"})
			wantErr(t, err, http.StatusNotFound, "InvalidAction.NotFound")
		})
	}
}

func TestProtocolWrongSecret(t *testing.T) {
	ts := startServer(t, 0)
	want := map[string]string{"v3": "IncompleteSignature", "v1": "SignatureDoesNotMatch"}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := clientFor(t, ts, mode, ts.keyID, ts.secret+"x")
			_, err := call(t, c, "ListCert", nil)
			wantErr(t, err, http.StatusBadRequest, want[mode])
			// and nothing was done: a refused create stores nothing
			_, err = call(t, c, "CreateRootCACertificate", rootParams("ECC_256"))
			wantErr(t, err, http.StatusBadRequest, want[mode])
			var n int
			if err := ts.app.store.DB().QueryRow("SELECT COUNT(*) FROM cas").Scan(&n); err != nil || n != 0 {
				t.Errorf("a badly signed create stored %d CAs (err %v)", n, err)
			}
		})
	}
}

func TestProtocolUnknownAccessKey(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := clientFor(t, ts, mode, "LTAInoSuchKey0000000000", ts.secret)
			_, err := call(t, c, "ListCert", nil)
			wantErr(t, err, http.StatusNotFound, "InvalidAccessKeyId.NotFound")
		})
	}
}

func TestProtocolThrottling(t *testing.T) {
	ts := startServer(t, 2)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			time.Sleep(1100 * time.Millisecond) // let the bucket refill between modes
			c := ts.client(t, mode)
			var header string
			var throttled error
			for range 10 {
				res, err := callFull(t, c, "ListCert", nil, nil)
				if err != nil {
					throttled = err
					break
				}
				header = res.Headers["x-ratelimit-user-api"]
			}
			if header == "" || !strings.Contains(header, "Limit:2") || !strings.Contains(header, "TimeLeft:") {
				t.Errorf("x-ratelimit-user-api on an allowed call = %q, want Limit:2,...,TimeLeft:n", header)
			}
			if throttled == nil {
				t.Fatal("10 rapid calls at 2 per second were never throttled")
			}
			var se *tea.SDKError
			if !errors.As(throttled, &se) {
				t.Fatalf("throttled error is %T, want *tea.SDKError", throttled)
			}
			e := wantErr(t, throttled, 0, "Throttling.User")
			if e.Status != 400 && e.Status != 429 {
				t.Errorf("throttled with HTTP %d, want 400 or 429", e.Status)
			}

			// With SDK errors off the client reports its own ThrottlingError,
			// whose RetryAfter it reads from x-ratelimit-user-api TimeLeft.
			raw := ts.client(t, mode)
			raw.DisableSDKError = tea.Bool(true)
			var te *openapiclient.ThrottlingError
			for range 10 {
				if _, err := callFull(t, raw, "ListCert", nil, nil); errors.As(err, &te) {
					break
				} else if err != nil {
					t.Fatalf("want *ThrottlingError, got %T %v", err, err)
				}
			}
			if te == nil {
				t.Fatal("never throttled with DisableSDKError")
			}
			if tea.StringValue(te.Code) != "Throttling.User" {
				t.Errorf("ThrottlingError code %q", tea.StringValue(te.Code))
			}
			if te.RetryAfter == nil || *te.RetryAfter <= 0 {
				t.Errorf("RetryAfter %v: the throttled answer lacks x-ratelimit-user-api TimeLeft", te.RetryAfter)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	ts := startServer(t, 0)
	for _, path := range []string{"/healthz", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(ts.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: HTTP %d, want 200", path, resp.StatusCode)
			}
		})
	}
}

// TestPureGoBuild checks that the whole module builds without cgo (the
// SQLite driver is pure Go), so pcad ships as a static binary.
func TestPureGoBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	cmd := exec.Command(gobin, "build", "./...")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./...: %v\n%s", err, out)
	}
}
