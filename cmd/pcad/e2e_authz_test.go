package main

// End-to-end tests of authorization (RAM policy enforcement) and tenant
// isolation, through the official client in both signature modes: the
// AccessDeniedDetail of a refusal as the client decodes it (spec A.8); RAM
// users allowed by system and custom policies, scoped to one CA, refused by
// an explicit Deny; the isolation matrix over every cas action of the table
// (another account's owner and a RAM user without policies aim at the first
// account's CAs and certificates: not found or denied, nothing leaks,
// nothing changes); and NextTokens bound to the identity they were minted
// for.

import (
	"context"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/pcad-dev/pcad/internal/casapi"
	"github.com/pcad-dev/pcad/internal/ramapi"
)

// ramUserClient creates the RAM user name in the account of the owner
// client c, attaches policies ("System/<name>", or a custom policy document
// created under a derived name) and returns a client signing with a new
// AccessKey of the user, and the user's id.
func ramUserClient(t *testing.T, ts *testServer, c *openapiclient.Client, mode, name string, policies ...string) (*openapiclient.Client, string) {
	t.Helper()
	u := jObj(t, mustRAM(t, c, "CreateUser", map[string]string{"UserName": name}), "User")
	for i, p := range policies {
		typ, pname := "Custom", fmt.Sprintf("%s-p%d", name, i)
		if sys, ok := strings.CutPrefix(p, "System/"); ok {
			typ, pname = "System", sys
		} else {
			mustRAM(t, c, "CreatePolicy", map[string]string{"PolicyName": pname, "PolicyDocument": p})
		}
		mustRAM(t, c, "AttachPolicyToUser", map[string]string{"PolicyType": typ, "PolicyName": pname, "UserName": name})
	}
	k := jObj(t, mustRAM(t, c, "CreateAccessKey", map[string]string{"UserName": name}), "AccessKey")
	return clientFor(t, ts, mode, jStr(t, k, "AccessKeyId"), jStr(t, k, "AccessKeySecret")), jStr(t, u, "UserId")
}

// wantDenied checks a policy refusal as the official client reports it:
// status and code, and the AccessDeniedDetail object both decoded by the
// client (SDKError.AccessDeniedDetail) and kept in the envelope (Data).
func wantDenied(t *testing.T, err error, code, action, ownerID, userID, noPermission string) {
	t.Helper()
	wantErr(t, err, http.StatusForbidden, code)
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("got %T, want *tea.SDKError", err)
	}
	want := map[string]string{"AuthAction": action, "AuthPrincipalType": "SubUser", "AuthPrincipalOwnerId": ownerID,
		"AuthPrincipalDisplayName": userID, "NoPermissionType": noPermission, "PolicyType": "AccountLevelIdentityBasedPolicy"}
	var data map[string]any
	if se.Data == nil || json.Unmarshal([]byte(*se.Data), &data) != nil {
		t.Fatalf("SDKError.Data %v does not hold the envelope", se.Data)
	}
	envelope, _ := data["AccessDeniedDetail"].(map[string]any)
	for what, detail := range map[string]map[string]any{"SDKError.AccessDeniedDetail": se.AccessDeniedDetail, "Data.AccessDeniedDetail": envelope} {
		if len(detail) != len(want)+1 {
			t.Errorf("%s has fields %v, want %d", what, keysOf(detail), len(want)+1)
		}
		for k, v := range want {
			if detail[k] != v {
				t.Errorf("%s.%s = %#v, want %q", what, k, detail[k], v)
			}
		}
		diag, _ := detail["EncodedDiagnosticMessage"].(string)
		if raw, err := base64.StdEncoding.DecodeString(diag); err != nil || !json.Valid(raw) {
			t.Errorf("%s.EncodedDiagnosticMessage %q is not base64 JSON", what, diag)
		}
	}
}

func accountOf(t *testing.T, ts *testServer) string {
	t.Helper()
	return strconv.FormatInt(actorOf(t, ts).AccountID, 10)
}

