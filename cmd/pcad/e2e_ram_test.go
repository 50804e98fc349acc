package main

// End-to-end tests of the RAM-compatible API (Version 2015-05-01, package
// internal/ramapi) through the official client, in both signature modes:
// users, AccessKeys (and signing with them), policies and attachments, bad
// input with RAM's exact codes, and tenant isolation. Shapes and codes are
// those of docs/spec/ram-api.md.

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

const ramVersion = "2015-05-01"

// ramDateRe is RAM's date format, "2015-01-23T12:33:18Z".
var ramDateRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

const certReadDoc = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:List*","yundun-cert:Describe*"],"Resource":"*"}]}`

// ramParams are the Params the generated RAM SDK passes to CallApi.
func ramParams(action string) *openapiclient.Params {
	p := rpcParams(action)
	p.Version = tea.String(ramVersion)
	return p
}

// callRAM calls a RAM action with every parameter in the query string, as
// the RAM SDK does, and checks the success envelope.
func callRAM(t *testing.T, c *openapiclient.Client, action string, query map[string]string) (map[string]any, error) {
	t.Helper()
	req := &openapiclient.OpenApiRequest{Query: map[string]*string{}}
	for k, v := range query {
		req.Query[k] = tea.String(v)
	}
	raw, err := c.CallApi(ramParams(action), req, &dara.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	body, ok := raw["body"].(map[string]any)
	if !ok {
		t.Fatalf("%s: answer body is %T, not a JSON object", action, raw["body"])
	}
	if s, ok := raw["statusCode"].(json.Number); ok && s.String() != "200" {
		t.Fatalf("%s: success with HTTP status %s", action, s)
	}
	if _, ok := body["Code"]; ok {
		t.Fatalf("%s: a 200 answer carries an error Code: %v", action, body)
	}
	requestID(t, body)
	return body, nil
}

func mustRAM(t *testing.T, c *openapiclient.Client, action string, query map[string]string) map[string]any {
	t.Helper()
	b, err := callRAM(t, c, action, query)
	if err != nil {
		t.Fatalf("%s %v: %v", action, query, describeErr(err))
	}
	return b
}

// jDate returns a field that must be a RAM date.
func jDate(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	s := jStr(t, m, key)
	if !ramDateRe.MatchString(s) {
		t.Fatalf("field %s = %q, want a date like 2015-01-23T12:33:18Z", key, s)
	}
	return s
}

// jList returns the array nested as RAM nests lists: m[outer][inner].
func jList(t *testing.T, m map[string]any, outer, inner string) []map[string]any {
	t.Helper()
	return jObjects(t, jObj(t, m, outer), inner)
}

// ramUser checks the fields of a User object and returns it.
func ramUser(t *testing.T, u map[string]any, name string, withUpdate bool) map[string]any {
	t.Helper()
	if got := jStr(t, u, "UserName"); got != name {
		t.Fatalf("UserName %q, want %q", got, name)
	}
	if id := jStr(t, u, "UserId"); id == "" {
		t.Fatal("empty UserId")
	}
	for _, k := range []string{"DisplayName", "MobilePhone", "Email", "Comments"} {
		jStr(t, u, k)
	}
	jDate(t, u, "CreateDate")
	if _, ok := u["UpdateDate"]; ok != withUpdate {
		t.Fatalf("UpdateDate present %v, want %v: %v", ok, withUpdate, u)
	}
	if withUpdate {
		jDate(t, u, "UpdateDate")
	}
	return u
}

// keyIDs returns the AccessKeyIds and Statuses of a ListAccessKeys answer.
func keyIDs(t *testing.T, b map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range jList(t, b, "AccessKeys", "AccessKey") {
		if _, ok := k["AccessKeySecret"]; ok {
			t.Fatal("ListAccessKeys shows a secret")
		}
		jDate(t, k, "CreateDate")
		out[jStr(t, k, "AccessKeyId")] = jStr(t, k, "Status")
	}
	return out
}

func TestRAMUsersAndAccessKeys(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			c := ts.client(t, mode)

			b := mustRAM(t, c, "CreateUser", map[string]string{"UserName": "alice", "DisplayName": "Alice",
				"Email": "alice@example.com", "MobilePhone": "86-18600000000", "Comments": "PKI operator"})
			u := ramUser(t, jObj(t, b, "User"), "alice", false)
			if jStr(t, u, "DisplayName") != "Alice" || jStr(t, u, "Email") != "alice@example.com" ||
				jStr(t, u, "MobilePhone") != "86-18600000000" || jStr(t, u, "Comments") != "PKI operator" {
				t.Fatalf("created user %v", u)
			}
			ramUser(t, jObj(t, mustRAM(t, c, "GetUser", map[string]string{"UserName": "alice"}), "User"), "alice", true)
			b = mustRAM(t, c, "UpdateUser", map[string]string{"UserName": "alice", "NewComments": "CA admin"})
			if got := jStr(t, ramUser(t, jObj(t, b, "User"), "alice", true), "Comments"); got != "CA admin" {
				t.Fatalf("updated Comments %q", got)
			}
			b = mustRAM(t, c, "ListUsers", nil)
			if jBool(t, b, "IsTruncated") {
				t.Fatal("one user, truncated")
			}
			if users := jList(t, b, "Users", "User"); len(users) != 1 {
				t.Fatalf("%d users listed, want 1 (the owner is not a RAM user)", len(users))
			} else {
				ramUser(t, users[0], "alice", true)
			}

			// Two keys, the third refused.
			var ids, secrets []string
			for range 2 {
				k := jObj(t, mustRAM(t, c, "CreateAccessKey", map[string]string{"UserName": "alice"}), "AccessKey")
				id, secret := jStr(t, k, "AccessKeyId"), jStr(t, k, "AccessKeySecret")
				if !strings.HasPrefix(id, "LTAI") || len(secret) != 30 || jStr(t, k, "Status") != "Active" {
					t.Fatalf("new key %v", k)
				}
				jDate(t, k, "CreateDate")
				ids, secrets = append(ids, id), append(secrets, secret)
			}
			_, err := callRAM(t, c, "CreateAccessKey", map[string]string{"UserName": "alice"})
			wantErr(t, err, http.StatusConflict, "LimitExceeded.User.AccessKey")
			got := keyIDs(t, mustRAM(t, c, "ListAccessKeys", map[string]string{"UserName": "alice"}))
			if len(got) != 2 || got[ids[0]] != "Active" || got[ids[1]] != "Active" {
				t.Fatalf("listed keys %v, want %v Active", got, ids)
			}

			// alice's keys sign requests, in this mode, for both APIs, as far
			// as her policies allow (e2e_authz_test.go tests enforcement).
			readOnly := []map[string]string{
				{"PolicyType": "System", "PolicyName": "AliyunYundunCertReadOnlyAccess", "UserName": "alice"},
				{"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess", "UserName": "alice"},
			}
			for _, q := range readOnly {
				mustRAM(t, c, "AttachPolicyToUser", q)
			}
			alice := clientFor(t, ts, mode, ids[0], secrets[0])
			mustCall(t, alice, "ListCert", nil)
			if own := keyIDs(t, mustRAM(t, alice, "ListAccessKeys", nil)); len(own) != 2 {
				t.Fatalf("alice's own keys %v", own)
			}

			// An Inactive key is refused; the other still works; reactivated, it works again.
			mustRAM(t, c, "UpdateAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": ids[0], "Status": "Inactive"})
			if got := keyIDs(t, mustRAM(t, c, "ListAccessKeys", map[string]string{"UserName": "alice"})); got[ids[0]] != "Inactive" {
				t.Fatalf("status after UpdateAccessKey: %v", got)
			}
			_, err = call(t, alice, "ListCert", nil)
			wantErr(t, err, http.StatusBadRequest, "InvalidAccessKeyId.Inactive")
			mustCall(t, clientFor(t, ts, mode, ids[1], secrets[1]), "ListCert", nil)
			mustRAM(t, c, "UpdateAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": ids[0], "Status": "Active"})
			mustCall(t, alice, "ListCert", nil)

			// A user with keys cannot be deleted; without them it can.
			_, err = callRAM(t, c, "DeleteUser", map[string]string{"UserName": "alice"})
			wantErr(t, err, http.StatusConflict, "DeleteConflict.User.AccessKey")
			for _, id := range ids {
				mustRAM(t, c, "DeleteAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": id})
			}
			_, err = call(t, alice, "ListCert", nil)
			wantErr(t, err, http.StatusNotFound, "InvalidAccessKeyId.NotFound")
			for _, q := range readOnly {
				mustRAM(t, c, "DetachPolicyFromUser", q)
			}
			mustRAM(t, c, "DeleteUser", map[string]string{"UserName": "alice"})
			_, err = callRAM(t, c, "GetUser", map[string]string{"UserName": "alice"})
			wantErr(t, err, http.StatusNotFound, "EntityNotExist.User")
		})
	}
}

