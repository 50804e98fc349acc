package main

// Bad input, per action: every refused request answers 4xx with a stable
// code and a message naming the parameter, and changes nothing.

import (
	"net/http"
	"testing"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
)

// badFixture is the state the bad-input cases run against.
type badFixture struct {
	Root, Root5, RootRSA       ca // ECC 10 years, ECC 5 years, RSA 10 years
	Sub, SubRSA, SubClientOnly ca // ECC 5 years, RSA 5 years, ECC restricted to clientAuth
	Server, Client, Revoked    string
	ServerCustom, ClientCustom string
	unknownCA, unknownCert     string
}

func newBadFixture(t *testing.T, c *openapiclient.Client, mode string) *badFixture {
	t.Helper()
	f := &badFixture{}
	f.Root = createRoot(t, c, "ECC_256", nil)
	f.Root5 = createRoot(t, c, "ECC_256", map[string]string{"Years": "5"})
	f.RootRSA = createRoot(t, c, "RSA_2048", nil)
	f.Sub = createSub(t, c, f.Root.ID, "ECC_256", nil)
	f.SubRSA = createSub(t, c, f.RootRSA.ID, "RSA_2048", nil)
	f.SubClientOnly = createSub(t, c, f.Root.ID, "ECC_256", map[string]string{"ExtendedKeyUsages.1": "clientAuth"})
	f.ServerCustom, f.ClientCustom = "dup-srv-"+mode, "dup-cli-"+mode
	f.Server = issueServer(t, c, f.Sub.ID, map[string]string{"CustomIdentifier": f.ServerCustom})
	f.Client = issueClient(t, c, f.Sub.ID, map[string]string{"CustomIdentifier": f.ClientCustom})
	f.Revoked = issueClient(t, c, f.Sub.ID, nil)
	revoke(t, c, f.Revoked)
	f.unknownCA = "01234567-89ab-7cde-8f01-23456789abcd"
	f.unknownCert = "01234567-89ab-7cde-8f01-000000000000"
	return f
}

type badCase struct {
	name    string
	action  string
	params  map[string]string
	status  int    // 0: any 4xx
	code    string // exact wire code
	mention []string
}