// TestAuthzAccessDeniedDetail: a refused call answers 403 Forbidden.RAM
// (NoPermission for the RAM API) with AccessDeniedDetail; system and custom
// policies allow, resource-scoped policies allow only their resources, and
// an explicit Deny wins.
func TestAuthzAccessDeniedDetail(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			c := ts.client(t, mode)
			acct := accountOf(t, ts)
			root, sub := hierarchy(t, c)
			cert := issueServer(t, c, sub.ID, nil)

			nobody, nobodyID := ramUserClient(t, ts, c, mode, "nobody")
			reader, readerID := ramUserClient(t, ts, c, mode, "reader", "System/AliyunYundunCertReadOnlyAccess")
			scoped, scopedID := ramUserClient(t, ts, c, mode, "scoped",
				`{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:DescribeCACertificate","yundun-cert:CreateServerCertificate",`+
					`"yundun-cert:GetCAInstanceStatus","yundun-cert:UpdatePcaCertificate"],"Resource":"acs:yundun-cert:*:`+acct+`:ca/`+sub.ID+`"},`+
					`{"Effect":"Allow","Action":"yundun-cert:*Certificate","Resource":"acs:yundun-cert:*:*:certificate/`+cert+`"}]}`)
			denied, deniedID := ramUserClient(t, ts, c, mode, "denied", "System/AliyunYundunCertFullAccess",
				`{"Version":"1","Statement":[{"Effect":"Deny","Action":"yundun-cert:CreateRevokeClientCertificate","Resource":"*"}]}`)
			lan, _ := ramUserClient(t, ts, c, mode, "lan-only",
				`{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}`)
			loopback, _ := ramUserClient(t, ts, c, mode, "loopback-only",
				`{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"127.0.0.0/8"}}}]}`)

			// No policy: implicit deny, for both APIs.
			_, err := call(t, nobody, "ListCert", nil)
			wantDenied(t, err, "Forbidden.RAM", "yundun-cert:ListCert", acct, nobodyID, "ImplicitDeny")
			_, err = callRAM(t, nobody, "ListUsers", nil)
			wantDenied(t, err, "NoPermission", "ram:ListUsers", acct, nobodyID, "ImplicitDeny")

			// A system policy: reads, but no writes.
			mustCall(t, reader, "ListCert", nil)
			mustCall(t, reader, "DescribeCACertificate", map[string]string{"Identifier": root.ID})
			_, err = call(t, reader, "CreateServerCertificate", serverParams(sub.ID))
			wantDenied(t, err, "Forbidden.RAM", "yundun-cert:CreateServerCertificate", acct, readerID, "ImplicitDeny")

			// A custom policy on one CA: that CA only, and no listing ("*").
			mustCall(t, scoped, "DescribeCACertificate", map[string]string{"Identifier": sub.ID})
			issueServer(t, scoped, sub.ID, nil)
			_, err = call(t, scoped, "DescribeCACertificate", map[string]string{"Identifier": root.ID})
			wantDenied(t, err, "Forbidden.RAM", "yundun-cert:DescribeCACertificate", acct, scopedID, "ImplicitDeny")
			_, err = call(t, scoped, "ListCert", nil)
			wantDenied(t, err, "Forbidden.RAM", "yundun-cert:ListCert", acct, scopedID, "ImplicitDeny")
			// An instance UUID stands for its CA; UpdatePcaCertificate's
			// Identifier is a CA or a certificate, checked as what it is.
			mustCall(t, scoped, "GetCAInstanceStatus", map[string]string{"InstanceId": instanceOf(t, ts, sub.ID)})
			_, err = call(t, scoped, "GetCAInstanceStatus", map[string]string{"Identifier": root.ID})
			wantDenied(t, err, "Forbidden.RAM", "yundun-cert:GetCAInstanceStatus", acct, scopedID, "ImplicitDeny")
			mustCall(t, scoped, "UpdatePcaCertificate", map[string]string{"Identifier": sub.ID, "AliasName": "scoped-sub"})
			mustCall(t, scoped, "UpdatePcaCertificate", map[string]string{"Identifier": cert, "AliasName": "scoped-cert"})
			mustCall(t, scoped, "DescribeClientCertificate", map[string]string{"Identifier": cert})
			_, err = call(t, scoped, "UpdatePcaCertificate", map[string]string{"Identifier": root.ID, "AliasName": "scoped-root"})
			wantDenied(t, err, "Forbidden.RAM", "yundun-cert:UpdatePcaCertificate", acct, scopedID, "ImplicitDeny")
			// An identifier that names nothing is checked as both CA and
			// certificate: not covered, so denied rather than not found.
			_, err = call(t, scoped, "UpdatePcaCertificate", map[string]string{"Identifier": "no-such-id", "AliasName": "x"})
			wantErr(t, err, http.StatusForbidden, "Forbidden.RAM")

			// An explicit Deny beats full access; nothing was revoked.
			mustCall(t, denied, "DescribeClientCertificate", map[string]string{"Identifier": cert})
			_, err = call(t, denied, "CreateRevokeClientCertificate", map[string]string{"Identifier": cert})
			wantDenied(t, err, "Forbidden.RAM", "yundun-cert:CreateRevokeClientCertificate", acct, deniedID, "ExplicitDeny")
			st := jStr(t, jObj(t, mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": cert}), "Certificate"), "Status")
			if st != "ISSUE" {
				t.Errorf("status after a refused revocation: %s", st)
			}

			// acs:SourceIp: the test client connects from 127.0.0.1.
			_, err = call(t, lan, "ListCert", nil)
			wantErr(t, err, http.StatusForbidden, "Forbidden.RAM")
			mustCall(t, loopback, "ListCert", nil)

			// A refused create claims no ClientToken: the owner may use it.
			_, err = call(t, reader, "CreateClientCertificate", with(clientParams(sub.ID), map[string]string{"ClientToken": "tok-authz-1"}))
			wantErr(t, err, http.StatusForbidden, "Forbidden.RAM")
			mustCall(t, c, "CreateClientCertificate", with(clientParams(sub.ID), map[string]string{"ClientToken": "tok-authz-1"}))
		})
	}
}