func TestRAMPolicies(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			c := ts.client(t, mode)

			p := jObj(t, mustRAM(t, c, "CreatePolicy", map[string]string{"PolicyName": "Cert-Reader",
				"PolicyDocument": certReadDoc, "Description": "read certificates"}), "Policy")
			if jStr(t, p, "PolicyName") != "Cert-Reader" || jStr(t, p, "PolicyType") != "Custom" ||
				jStr(t, p, "DefaultVersion") != "v1" || jStr(t, p, "Description") != "read certificates" {
				t.Fatalf("created policy %v", p)
			}
			jDate(t, p, "CreateDate")

			b := mustRAM(t, c, "GetPolicy", map[string]string{"PolicyType": "Custom", "PolicyName": "Cert-Reader"})
			p = jObj(t, b, "Policy")
			if jInt(t, p, "AttachmentCount") != 0 || jStr(t, p, "PolicyDocument") != certReadDoc {
				t.Fatalf("got policy %v", p)
			}
			jDate(t, p, "UpdateDate")
			v := jObj(t, b, "DefaultPolicyVersion")
			if jStr(t, v, "VersionId") != "v1" || !jBool(t, v, "IsDefaultVersion") || jStr(t, v, "PolicyDocument") != certReadDoc {
				t.Fatalf("DefaultPolicyVersion %v", v)
			}
			b = mustRAM(t, c, "GetPolicy", map[string]string{"PolicyType": "System", "PolicyName": "AliyunYundunCertFullAccess"})
			if doc := jStr(t, jObj(t, b, "DefaultPolicyVersion"), "PolicyDocument"); !strings.Contains(doc, "yundun-cert:*") {
				t.Fatalf("system policy document %q", doc)
			}

			// ListPolicies, whole and by pages of 2 through Marker.
			var all []string
			for _, q := range []map[string]string{nil, {"MaxItems": "2"}} {
				var names []string
				marker := ""
				for page := 0; ; page++ {
					qq := with(q, nil)
					if marker != "" {
						qq["Marker"] = marker
					}
					b := mustRAM(t, c, "ListPolicies", qq)
					for _, p := range jList(t, b, "Policies", "Policy") {
						jDate(t, p, "CreateDate")
						jInt(t, p, "AttachmentCount")
						names = append(names, jStr(t, p, "PolicyType")+"/"+jStr(t, p, "PolicyName"))
					}
					if !jBool(t, b, "IsTruncated") {
						break
					}
					marker = jStr(t, b, "Marker")
					if page > 10 {
						t.Fatal("endless listing")
					}
				}
				if all == nil {
					all = names
				} else if !slices.Equal(all, names) {
					t.Fatalf("paged listing %v, whole listing %v", names, all)
				}
			}
			for _, want := range []string{"Custom/Cert-Reader", "System/AdministratorAccess", "System/AliyunYundunCertFullAccess",
				"System/AliyunYundunCertReadOnlyAccess", "System/AliyunRAMFullAccess", "System/AliyunRAMReadOnlyAccess"} {
				if !slices.Contains(all, want) {
					t.Errorf("ListPolicies lacks %s: %v", want, all)
				}
			}
			if n := len(jList(t, mustRAM(t, c, "ListPolicies", map[string]string{"PolicyType": "Custom"}), "Policies", "Policy")); n != 1 {
				t.Errorf("%d custom policies listed, want 1", n)
			}

			// Attach, list, conflicts, detach, delete.
			mustRAM(t, c, "CreateUser", map[string]string{"UserName": "bob"})
			attach := []map[string]string{
				{"PolicyType": "Custom", "PolicyName": "Cert-Reader", "UserName": "bob"},
				{"PolicyType": "System", "PolicyName": "AliyunYundunCertReadOnlyAccess", "UserName": "bob"},
			}
			for _, q := range attach {
				mustRAM(t, c, "AttachPolicyToUser", q)
			}
			_, err := callRAM(t, c, "AttachPolicyToUser", attach[0])
			wantErr(t, err, http.StatusConflict, "EntityAlreadyExists.User.Policy")
			att := jList(t, mustRAM(t, c, "ListPoliciesForUser", map[string]string{"UserName": "bob"}), "Policies", "Policy")
			if len(att) != 2 || jStr(t, att[0], "PolicyName") != "Cert-Reader" || jStr(t, att[0], "Description") != "read certificates" ||
				jStr(t, att[1], "PolicyType") != "System" || jStr(t, att[1], "DefaultVersion") != "v1" {
				t.Fatalf("ListPoliciesForUser %v", att)
			}
			jDate(t, att[0], "AttachDate")
			p = jObj(t, mustRAM(t, c, "GetPolicy", map[string]string{"PolicyType": "Custom", "PolicyName": "Cert-Reader"}), "Policy")
			if jInt(t, p, "AttachmentCount") != 1 {
				t.Fatalf("AttachmentCount after attaching: %v", p)
			}
			_, err = callRAM(t, c, "DeletePolicy", map[string]string{"PolicyName": "Cert-Reader"})
			wantErr(t, err, http.StatusConflict, "DeleteConflict.Policy.User")
			_, err = callRAM(t, c, "DeleteUser", map[string]string{"UserName": "bob"})
			wantErr(t, err, http.StatusConflict, "DeleteConflict.User.Policy")
			for _, q := range attach {
				mustRAM(t, c, "DetachPolicyFromUser", q)
			}
			_, err = callRAM(t, c, "DetachPolicyFromUser", attach[0])
			wantErr(t, err, http.StatusNotFound, "EntityNotExist.User.Policy")
			if att := jList(t, mustRAM(t, c, "ListPoliciesForUser", map[string]string{"UserName": "bob"}), "Policies", "Policy"); len(att) != 0 {
				t.Fatalf("after detaching: %v", att)
			}
			mustRAM(t, c, "DeletePolicy", map[string]string{"PolicyName": "Cert-Reader"})
			_, err = callRAM(t, c, "GetPolicy", map[string]string{"PolicyType": "Custom", "PolicyName": "Cert-Reader"})
			wantErr(t, err, http.StatusNotFound, "EntityNotExist.Policy")
			mustRAM(t, c, "DeleteUser", map[string]string{"UserName": "bob"})
		})
	}
}