func badCases(f *badFixture) []badCase {
	root := func(over map[string]string) map[string]string { return with(rootParams("ECC_256"), over) }
	sub := func(over map[string]string) map[string]string {
		return with(with(subParams(f.Root.ID, "ECC_256"), map[string]string{"ClientToken": "bad-sub"}), over)
	}
	srv := func(over map[string]string) map[string]string { return with(serverParams(f.Sub.ID), over) }
	cli := func(over map[string]string) map[string]string {
		return with(with(clientParams(f.Sub.ID), map[string]string{"ClientToken": "bad-cli"}), over)
	}
	const (
		root400 = "CreateRootCACertificate"
		sub400  = "CreateSubCACertificate"
		srv400  = "CreateServerCertificate"
		cli400  = "CreateClientCertificate"
		rev     = "CreateRevokeClientCertificate"
		descC   = "DescribeClientCertificate"
		descCA  = "DescribeCACertificate"
		bad     = http.StatusBadRequest
		nf      = http.StatusNotFound
	)
	var cases []badCase
	add := func(name, action string, params map[string]string, status int, code string, mention ...string) {
		cases = append(cases, badCase{name, action, params, status, code, mention})
	}
	missing := func(action string, base func(map[string]string) map[string]string, names ...string) {
		for _, n := range names {
			add("missing-"+n, action, base(map[string]string{n: drop}), bad, "MissingParameter", n)
		}
	}

	// CreateRootCACertificate
	missing(root400, root, "CommonName", "Organization", "OrganizationUnit", "Locality", "State", "Years")
	add("Years=abc", root400, root(map[string]string{"Years": "abc"}), bad, "InvalidParameter.Years", "Years")
	add("Years=-1", root400, root(map[string]string{"Years": "-1"}), bad, "InvalidParameter.Years", "Years")
	add("Years=4", root400, root(map[string]string{"Years": "4"}), bad, "InvalidParameter.Years", "Years")
	add("Years=11", root400, root(map[string]string{"Years": "11"}), bad, "InvalidParameter.Years", "Years")
	add("Algorithm=RSA_1024", root400, root(map[string]string{"Algorithm": "RSA_1024"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("Algorithm=FOO", root400, root(map[string]string{"Algorithm": "FOO"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("Algorithm=ecc_256", root400, root(map[string]string{"Algorithm": "ecc_256"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("CountryCode=CHN", root400, root(map[string]string{"CountryCode": "CHN"}), bad, "InvalidParameter.CountryCode", "CountryCode")
	add("CountryCode=C1", root400, root(map[string]string{"CountryCode": "C1"}), bad, "InvalidParameter.CountryCode", "CountryCode")

	// CreateSubCACertificate
	missing(sub400, sub, "ParentIdentifier", "Algorithm", "CommonName", "Organization", "OrganizationUnit", "Locality", "State", "Years")
	add("Years=abc", sub400, sub(map[string]string{"Years": "abc"}), bad, "InvalidParameter.Years", "Years")
	add("Years=4", sub400, sub(map[string]string{"Years": "4"}), bad, "InvalidParameter.Years", "Years")
	add("Years=11", sub400, sub(map[string]string{"Years": "11"}), bad, "InvalidParameter.Years", "Years")
	add("Years-beyond-root", sub400, sub(map[string]string{"ParentIdentifier": f.Root5.ID, "Years": "6"}), bad, "InvalidParameter.Years", "Years")
	add("Algorithm=RSA_1024", sub400, sub(map[string]string{"Algorithm": "RSA_1024"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("Algorithm=FOO", sub400, sub(map[string]string{"Algorithm": "FOO"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("family-mismatch", sub400, sub(map[string]string{"Algorithm": "RSA_2048"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("CountryCode=CHN", sub400, sub(map[string]string{"CountryCode": "CHN"}), bad, "InvalidParameter.CountryCode", "CountryCode")
	add("ExtendedKeyUsages=bogus", sub400, sub(map[string]string{"ExtendedKeyUsages.1": "serverAuth", "ExtendedKeyUsages.2": "bogus"}), bad,
		"InvalidParameter.ExtendedKeyUsages", "ExtendedKeyUsages")
	add("PathLenConstraint=-1", sub400, sub(map[string]string{"PathLenConstraint": "-1"}), bad, "InvalidParameter.PathLenConstraint", "PathLenConstraint")
	add("PathLenConstraint=abc", sub400, sub(map[string]string{"PathLenConstraint": "abc"}), bad, "InvalidParameter.PathLenConstraint", "PathLenConstraint")
	add("parent-is-a-sub", sub400, sub(map[string]string{"ParentIdentifier": f.Sub.ID}), bad, "InvalidParameter.ParentIdentifier", "ParentIdentifier")
	add("parent-unknown", sub400, sub(map[string]string{"ParentIdentifier": f.unknownCA}), nf, "NotFound.CA", "ParentIdentifier")
	add("parent-is-a-leaf", sub400, sub(map[string]string{"ParentIdentifier": f.Server}), nf, "NotFound.CA", "ParentIdentifier")

	// CreateServerCertificate
	missing(srv400, srv, "ParentIdentifier", "Algorithm", "CommonName")
	add("missing-validity", srv400, srv(map[string]string{"Days": drop}), bad, "MissingParameter", "Days")
	add("Years=abc", srv400, srv(map[string]string{"Days": drop, "Years": "abc"}), bad, "InvalidParameter.Years", "Years")
	add("Days=-1", srv400, srv(map[string]string{"Days": "-1"}), bad, "InvalidParameter.Days", "Days")
	add("Days=abc", srv400, srv(map[string]string{"Days": "abc"}), bad, "InvalidParameter.Days", "Days")
	add("Days=0", srv400, srv(map[string]string{"Days": "0"}), bad, "InvalidParameter.Days", "Days")
	add("Immediately=3", srv400, srv(map[string]string{"Immediately": "3"}), bad, "InvalidParameter.Immediately", "Immediately")
	add("Immediately=abc", srv400, srv(map[string]string{"Immediately": "abc"}), bad, "InvalidParameter.Immediately", "Immediately")
	add("Algorithm=RSA_1024", srv400, srv(map[string]string{"Algorithm": "RSA_1024"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("Algorithm=FOO", srv400, srv(map[string]string{"Algorithm": "FOO"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("Domain=bad_domain!", srv400, srv(map[string]string{"Domain": "ok.example.com,bad_domain!"}), bad, "InvalidParameter.Domain", "Domain")
	add("Domain=a..b", srv400, srv(map[string]string{"Domain": "a..b"}), bad, "InvalidParameter.Domain", "Domain")
	add("Domain=-lead.example.com", srv400, srv(map[string]string{"Domain": "-lead.example.com"}), bad, "InvalidParameter.Domain", "Domain")
	add("Domain=trailing-dot", srv400, srv(map[string]string{"Domain": "example.com."}), bad, "InvalidParameter.Domain", "Domain")
	add("CommonName=bad_domain!", srv400, srv(map[string]string{"CommonName": "bad_domain!"}), bad, "InvalidParameter.CommonName", "CommonName")
	add("Country=CHN", srv400, srv(map[string]string{"Country": "CHN"}), bad, "InvalidParameter.Country", "Country")
	add("Days-beyond-issuer", srv400, srv(map[string]string{"Days": "3650"}), bad, "InvalidParameter.Days", "Days")
	add("Years-beyond-issuer", srv400, srv(map[string]string{"Days": drop, "Years": "6"}), bad, "InvalidParameter.Years", "Years")
	add("ECC-under-RSA", srv400, srv(map[string]string{"ParentIdentifier": f.SubRSA.ID}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("RSA-under-ECC", srv400, srv(map[string]string{"Algorithm": "RSA_2048"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("parent-is-root", srv400, srv(map[string]string{"ParentIdentifier": f.Root.ID}), bad, "InvalidParameter.ParentIdentifier", "ParentIdentifier")
	add("parent-unknown", srv400, srv(map[string]string{"ParentIdentifier": f.unknownCA}), nf, "NotFound.CA", "ParentIdentifier")
	add("parent-clientAuth-only", srv400, srv(map[string]string{"ParentIdentifier": f.SubClientOnly.ID}), bad, "InvalidParameter.ParentIdentifier", "ParentIdentifier")
	add("duplicate-CustomIdentifier", srv400, srv(map[string]string{"CustomIdentifier": f.ServerCustom}), 0, "AlreadyExists.CustomIdentifier", "CustomIdentifier")
	add("duplicate-CustomIdentifier-of-client", srv400, srv(map[string]string{"CustomIdentifier": f.ClientCustom}), 0, "AlreadyExists.CustomIdentifier", "CustomIdentifier")

	// CreateClientCertificate
	missing(cli400, cli, "ParentIdentifier", "Algorithm", "CommonName")
	add("missing-validity", cli400, cli(map[string]string{"Days": drop}), bad, "MissingParameter", "Days")
	add("Years=abc", cli400, cli(map[string]string{"Days": drop, "Years": "abc"}), bad, "InvalidParameter.Years", "Years")
	add("Days=-1", cli400, cli(map[string]string{"Days": "-1"}), bad, "InvalidParameter.Days", "Days")
	add("Immediately=3", cli400, cli(map[string]string{"Immediately": "3"}), bad, "InvalidParameter.Immediately", "Immediately")
	add("Algorithm=RSA_1024", cli400, cli(map[string]string{"Algorithm": "RSA_1024"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("Algorithm=FOO", cli400, cli(map[string]string{"Algorithm": "FOO"}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("Country=CHN", cli400, cli(map[string]string{"Country": "CHN"}), bad, "InvalidParameter.Country", "Country")
	add("SanType=1-not-email", cli400, cli(map[string]string{"SanType": "1", "SanValue": "not-an-email"}), bad, "InvalidParameter.SanValue", "SanValue")
	add("SanType=1-display-name", cli400, cli(map[string]string{"SanType": "1", "SanValue": "Alice <alice@example.com>"}), bad, "InvalidParameter.SanValue", "SanValue")
	add("SanType=6-not-uri", cli400, cli(map[string]string{"SanType": "6", "SanValue": "not a uri"}), bad, "InvalidParameter.SanValue", "SanValue")
	add("SanType=2", cli400, cli(map[string]string{"SanType": "2", "SanValue": "www.example.com"}), bad, "InvalidParameter.SanType", "SanType")
	add("SanType=9", cli400, cli(map[string]string{"SanType": "9", "SanValue": "a@example.com"}), bad, "InvalidParameter.SanType", "SanType")
	add("SanType=abc", cli400, cli(map[string]string{"SanType": "abc", "SanValue": "a@example.com"}), bad, "InvalidParameter.SanType", "SanType")
	add("SanValue-without-SanType", cli400, cli(map[string]string{"SanValue": "a@example.com"}), bad, "InvalidParameter.SanType", "SanType")
	add("SanType-without-SanValue", cli400, cli(map[string]string{"SanType": "1"}), bad, "MissingParameter", "SanValue")
	add("Days-beyond-issuer", cli400, cli(map[string]string{"Days": "3650"}), bad, "InvalidParameter.Days", "Days")
	add("ECC-under-RSA", cli400, cli(map[string]string{"ParentIdentifier": f.SubRSA.ID}), bad, "InvalidParameter.Algorithm", "Algorithm")
	add("parent-is-root", cli400, cli(map[string]string{"ParentIdentifier": f.Root.ID}), bad, "InvalidParameter.ParentIdentifier", "ParentIdentifier")
	add("parent-unknown", cli400, cli(map[string]string{"ParentIdentifier": f.unknownCA}), nf, "NotFound.CA", "ParentIdentifier")
	add("duplicate-CustomIdentifier", cli400, cli(map[string]string{"CustomIdentifier": f.ClientCustom}), 0, "AlreadyExists.CustomIdentifier", "CustomIdentifier")
	add("duplicate-tag-key", cli400, cli(map[string]string{"Tags.1.Key": "env", "Tags.1.Value": "a", "Tags.2.Key": "env", "Tags.2.Value": "b"}), bad, "InvalidParameter.Tags", "Tags")

	// CreateRevokeClientCertificate
	add("missing-Identifier", rev, map[string]string{}, bad, "MissingParameter", "Identifier")
	add("unknown-Identifier", rev, map[string]string{"Identifier": f.unknownCert}, nf, "NotFound.Certificate", "Identifier")
	add("CA-Identifier", rev, map[string]string{"Identifier": f.Sub.ID}, nf, "NotFound.Certificate", "Identifier")
	add("revoke-twice", rev, map[string]string{"Identifier": f.Revoked}, 0, "OperationDenied.CertificateRevoked", "revoked")

	// DescribeClientCertificate
	add("missing-Identifier", descC, map[string]string{}, bad, "MissingParameter", "Identifier")
	add("unknown-Identifier", descC, map[string]string{"Identifier": f.unknownCert}, nf, "NotFound.Certificate", "Identifier")
	add("CA-Identifier", descC, map[string]string{"Identifier": f.Sub.ID}, nf, "NotFound.Certificate", "Identifier")

	// DescribeCACertificate
	add("missing-Identifier", descCA, map[string]string{}, bad, "MissingParameter", "Identifier")
	add("unknown-Identifier", descCA, map[string]string{"Identifier": f.unknownCA}, nf, "NotFound.CA", "Identifier")
	add("leaf-Identifier", descCA, map[string]string{"Identifier": f.Server}, nf, "NotFound.CA", "Identifier")
	return cases
}

func TestBadInput(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		c := ts.client(t, mode)
		f := newBadFixture(t, c, mode)
		subs := []string{f.Sub.ID, f.SubRSA.ID, f.SubClientOnly.ID}
		certs := []string{f.Server, f.Client, f.Revoked}
		for _, tc := range badCases(f) {
			if _, ok := tc.params["ClientToken"]; ok { // one idempotency token per request
				tc.params["ClientToken"] = "bad-" + mode + "-" + tc.action + "-" + tc.name
			}
			t.Run(mode+"/"+tc.action+"/"+tc.name, func(t *testing.T) {
				before := snapshot(t, ts, c, subs, certs)
				_, err := call(t, c, tc.action, tc.params)
				wantErr(t, err, tc.status, tc.code, tc.mention...)
				if after := snapshot(t, ts, c, subs, certs); !sameState(before, after) {
					t.Errorf("a refused request changed the state:\nbefore %v\nafter  %v", before, after)
				}
			})
		}
		// The fixture still works: the refusals were about the input only.
		t.Run(mode+"/controls", func(t *testing.T) {
			before := snapshot(t, ts, c, subs, certs)
			issueServer(t, c, f.Sub.ID, map[string]string{"Domain": "ok.example.com,10.0.0.1", "Days": "1000"})
			issueClient(t, c, f.SubRSA.ID, map[string]string{"Algorithm": "RSA_2048", "SanType": "1", "SanValue": "a@example.com"})
			issueClient(t, c, f.SubClientOnly.ID, nil)
			createSub(t, c, f.Root5.ID, "ECC_256", map[string]string{"Years": "5"})
			after := snapshot(t, ts, c, subs, certs)
			if after.Total != before.Total+3 || after.Issued[f.Sub.ID] != before.Issued[f.Sub.ID]+1 || after.Rows["cas"] != before.Rows["cas"]+1 {
				t.Errorf("controls: before %v after %v", before, after)
			}
		})
	}
}