// TestAuthzRAMActions: the RAM API is enforced the same way, with RAM's
// NoPermission code; a user can be allowed to manage its own keys only.
func TestAuthzRAMActions(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			c := ts.client(t, mode)
			acct := accountOf(t, ts)
			ro, roID := ramUserClient(t, ts, c, mode, "ram-reader", "System/AliyunRAMReadOnlyAccess")
			self, selfID := ramUserClient(t, ts, c, mode, "self-keys",
				`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*AccessKey*","Resource":"acs:ram:*:`+acct+`:user/self-keys"}]}`)
			admin, _ := ramUserClient(t, ts, c, mode, "ram-admin", "System/AliyunRAMFullAccess")

			if n := len(jList(t, mustRAM(t, ro, "ListUsers", nil), "Users", "User")); n != 3 {
				t.Errorf("ListUsers as a reader: %d users, want 3", n)
			}
			mustRAM(t, ro, "GetUser", map[string]string{"UserName": "self-keys"})
			_, err := callRAM(t, ro, "CreateUser", map[string]string{"UserName": "mallory"})
			wantDenied(t, err, "NoPermission", "ram:CreateUser", acct, roID, "ImplicitDeny")
			_, err = callRAM(t, ro, "AttachPolicyToUser", map[string]string{"PolicyType": "System", "PolicyName": "AdministratorAccess", "UserName": "ram-reader"})
			wantDenied(t, err, "NoPermission", "ram:AttachPolicyToUser", acct, roID, "ImplicitDeny")

			// Own keys (no UserName, or its own name): allowed; another user's: not.
			if n := len(keyIDs(t, mustRAM(t, self, "ListAccessKeys", nil))); n != 1 {
				t.Errorf("own keys: %d", n)
			}
			mustRAM(t, self, "ListAccessKeys", map[string]string{"UserName": "self-keys"})
			_, err = callRAM(t, self, "ListAccessKeys", map[string]string{"UserName": "ram-reader"})
			wantDenied(t, err, "NoPermission", "ram:ListAccessKeys", acct, selfID, "ImplicitDeny")
			_, err = callRAM(t, self, "ListUsers", nil)
			wantDenied(t, err, "NoPermission", "ram:ListUsers", acct, selfID, "ImplicitDeny")
			// RAM rights are not certificate rights.
			_, err = call(t, admin, "ListCert", nil)
			wantErr(t, err, http.StatusForbidden, "Forbidden.RAM")
			mustRAM(t, admin, "CreateUser", map[string]string{"UserName": "carol"})
		})
	}
}