func TestRAMBadInput(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			c := ts.client(t, mode)
			mustRAM(t, c, "CreateUser", map[string]string{"UserName": "alice"})
			mustRAM(t, c, "CreateUser", map[string]string{"UserName": "bob"})
			mustRAM(t, c, "CreatePolicy", map[string]string{"PolicyName": "p1", "PolicyDocument": certReadDoc})
			key := jStr(t, jObj(t, mustRAM(t, c, "CreateAccessKey", map[string]string{"UserName": "alice"}), "AccessKey"), "AccessKeyId")

			tests := []struct {
				name, action string
				q            map[string]string
				status       int
				code         string
			}{
				{"CreateUser/missing-name", "CreateUser", nil, 400, "MissingParameter"},
				{"CreateUser/bad-chars", "CreateUser", map[string]string{"UserName": "al ice"}, 400, "InvalidParameter.UserName.InvalidChars"},
				{"CreateUser/too-long", "CreateUser", map[string]string{"UserName": strings.Repeat("a", 65)}, 400, "InvalidParameter.UserName.Length"},
				{"CreateUser/email", "CreateUser", map[string]string{"UserName": "carol", "Email": "carol"}, 400, "InvalidParameter.Email.Format"},
				{"CreateUser/mobile", "CreateUser", map[string]string{"UserName": "carol", "MobilePhone": "phone"}, 400, "InvalidParameter.MobilePhone.Format"},
				{"CreateUser/display-name", "CreateUser", map[string]string{"UserName": "carol", "DisplayName": strings.Repeat("d", 129)}, 400, "InvalidParameter.DisplayName.Length"},
				{"CreateUser/taken", "CreateUser", map[string]string{"UserName": "alice"}, 409, "EntityAlreadyExists.User"},
				{"GetUser/missing-name", "GetUser", nil, 400, "MissingParameter"},
				{"GetUser/unknown", "GetUser", map[string]string{"UserName": "nobody"}, 404, "EntityNotExist.User"},
				{"GetUser/owner-is-no-user", "GetUser", map[string]string{"UserName": "owner"}, 404, "EntityNotExist.User"},
				{"UpdateUser/unknown", "UpdateUser", map[string]string{"UserName": "nobody", "NewComments": "x"}, 404, "EntityNotExist.User"},
				{"UpdateUser/bad-new-name", "UpdateUser", map[string]string{"UserName": "alice", "NewUserName": "a/b"}, 400, "InvalidParameter.NewUserName.InvalidChars"},
				{"UpdateUser/new-name-taken", "UpdateUser", map[string]string{"UserName": "alice", "NewUserName": "bob"}, 409, "EntityAlreadyExists.User"},
				{"UpdateUser/new-comments", "UpdateUser", map[string]string{"UserName": "alice", "NewComments": strings.Repeat("c", 129)}, 400, "InvalidParameter.NewComments.Length"},
				{"DeleteUser/unknown", "DeleteUser", map[string]string{"UserName": "nobody"}, 404, "EntityNotExist.User"},
				{"ListUsers/max-items", "ListUsers", map[string]string{"MaxItems": "1001"}, 400, "InvalidParameter.MaxItems"},
				{"ListUsers/marker", "ListUsers", map[string]string{"Marker": "bob"}, 400, "InvalidParameter.Marker"},
				{"CreateAccessKey/unknown-user", "CreateAccessKey", map[string]string{"UserName": "nobody"}, 404, "EntityNotExist.User"},
				{"CreateAccessKey/bad-user", "CreateAccessKey", map[string]string{"UserName": "no body"}, 400, "InvalidParameter.UserName.InvalidChars"},
				{"ListAccessKeys/unknown-user", "ListAccessKeys", map[string]string{"UserName": "nobody"}, 404, "EntityNotExist.User"},
				{"UpdateAccessKey/missing-id", "UpdateAccessKey", map[string]string{"UserName": "alice", "Status": "Inactive"}, 400, "MissingParameter"},
				{"UpdateAccessKey/missing-status", "UpdateAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": key}, 400, "MissingParameter"},
				{"UpdateAccessKey/bad-status", "UpdateAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": key, "Status": "inactive"}, 400, "InvalidParameter.Status"},
				{"UpdateAccessKey/unknown-key", "UpdateAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": "LTAInope", "Status": "Inactive"}, 404, "EntityNotExist.User.AccessKey"},
				{"UpdateAccessKey/other-users-key", "UpdateAccessKey", map[string]string{"UserName": "bob", "UserAccessKeyId": key, "Status": "Inactive"}, 404, "EntityNotExist.User.AccessKey"},
				{"UpdateAccessKey/owner-last-key", "UpdateAccessKey", map[string]string{"UserAccessKeyId": ts.keyID, "Status": "Inactive"}, 400, "OperationDenied.LastOwnerAccessKey"},
				{"DeleteAccessKey/owner-last-key", "DeleteAccessKey", map[string]string{"UserAccessKeyId": ts.keyID}, 400, "OperationDenied.LastOwnerAccessKey"},
				{"DeleteAccessKey/unknown-key", "DeleteAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": "LTAInope"}, 404, "EntityNotExist.User.AccessKey"},
				{"DeleteAccessKey/unknown-user", "DeleteAccessKey", map[string]string{"UserName": "nobody", "UserAccessKeyId": key}, 404, "EntityNotExist.User"},
				{"CreatePolicy/missing-document", "CreatePolicy", map[string]string{"PolicyName": "p2"}, 400, "MissingParameter"},
				{"CreatePolicy/bad-name", "CreatePolicy", map[string]string{"PolicyName": "p_2", "PolicyDocument": certReadDoc}, 400, "InvalidParameter.PolicyName.InvalidChars"},
				{"CreatePolicy/long-name", "CreatePolicy", map[string]string{"PolicyName": strings.Repeat("p", 129), "PolicyDocument": certReadDoc}, 400, "InvalidParameter.PolicyName.Length"},
				{"CreatePolicy/not-json", "CreatePolicy", map[string]string{"PolicyName": "p2", "PolicyDocument": "{"}, 400, "MalformedPolicyDocument"},
				{"CreatePolicy/no-statement", "CreatePolicy", map[string]string{"PolicyName": "p2", "PolicyDocument": `{"Version":"1"}`}, 400, "MalformedPolicyDocument"},
				{"CreatePolicy/long-description", "CreatePolicy", map[string]string{"PolicyName": "p2", "PolicyDocument": certReadDoc, "Description": strings.Repeat("d", 1025)}, 400, "InvalidParameter.Description.Length"},
				{"CreatePolicy/taken", "CreatePolicy", map[string]string{"PolicyName": "p1", "PolicyDocument": certReadDoc}, 409, "EntityAlreadyExists.Policy"},
				{"CreatePolicy/system-name", "CreatePolicy", map[string]string{"PolicyName": "AdministratorAccess", "PolicyDocument": certReadDoc}, 409, "EntityAlreadyExists.Policy"},
				{"GetPolicy/missing-type", "GetPolicy", map[string]string{"PolicyName": "p1"}, 400, "MissingParameter"},
				{"GetPolicy/bad-type", "GetPolicy", map[string]string{"PolicyType": "custom", "PolicyName": "p1"}, 400, "InvalidParameter.PolicyType"},
				{"GetPolicy/unknown", "GetPolicy", map[string]string{"PolicyType": "Custom", "PolicyName": "p9"}, 404, "EntityNotExist.Policy"},
				{"GetPolicy/unknown-system", "GetPolicy", map[string]string{"PolicyType": "System", "PolicyName": "p1"}, 404, "EntityNotExist.Policy"},
				{"ListPolicies/bad-type", "ListPolicies", map[string]string{"PolicyType": "Both"}, 400, "InvalidParameter.PolicyType"},
				{"ListPolicies/max-items", "ListPolicies", map[string]string{"MaxItems": "x"}, 400, "InvalidParameter.MaxItems"},
				{"DeletePolicy/unknown", "DeletePolicy", map[string]string{"PolicyName": "p9"}, 404, "EntityNotExist.Policy"},
				{"DeletePolicy/system", "DeletePolicy", map[string]string{"PolicyName": "AdministratorAccess"}, 404, "EntityNotExist.Policy"},
				{"AttachPolicyToUser/missing-type", "AttachPolicyToUser", map[string]string{"PolicyName": "p1", "UserName": "alice"}, 400, "MissingParameter"},
				{"AttachPolicyToUser/missing-user", "AttachPolicyToUser", map[string]string{"PolicyType": "Custom", "PolicyName": "p1"}, 400, "MissingParameter"},
				{"AttachPolicyToUser/unknown-policy", "AttachPolicyToUser", map[string]string{"PolicyType": "Custom", "PolicyName": "p9", "UserName": "alice"}, 404, "EntityNotExist.Policy"},
				{"AttachPolicyToUser/unknown-user", "AttachPolicyToUser", map[string]string{"PolicyType": "Custom", "PolicyName": "p1", "UserName": "nobody"}, 404, "EntityNotExist.User"},
				{"DetachPolicyFromUser/not-attached", "DetachPolicyFromUser", map[string]string{"PolicyType": "Custom", "PolicyName": "p1", "UserName": "alice"}, 404, "EntityNotExist.User.Policy"},
				{"ListPoliciesForUser/unknown", "ListPoliciesForUser", map[string]string{"UserName": "nobody"}, 404, "EntityNotExist.User"},
				{"cas-action-under-ram-version", "ListCert", nil, 404, "InvalidAction.NotFound"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					_, err := callRAM(t, c, tc.action, tc.q)
					wantErr(t, err, tc.status, tc.code)
				})
			}
			// Nothing moved: the same users, keys and policies.
			if n := len(jList(t, mustRAM(t, c, "ListUsers", nil), "Users", "User")); n != 2 {
				t.Errorf("%d users after bad input, want 2", n)
			}
			if got := keyIDs(t, mustRAM(t, c, "ListAccessKeys", map[string]string{"UserName": "alice"})); len(got) != 1 || got[key] != "Active" {
				t.Errorf("alice's keys after bad input: %v", got)
			}
			if got := keyIDs(t, mustRAM(t, c, "ListAccessKeys", nil)); len(got) != 1 || got[ts.keyID] != "Active" {
				t.Errorf("owner's keys after bad input: %v", got)
			}
			if n := len(jList(t, mustRAM(t, c, "ListPolicies", map[string]string{"PolicyType": "Custom"}), "Policies", "Policy")); n != 1 {
				t.Errorf("%d custom policies after bad input, want 1", n)
			}
		})
	}
}