// ---- the isolation matrix ---------------------------------------------------

// authzFixture is the first account: a root and sub-CA, certificates and the
// values other callers aim at them with.
type authzFixture struct {
	ts        *testServer
	owner     *openapiclient.Client
	acct      int64
	root, sub ca
	srv, cli  string // ISSUE certificates
	revoked   string // a REVOKE certificate
	serial    string // srv's serial number
	certNo    string // srv's numeric id
	instUUID  string // sub's instance
	instNo    string // its numeric id
	csr       string
	// markers are strings only the first account knows; no answer to
	// another caller may hold one it did not send.
	markers []string
}

func newAuthzFixture(t *testing.T, ts *testServer, mode string) *authzFixture {
	t.Helper()
	c := ts.client(t, mode)
	f := &authzFixture{ts: ts, owner: c, acct: actorOf(t, ts).AccountID}
	f.root = createRoot(t, c, "ECC_256", map[string]string{"CommonName": "authz-secret-root"})
	f.sub = createSub(t, c, f.root.ID, "ECC_256", map[string]string{"CommonName": "authz-secret-sub"})
	f.srv = issueServer(t, c, f.sub.ID, map[string]string{"CommonName": "authz-secret-srv.example.com", "AliasName": "authz-secret-alias"})
	f.cli = issueClient(t, c, f.sub.ID, map[string]string{"CommonName": "authz-secret-client"})
	f.revoked = issueClient(t, c, f.sub.ID, map[string]string{"CommonName": "authz-secret-revoked"})
	revoke(t, c, f.revoked)
	mustCall(t, c, "TagResources", lcWithTags(lcTagQuery("instance", f.srv, f.sub.ID), "authz-secret-tag=v1", "env=prod"))
	d := jObj(t, mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": f.srv}), "Certificate")
	f.serial = jStr(t, d, "SerialNumber")
	f.certNo = strconv.FormatInt(jInt(t, d, "Id"), 10)
	f.instUUID = instanceOf(t, ts, f.sub.ID)
	in, err := ts.app.svc.Instance(context.Background(), actorOf(t, ts), f.instUUID)
	if err != nil {
		t.Fatal(err)
	}
	f.instNo = strconv.FormatInt(in.ID, 10)
	f.csr = csrMake(t, csrP256(t), pkix.Name{CommonName: "authz-csr.example.com"})
	f.markers = []string{f.root.ID, f.sub.ID, f.srv, f.cli, f.revoked, f.serial, f.instUUID,
		"authz-secret", f.root.PEM[40:100], f.sub.PEM[40:100]}
	return f
}

// isoCase is one action of the matrix: parameters aimed at the first
// account's objects, and what another account's owner gets.
type isoCase struct {
	params map[string]string
	// other: "notfound" (404 NotFound.*) or "ok" (the call runs in the
	// caller's own account and shows nothing of the first).
	other string
	// maxTotal, when >= 0, caps the TotalCount another account may see
	// (the first account has 2 CAs and 3 certificates; the other account
	// only the root CA it creates in the matrix).
	maxTotal int64
}

// isolationCases has one case per cas action.
func (f *authzFixture) isolationCases() map[string]isoCase {
	nf := func(p map[string]string) isoCase { return isoCase{params: p, other: "notfound", maxTotal: -1} }
	ok := func(p map[string]string, maxTotal int64) isoCase {
		return isoCase{params: p, other: "ok", maxTotal: maxTotal}
	}
	csrParams := func(over map[string]string) map[string]string {
		return with(map[string]string{"ParentIdentifier": f.sub.ID, "Csr": f.csr, "Days": "30", "Immediately": "1"}, over)
	}
	return map[string]isoCase{
		// CAs
		"CreateRootCACertificate":     ok(rootParams("ECC_256"), -1),
		"CreateSubCACertificate":      nf(subParams(f.root.ID, "ECC_256")),
		"CreateExternalCACertificate": nf(map[string]string{"InstanceId": f.root.ID, "Csr": f.csr, "Validity": "5y"}),
		"DescribeCACertificate":       nf(map[string]string{"Identifier": f.sub.ID}),
		"UpdateCACertificateStatus":   nf(map[string]string{"Identifier": f.sub.ID, "Status": "REVOKE"}),
		"ListCACertificateLog":        nf(map[string]string{"Identifier": f.root.ID}),
		"GetCAInstanceStatus":         nf(map[string]string{"InstanceId": f.instUUID}),
		"GetCaInstanceCrlAddress":     nf(map[string]string{"Uuid": f.instUUID}),
		"AssignCertificateCount":      nf(map[string]string{"Id": f.instNo, "CertTotalCount": "7"}),
		"ListAllEndEntityInstance":    nf(map[string]string{"ParentId": f.instNo}),
		// CA lists and counts
		"DescribeCACertificateList":               ok(map[string]string{"Identifier": f.sub.ID}, 1),
		"DescribeCACertificateCount":              ok(nil, 1),
		"DescribePcaAndExternalCACertificateList": ok(map[string]string{"Identifiers": f.root.ID + "," + f.sub.ID}, 1),
		"ListPcaCaCertificate":                    ok(nil, 1),
		// issuance from the first account's sub-CA
		"CreateServerCertificate":        nf(serverParams(f.sub.ID)),
		"CreateClientCertificate":        nf(clientParams(f.sub.ID)),
		"CreateServerCertificateWithCsr": nf(csrParams(nil)),
		"CreateClientCertificateWithCsr": nf(csrParams(nil)),
		"CreateCustomCertificate":        nf(csrParams(map[string]string{"Days": drop, "Validity": "30d"})),
		// its certificates
		"DescribeClientCertificate":                      nf(map[string]string{"Identifier": f.srv}),
		"CreateRevokeClientCertificate":                  nf(map[string]string{"Identifier": f.srv}),
		"DeleteClientCertificate":                        nf(map[string]string{"Identifier": f.revoked}),
		"DescribeCertificatePrivateKey":                  nf(map[string]string{"Identifier": f.srv, "EncryptedCode": "Passw0rd-1"}),
		"UpdatePcaCertificate":                           nf(map[string]string{"Identifier": f.srv, "AliasName": "pwned"}),
		"DescribeClientCertificateStatus":                ok(map[string]string{"Identifier": f.srv + "," + f.revoked}, -1),
		"DescribeClientCertificateStatusForSerialNumber": ok(map[string]string{"SerialNumber": f.serial}, -1),
		"DescribeClientCertificateForSerialNumber":       ok(map[string]string{"SerialNumber": f.serial}, -1),
		"UploadPcaCertToCas":                             ok(map[string]string{"Ids": f.certNo}, -1),
		// certificate lists
		"ListCert":              ok(map[string]string{"ParentIdentifier": f.sub.ID}, 0),
		"ListClientCertificate": ok(nil, 0),
		"ListRevokeCertificate": ok(nil, 0),
		// tags and resource groups
		"TagResources":      nf(lcWithTags(lcTagQuery("instance", f.srv, f.sub.ID), "pwned=1")),
		"UntagResources":    nf(with(lcTagQuery("instance", f.srv), map[string]string{"All": "true"})),
		"MoveResourceGroup": nf(map[string]string{"RegionId": "cn-hangzhou", "ResourceType": "instance", "ResourceId": f.sub.ID, "ResourceGroupId": "rg-pwned"}),
		"ListTagResources":  ok(lcTagQuery("instance", f.srv, f.sub.ID), -1),
	}
}

// checkNoLeak fails if body holds a marker of the first account that the
// request did not carry, a known status for its certificates, or a total
// above maxTotal.
func (f *authzFixture) checkNoLeak(t *testing.T, body map[string]any, sent map[string]string, maxTotal int64) {
	t.Helper()
	b, _ := json.Marshal(body)
	s := string(b)
	for _, m := range f.markers {
		if !strings.Contains(s, m) {
			continue
		}
		echoed := false
		for _, v := range sent {
			echoed = echoed || strings.Contains(v, m)
		}
		if !echoed {
			t.Errorf("the answer holds %q of the first account: %s", m, s)
		}
	}
	if list, ok := body["CertificateStatus"].([]any); ok {
		for _, it := range list {
			if st := it.(map[string]any)["Status"]; st != "unknown" {
				t.Errorf("status %v of another account's certificate: %s", st, s)
			}
		}
	}
	if maxTotal >= 0 {
		if n := jInt(t, body, "TotalCount"); n > maxTotal {
			t.Errorf("TotalCount %d, want at most %d: %s", n, maxTotal, s)
		}
	}
}

// accountTables are the tables holding an account's objects.
var accountTables = []string{"cas", "instances", "certificates", "private_keys", "cert_counts", "revocations", "tags",
	"ca_events", "idempotency", "principals", "access_keys", "policies", "policy_attachments"}

// state is everything of the first account that must not move: what its
// owner sees (ListCert and DescribeCACertificateCount totals) and every row
// it has in the store.
func (f *authzFixture) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "ListCert.TotalCount=%d\n", total(t, f.owner, nil))
	fmt.Fprintf(&b, "DescribeCACertificateCount=%d\n", jInt(t, mustCall(t, f.owner, "DescribeCACertificateCount", nil), "TotalCount"))
	db := f.ts.app.store.DB()
	dump := func(what, query string, args ...any) {
		rows, err := db.QueryContext(context.Background(), query, args...)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%v", vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s: %d rows\n%s\n", what, len(lines), strings.Join(lines, "\n"))
	}
	for _, table := range accountTables {
		dump(table, "SELECT * FROM "+table+" WHERE account_id = ?", f.acct)
	}
	dump("serials", "SELECT * FROM serials WHERE issuer_id IN (SELECT id FROM cas WHERE account_id = ?)", f.acct)
	dump("certificate_bodies", "SELECT * FROM certificate_bodies WHERE cert_id IN (SELECT id FROM certificates WHERE account_id = ?)", f.acct)
	return b.String()
}

// TestAuthzIsolationMatrix: every cas action of the table, called by another
// account's owner and by a RAM user of the first account without policies
// with parameters naming the first account's CAs and certificates, is
// answered not found (or runs in the caller's own account, showing nothing
// of the first) or denied; and nothing of the first account changes.
func TestAuthzIsolationMatrix(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			f := newAuthzFixture(t, ts, mode)
			user, userID := ramUserClient(t, ts, f.owner, mode, "no-policy")
			other := otherAccount(t, ts, mode)
			acct := strconv.FormatInt(f.acct, 10)

			cases := f.isolationCases()
			names := slices.Sorted(maps.Keys(casapi.Actions(ts.app.svc)))
			for _, name := range names {
				if _, ok := cases[name]; !ok {
					t.Errorf("action %s has no isolation case: add one to isolationCases", name)
				}
			}
			before := f.state(t)
			for _, name := range names {
				tc, ok := cases[name]
				if !ok {
					continue
				}
				t.Run(name, func(t *testing.T) {
					t.Run("other-account", func(t *testing.T) {
						res, err := callFull(t, other, name, tc.params, nil)
						switch tc.other {
						case "notfound":
							e, ok := asAPIError(err)
							if !ok || e.Status != http.StatusNotFound || !strings.HasPrefix(e.Code, "NotFound") {
								t.Fatalf("got %v, want 404 NotFound.*", describeErr(err))
							}
							if strings.Contains(e.Message, "authz-secret") {
								t.Errorf("message leaks: %s", e.Message)
							}
						case "ok":
							if err != nil {
								t.Fatalf("%s", describeErr(err))
							}
							f.checkNoLeak(t, res.Body, tc.params, tc.maxTotal)
						}
					})
					t.Run("ram-user-without-policy", func(t *testing.T) {
						_, err := callFull(t, user, name, tc.params, nil)
						wantDenied(t, err, "Forbidden.RAM", casapi.RAMAction(name), acct, userID, "ImplicitDeny")
					})
				})
			}
			if after := f.state(t); after != before {
				t.Errorf("the first account changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}

			// Every refusal is in the audit log, naming its resources.
			rows, err := ts.app.store.DB().Query("SELECT action, resource, code FROM audit_log WHERE account_id = ? AND principal_id = ?", f.acct, userID)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for rows.Next() {
				var action, resource, code string
				if err := rows.Scan(&action, &resource, &code); err != nil {
					t.Fatal(err)
				}
				if code != "Forbidden.RAM" {
					t.Errorf("audit: %s answered %s", action, code)
				}
				got[action] = resource
			}
			rows.Close()
			if len(got) != len(names) {
				t.Errorf("audit has %d refused actions, want %d", len(got), len(names))
			}
			for action, want := range map[string]string{
				"DescribeCACertificate":           "ca/" + f.sub.ID,
				"GetCAInstanceStatus":             "ca/" + f.sub.ID, // the instance's CA
				"AssignCertificateCount":          "ca/" + f.sub.ID,
				"UpdatePcaCertificate":            "certificate/" + f.srv,
				"DescribeClientCertificateStatus": "certificate/" + f.srv + ",certificate/" + f.revoked,
				"TagResources":                    "certificate/" + f.srv + ",ca/" + f.sub.ID,
				"CreateServerCertificate":         "ca/" + f.sub.ID,
				"ListCert":                        "*",
			} {
				if got[action] != want {
					t.Errorf("audit resource of %s = %q, want %q", action, got[action], want)
				}
			}
		})
	}
}