func TestRAMTenantIsolation(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			c := ts.client(t, mode)
			mustRAM(t, c, "CreateUser", map[string]string{"UserName": "alice"})
			k := jObj(t, mustRAM(t, c, "CreateAccessKey", map[string]string{"UserName": "alice"}), "AccessKey")
			key, secret := jStr(t, k, "AccessKeyId"), jStr(t, k, "AccessKeySecret")
			mustRAM(t, c, "CreatePolicy", map[string]string{"PolicyName": "mine", "PolicyDocument": certReadDoc})
			mustRAM(t, c, "AttachPolicyToUser", map[string]string{"PolicyType": "Custom", "PolicyName": "mine", "UserName": "alice"})

			other := otherAccount(t, ts, mode)
			tests := []struct {
				name, action string
				q            map[string]string
				status       int
				code         string
			}{
				{"GetUser", "GetUser", map[string]string{"UserName": "alice"}, 404, "EntityNotExist.User"},
				{"UpdateUser", "UpdateUser", map[string]string{"UserName": "alice", "NewComments": "mine now"}, 404, "EntityNotExist.User"},
				{"DeleteUser", "DeleteUser", map[string]string{"UserName": "alice"}, 404, "EntityNotExist.User"},
				{"CreateAccessKey", "CreateAccessKey", map[string]string{"UserName": "alice"}, 404, "EntityNotExist.User"},
				{"ListAccessKeys", "ListAccessKeys", map[string]string{"UserName": "alice"}, 404, "EntityNotExist.User"},
				{"UpdateAccessKey", "UpdateAccessKey", map[string]string{"UserName": "alice", "UserAccessKeyId": key, "Status": "Inactive"}, 404, "EntityNotExist.User"},
				{"UpdateAccessKey/as-own", "UpdateAccessKey", map[string]string{"UserAccessKeyId": key, "Status": "Inactive"}, 404, "EntityNotExist.User.AccessKey"},
				{"DeleteAccessKey/as-own", "DeleteAccessKey", map[string]string{"UserAccessKeyId": key}, 404, "EntityNotExist.User.AccessKey"},
				{"GetPolicy", "GetPolicy", map[string]string{"PolicyType": "Custom", "PolicyName": "mine"}, 404, "EntityNotExist.Policy"},
				{"DeletePolicy", "DeletePolicy", map[string]string{"PolicyName": "mine"}, 404, "EntityNotExist.Policy"},
				{"AttachPolicyToUser", "AttachPolicyToUser", map[string]string{"PolicyType": "System", "PolicyName": "AdministratorAccess", "UserName": "alice"}, 404, "EntityNotExist.User"},
				{"ListPoliciesForUser", "ListPoliciesForUser", map[string]string{"UserName": "alice"}, 404, "EntityNotExist.User"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					_, err := callRAM(t, other, tc.action, tc.q)
					wantErr(t, err, tc.status, tc.code)
				})
			}
			b := mustRAM(t, other, "ListUsers", nil)
			if n := len(jList(t, b, "Users", "User")); n != 0 {
				t.Errorf("the other account lists %d users", n)
			}
			b = mustRAM(t, other, "ListPolicies", map[string]string{"PolicyType": "Custom"})
			if n := len(jList(t, b, "Policies", "Policy")); n != 0 {
				t.Errorf("the other account lists %d custom policies", n)
			}
			// The same names are free there, and alice is untouched here.
			mustRAM(t, other, "CreateUser", map[string]string{"UserName": "alice"})
			u := jObj(t, mustRAM(t, c, "GetUser", map[string]string{"UserName": "alice"}), "User")
			if jStr(t, u, "Comments") != "" {
				t.Errorf("alice changed: %v", u)
			}
			mustCall(t, clientFor(t, ts, mode, key, secret), "ListCert", nil)
		})
	}
}