// ---- NextTokens -------------------------------------------------------------

// TestAuthzTokensBoundToIdentity: a NextToken (or RAM Marker) minted for
// the owner is refused for a RAM user of the same account that may make the
// call, and for another account's owner; each identity's own tokens work.
func TestAuthzTokensBoundToIdentity(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			f := newAuthzFixture(t, ts, mode)
			reader, _ := ramUserClient(t, ts, f.owner, mode, "reader", "System/AliyunYundunCertReadOnlyAccess", "System/AliyunRAMReadOnlyAccess")
			mustRAM(t, f.owner, "CreateUser", map[string]string{"UserName": "zed"})
			other := otherAccount(t, ts, mode)

			type listing struct {
				action string
				q      map[string]string
				token  func(t *testing.T, b map[string]any) string
				param  string
				ram    bool
			}
			top := func(t *testing.T, b map[string]any) string { return jStr(t, b, "NextToken") }
			listings := []listing{
				{"ListCert", map[string]string{"MaxResults": "1"}, top, "NextToken", false},
				{"ListPcaCaCertificate", map[string]string{"MaxResults": "1"}, top, "NextToken", false},
				{"ListAllEndEntityInstance", map[string]string{"MaxResults": "1"}, top, "NextToken", false},
				{"ListTagResources", with(lcTagQuery("instance"), map[string]string{"MaxResults": "1"}),
					func(t *testing.T, b map[string]any) string { return jStr(t, jObj(t, b, "Data"), "NextToken") }, "NextToken", false},
				{"ListUsers", map[string]string{"MaxItems": "1"}, func(t *testing.T, b map[string]any) string { return jStr(t, b, "Marker") }, "Marker", true},
			}
			do := func(t *testing.T, c *openapiclient.Client, l listing, q map[string]string) (map[string]any, error) {
				if l.ram {
					return callRAM(t, c, l.action, q)
				}
				return call(t, c, l.action, q)
			}
			for _, l := range listings {
				t.Run(l.action, func(t *testing.T) {
					b, err := do(t, f.owner, l, l.q)
					if err != nil {
						t.Fatal(describeErr(err))
					}
					tok := l.token(t, b)
					if tok == "" {
						t.Fatal("the owner's first page has no token")
					}
					next := with(l.q, map[string]string{l.param: tok})
					if _, err := do(t, f.owner, l, next); err != nil {
						t.Fatalf("the owner's own token: %s", describeErr(err))
					}
					_, err = do(t, reader, l, next)
					wantErr(t, err, http.StatusBadRequest, "InvalidParameter."+l.param)
					if !l.ram {
						_, err = do(t, other, l, next)
						wantErr(t, err, http.StatusBadRequest, "InvalidParameter."+l.param)
					}
					// The reader's own token works for the reader only.
					b, err = do(t, reader, l, l.q)
					if err != nil {
						t.Fatal(describeErr(err))
					}
					mine := with(l.q, map[string]string{l.param: l.token(t, b)})
					if _, err := do(t, reader, l, mine); err != nil {
						t.Fatalf("the reader's own token: %s", describeErr(err))
					}
					_, err = do(t, f.owner, l, mine)
					wantErr(t, err, http.StatusBadRequest, "InvalidParameter."+l.param)
				})
			}
		})
	}
}

// TestAuthzRAMTable: every RAM action is enforced (a user without policies
// is refused each one with NoPermission), so a new RAM action cannot escape.
func TestAuthzRAMTable(t *testing.T) {
	ts := startServer(t, 0)
	c := ts.client(t, "v3")
	user, userID := ramUserClient(t, ts, c, "v3", "no-policy")
	acct := accountOf(t, ts)
	before := ramState(t, ts.app.store.DB(), actorOf(t, ts).AccountID)
	for _, name := range slices.Sorted(maps.Keys(ramapi.Actions(ts.app.svc))) {
		t.Run(name, func(t *testing.T) {
			q := map[string]string{"UserName": "no-policy", "PolicyName": "AdministratorAccess", "PolicyType": "System",
				"PolicyDocument":  `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
				"UserAccessKeyId": "LTAIx", "Status": "Inactive", "NewComments": "x"}
			_, err := callRAM(t, user, name, q)
			wantDenied(t, err, "NoPermission", "ram:"+name, acct, userID, "ImplicitDeny")
		})
	}
	if after := ramState(t, ts.app.store.DB(), actorOf(t, ts).AccountID); after != before {
		t.Errorf("RAM state changed:\n%s\n%s", before, after)
	}
}

// ramState dumps an account's identities, keys, policies and attachments.
func ramState(t *testing.T, db *sql.DB, acct int64) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"principals", "access_keys", "policies", "policy_attachments"} {
		var n int64
		if err := db.QueryRow("SELECT COUNT(*) FROM "+table+" WHERE account_id = ?", acct).Scan(&n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", table, n)
	}
	return b.String()
}

// TestAuthzPolicyChangeTakesEffectAtOnce: attaching or detaching a policy
// changes what the user may do on the very next call (no cache delay).
func TestAuthzPolicyChangeTakesEffectAtOnce(t *testing.T) {
	ts := startServer(t, 0)
	owner := ts.client(t, "v3")
	user, _ := ramUserClient(t, ts, owner, "v3", "carol")
	policy := map[string]string{"PolicyType": "System", "PolicyName": "AliyunYundunCertReadOnlyAccess", "UserName": "carol"}
	steps := []struct {
		name    string
		action  string
		allowed bool
	}{
		{"denied without policy", "", false},
		{"allowed right after attach", "AttachPolicyToUser", true},
		{"denied right after detach", "DetachPolicyFromUser", false},
	}
	for _, st := range steps {
		if st.action != "" {
			mustRAM(t, owner, st.action, policy)
		}
		_, err := call(t, user, "ListCert", nil)
		if st.allowed && err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !st.allowed {
			wantErr(t, err, 403, "Forbidden.RAM")
		}
	}
}
