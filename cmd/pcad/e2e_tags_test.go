package main

// Tags and resource groups (spec B.4): TagResources, UntagResources,
// ListTagResources and MoveResourceGroup through the official client in both
// signature modes.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/pcad-dev/pcad/internal/service"
)

// lcTagQuery is the common part of a tag call.
func lcTagQuery(rtype string, ids ...string) map[string]string {
	q := map[string]string{"RegionId": "cn-hangzhou", "ResourceType": rtype}
	for i, id := range ids {
		q[fmt.Sprintf("ResourceId.%d", i+1)] = id
	}
	return q
}

// lcWithTags adds Tag.N.Key/Value pairs ("k=v") to q.
func lcWithTags(q map[string]string, pairs ...string) map[string]string {
	q = with(q, nil)
	for i, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		q[fmt.Sprintf("Tag.%d.Key", i+1)] = k
		if v != "" {
			q[fmt.Sprintf("Tag.%d.Value", i+1)] = v
		}
	}
	return q
}

// lcListTags calls ListTagResources, checks the shape of the answer
// (Data.TagResources.TagResources) and returns "resource:key=value" items
// and the NextToken.
func lcListTags(t *testing.T, c *openapiclient.Client, q map[string]string, wantType string) ([]string, string) {
	t.Helper()
	b := mustCall(t, c, "ListTagResources", q)
	lcKeys(t, "answer", b, "RequestId", "Data")
	data := jObj(t, b, "Data")
	lcKeys(t, "Data", data, "MaxResults", "NextToken", "TagResources")
	jInt(t, data, "MaxResults")
	outer := jObj(t, data, "TagResources")
	lcKeys(t, "Data.TagResources", outer, "TagResources")
	var out []string
	for _, it := range jObjects(t, outer, "TagResources") {
		lcKeys(t, "tag resource", it, "ResourceId", "ResourceType", "TagKey", "TagValue")
		if rt := jStr(t, it, "ResourceType"); rt != wantType {
			t.Errorf("ResourceType %q, want %q", rt, wantType)
		}
		out = append(out, jStr(t, it, "ResourceId")+":"+jStr(t, it, "TagKey")+"="+jStr(t, it, "TagValue"))
	}
	return out, jStr(t, data, "NextToken")
}

func TestTagsTagUntagList(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, act := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			root, sub := hierarchy(t, c)
			cert := issueClient(t, c, sub.ID, nil)
			inst := instanceOfActor(t, ts, act, sub.ID)

			// Tag a certificate, a root and (through its instance UUID) a sub-CA.
			b := mustCall(t, c, "TagResources", lcWithTags(lcTagQuery("instance", cert, root.ID, strings.ToUpper(inst)), "env=prod", "team=pki"))
			lcOnlyRequestID(t, "TagResources", b)
			if got := lcTagPairs(t, lcDescribe(t, c, cert)); got != "env=prod,team=pki" {
				t.Errorf("certificate tags %s", got)
			}
			for _, id := range []string{root.ID, sub.ID} {
				rec := jObj(t, mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": id}), "Certificate")
				if got := lcTagPairs(t, rec); got != "env=prod,team=pki" {
					t.Errorf("CA %s tags %s", id, got)
				}
			}
			if got := lcLastLog(t, c, root.ID); !strings.HasPrefix(got, "UPDATE: TagResources by AccessKey ") || !strings.HasSuffix(got, "): tags set: env=prod, team=pki") {
				t.Errorf("root's last log entry %q", got)
			}
			listTags := jArr(t, jObjects(t, list(t, c, nil), "List")[0], "Tags")
			if fmt.Sprint(listTags) != `[{"env":"prod"} {"team":"pki"}]` {
				t.Errorf("ListCert Tags %v", listTags)
			}
			// Replace one value, add one key.
			mustCall(t, c, "TagResources", lcWithTags(lcTagQuery("certificate", cert), "env=stage", "owner=alice"))
			if got := lcTagPairs(t, lcDescribe(t, c, cert)); got != "env=stage,owner=alice,team=pki" {
				t.Errorf("certificate tags after a second TagResources: %s", got)
			}

			ids := []string{cert, root.ID, sub.ID}
			all := map[string][]string{}
			for _, id := range ids {
				keys := []string{"env=prod", "team=pki"}
				if id == cert {
					keys = []string{"env=stage", "owner=alice", "team=pki"}
				}
				for _, k := range keys {
					all[id] = append(all[id], id+":"+k)
				}
			}
			sorted := func(ids ...string) []string { // resource order, then key order
				var out []string
				for _, id := range lcSorted(ids) {
					out = append(out, all[id]...)
				}
				return out
			}
			cases := []struct {
				name  string
				q     map[string]string
				rtype string
				want  []string
			}{
				{"everything", lcTagQuery("instance"), "instance", sorted(ids...)},
				{"type-is-case-insensitive", lcTagQuery("Instance"), "instance", sorted(ids...)},
				{"only-cas", lcTagQuery("ca"), "ca", sorted(root.ID, sub.ID)},
				{"only-certificates", lcTagQuery("certificate"), "certificate", sorted(cert)},
				{"by-resource", lcTagQuery("instance", root.ID), "instance", sorted(root.ID)},
				{"by-instance-uuid", lcTagQuery("ca", inst), "ca", sorted(sub.ID)},
				{"unknown-resource-ignored", lcTagQuery("instance", "nope", cert), "instance", sorted(cert)},
				{"only-unknown-resources", lcTagQuery("instance", "nope"), "instance", nil},
				{"by-tag-value", lcWithTags(lcTagQuery("instance"), "env=prod"), "instance", sorted(root.ID, sub.ID)},
				{"by-tag-key", lcWithTags(lcTagQuery("instance"), "owner"), "instance", sorted(cert)},
				{"by-two-tags", lcWithTags(lcTagQuery("instance"), "env=prod", "team=pki"), "instance", sorted(root.ID, sub.ID)},
				{"no-match", lcWithTags(lcTagQuery("instance"), "env=none"), "instance", nil},
			}
			for _, tc := range cases {
				t.Run("list/"+tc.name, func(t *testing.T) {
					got, next := lcListTags(t, c, tc.q, tc.rtype)
					if fmt.Sprint(got) != fmt.Sprint(tc.want) || next != "" {
						t.Errorf("got %v (NextToken %q)\nwant %v", got, next, tc.want)
					}
				})
			}
			t.Run("list/paged", func(t *testing.T) {
				var got []string
				token := ""
				for page := 0; ; page++ {
					q := with(lcTagQuery("instance"), map[string]string{"MaxResults": "3"})
					if token != "" {
						q["NextToken"] = token
					}
					items, next := lcListTags(t, c, q, "instance")
					if len(items) > 3 || (next != "" && len(items) != 3) {
						t.Errorf("page %d holds %d items (NextToken %q)", page, len(items), next)
					}
					got = append(got, items...)
					if next == "" {
						break
					}
					if page > 5 {
						t.Fatal("the listing does not end")
					}
					token = next
				}
				if fmt.Sprint(got) != fmt.Sprint(sorted(ids...)) {
					t.Errorf("pages together %v\nwant %v", got, sorted(ids...))
				}
				// The token is opaque and bound to the account and the query.
				_, err := call(t, other, "ListTagResources", with(lcTagQuery("instance"), map[string]string{"NextToken": token}))
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken")
				_, err = call(t, c, "ListTagResources", with(lcTagQuery("ca"), map[string]string{"NextToken": token}))
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken")
				_, err = call(t, c, "ListTagResources", with(lcTagQuery("instance"), map[string]string{"NextToken": token[:len(token)-2] + "AA"}))
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken")
			})
			t.Run("list/other-account", func(t *testing.T) {
				if got, _ := lcListTags(t, other, lcTagQuery("instance"), "instance"); len(got) != 0 {
					t.Errorf("another account lists %v", got)
				}
				if got, _ := lcListTags(t, other, lcTagQuery("instance", cert, root.ID), "instance"); len(got) != 0 {
					t.Errorf("another account lists %v", got)
				}
			})

			// Refused calls change nothing.
			before, _ := lcListTags(t, c, lcTagQuery("instance"), "instance")
			nineteen := lcTagQuery("instance", root.ID, cert)
			var pairs []string
			for i := range 19 {
				pairs = append(pairs, fmt.Sprintf("n%02d=v", i))
			}
			twentyOne := lcTagQuery("instance", cert)
			for i := range 21 {
				twentyOne[fmt.Sprintf("Tag.%d.Key", i+1)] = fmt.Sprintf("k%d", i)
			}
			fiftyOne := lcWithTags(lcTagQuery("instance"), "a=b")
			for i := range 51 {
				fiftyOne[fmt.Sprintf("ResourceId.%d", i+1)] = cert
			}
			lcRunBad(t, c, "TagResources", []lcBad{
				{"missing-region", with(lcWithTags(lcTagQuery("instance", cert), "a=b"), map[string]string{"RegionId": drop}), 400, "MissingParameter", []string{"RegionId"}},
				{"missing-type", with(lcWithTags(lcTagQuery("instance", cert), "a=b"), map[string]string{"ResourceType": drop}), 400, "MissingParameter", []string{"ResourceType"}},
				{"bad-type", lcWithTags(lcTagQuery("bucket", cert), "a=b"), 400, "InvalidParameter.ResourceType", []string{"ResourceType", "bucket"}},
				{"missing-resource", lcWithTags(lcTagQuery("instance"), "a=b"), 400, "MissingParameter", []string{"ResourceId.1"}},
				{"missing-tag", lcTagQuery("instance", cert), 400, "MissingParameter", []string{"Tag.1.Key"}},
				{"unknown-resource-second", lcWithTags(lcTagQuery("instance", cert, "nope"), "a=b"), 404, "NotFound.Resource", []string{"ResourceId.2"}},
				{"ca-as-certificate", lcWithTags(lcTagQuery("certificate", root.ID), "a=b"), 404, "NotFound.Certificate", []string{"ResourceId.1"}},
				{"certificate-as-ca", lcWithTags(lcTagQuery("ca", cert), "a=b"), 404, "NotFound.CA", []string{"ResourceId.1"}},
				{"tag-key-empty", with(lcTagQuery("instance", cert), map[string]string{"Tag.1.Value": "v"}), 400, "InvalidParameter.Tag", []string{"Tag"}},
				{"tag-key-twice", lcWithTags(lcTagQuery("instance", cert), "a=1", "a=2"), 400, "InvalidParameter.Tag", []string{"Tag"}},
				{"21-tags-in-one-call", twentyOne, 400, "InvalidParameter.Tag", []string{"20"}},
				{"51-resources", fiftyOne, 400, "InvalidParameter.ResourceId", []string{"50"}},
				// root has 2 tags (+19 = 21): refused, and cert (3 + 19 = 22) is untouched too.
				{"quota-per-resource", lcWithTags(nineteen, pairs...), 400, "QuotaExceeded.Tags", []string{"20"}},
			})
			t.Run("other-account-cannot-tag", func(t *testing.T) {
				_, err := call(t, other, "TagResources", lcWithTags(lcTagQuery("instance", cert), "a=b"))
				wantErr(t, err, http.StatusNotFound, "NotFound.Resource")
				_, err = call(t, other, "UntagResources", with(lcTagQuery("instance", root.ID), map[string]string{"All": "true"}))
				wantErr(t, err, http.StatusNotFound, "NotFound.Resource")
			})
			lcRunBad(t, c, "UntagResources", []lcBad{
				{"all-and-keys", with(lcTagQuery("instance", cert), map[string]string{"TagKey.1": "env", "All": "true"}), 400, "InvalidParameter.All", []string{"All", "TagKey"}},
				{"neither", lcTagQuery("instance", cert), 400, "MissingParameter", []string{"TagKey.1"}},
				{"all-not-bool", with(lcTagQuery("instance", cert), map[string]string{"All": "yes"}), 400, "InvalidParameter.All", []string{"All"}},
				{"unknown-resource", with(lcTagQuery("instance", "nope"), map[string]string{"All": "true"}), 404, "NotFound.Resource", []string{"ResourceId.1"}},
				{"missing-region", with(lcTagQuery("instance", cert), map[string]string{"All": "true", "RegionId": drop}), 400, "MissingParameter", []string{"RegionId"}},
			})
			lcRunBad(t, c, "ListTagResources", []lcBad{
				{"missing-type", with(lcTagQuery("instance"), map[string]string{"ResourceType": drop}), 400, "MissingParameter", []string{"ResourceType"}},
				{"max-results-0", with(lcTagQuery("instance"), map[string]string{"MaxResults": "0"}), 400, "InvalidParameter.MaxResults", []string{"MaxResults"}},
				{"max-results-1001", with(lcTagQuery("instance"), map[string]string{"MaxResults": "1001"}), 400, "InvalidParameter.MaxResults", []string{"MaxResults"}},
				{"token-garbage", with(lcTagQuery("instance"), map[string]string{"NextToken": "not a token"}), 400, "InvalidParameter.NextToken", []string{"NextToken"}},
			})
			if after, _ := lcListTags(t, c, lcTagQuery("instance"), "instance"); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("refused calls changed the tags:\n%v\n%v", before, after)
			}

			// Untag: by key (an absent key is ignored), then everything.
			lcOnlyRequestID(t, "UntagResources", mustCall(t, c, "UntagResources",
				with(lcTagQuery("instance", cert, inst), map[string]string{"TagKey.1": "env", "TagKey.2": "absent"})))
			if got := lcTagPairs(t, lcDescribe(t, c, cert)); got != "owner=alice,team=pki" {
				t.Errorf("certificate tags after untag env: %s", got)
			}
			mustCall(t, c, "UntagResources", with(lcTagQuery("ca", root.ID), map[string]string{"All": "true"}))
			left := map[string][]string{cert: {cert + ":owner=alice", cert + ":team=pki"}, sub.ID: {sub.ID + ":team=pki"}}
			var want []string
			for _, id := range lcSorted([]string{cert, sub.ID}) {
				want = append(want, left[id]...)
			}
			if got, _ := lcListTags(t, c, lcTagQuery("instance"), "instance"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("after untagging:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// lcSorted returns a sorted copy.
func lcSorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// instanceOfActor returns the default instance UUID of a CA of act's account.
func instanceOfActor(t *testing.T, ts *testServer, act service.Actor, caID string) string {
	t.Helper()
	ca, err := ts.app.svc.GetCA(context.Background(), act, "Identifier", caID)
	if err != nil {
		t.Fatal(err)
	}
	if ca.InstanceUUID == "" {
		t.Fatalf("CA %s has no instance", caID)
	}
	return ca.InstanceUUID
}

func TestTagsMoveResourceGroup(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, act := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			root, sub := hierarchy(t, c)
			cert := issueServer(t, c, sub.ID, nil)
			inst := instanceOfActor(t, ts, act, sub.ID)
			move := func(rtype, id, group string) map[string]string {
				return map[string]string{"ResourceId": id, "ResourceGroupId": group, "ResourceType": rtype, "RegionId": "cn-hangzhou"}
			}

			lcOnlyRequestID(t, "MoveResourceGroup", mustCall(t, c, "MoveResourceGroup", move("instance", cert, "rg-blue")))
			if got := jStr(t, lcDescribe(t, c, cert), "ResourceGroupId"); got != "rg-blue" {
				t.Errorf("certificate ResourceGroupId %q", got)
			}
			lc := mustCall(t, c, "ListClientCertificate", map[string]string{"ResourceGroupId": "rg-blue"})
			if jInt(t, lc, "TotalCount") != 1 {
				t.Errorf("ListClientCertificate in rg-blue: %d", jInt(t, lc, "TotalCount"))
			}
			// No RegionId: optional for this call.
			mustCall(t, c, "MoveResourceGroup", with(move("ca", inst, "rg-red"), map[string]string{"RegionId": drop}))
			mustCall(t, c, "MoveResourceGroup", move("ca", root.ID, "rg-green"))
			if got := lcLastLog(t, c, sub.ID); !strings.HasPrefix(got, "UPDATE: MoveResourceGroup by AccessKey ") || !strings.HasSuffix(got, `): moved to resource group "rg-red"`) {
				t.Errorf("sub-CA's last log entry %q", got)
			}
			for id, want := range map[string]string{sub.ID: "rg-red", root.ID: "rg-green"} {
				rec := jObj(t, mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": id}), "Certificate")
				if got := jStr(t, rec, "ResourceGroupId"); got != want {
					t.Errorf("CA %s ResourceGroupId %q, want %q", id, got, want)
				}
			}
			lcRunBad(t, c, "MoveResourceGroup", []lcBad{
				{"missing-resource", with(move("instance", cert, "rg-x"), map[string]string{"ResourceId": drop}), 400, "MissingParameter", []string{"ResourceId"}},
				{"missing-group", with(move("instance", cert, "rg-x"), map[string]string{"ResourceGroupId": drop}), 400, "MissingParameter", []string{"ResourceGroupId"}},
				{"missing-type", with(move("instance", cert, "rg-x"), map[string]string{"ResourceType": drop}), 400, "MissingParameter", []string{"ResourceType"}},
				{"group-too-long", move("instance", cert, strings.Repeat("g", 65)), 400, "InvalidParameter.ResourceGroupId", []string{"ResourceGroupId"}},
				{"unknown", move("instance", "nope", "rg-x"), 404, "NotFound.Resource", []string{"ResourceId"}},
				{"ca-as-certificate", move("certificate", root.ID, "rg-x"), 404, "NotFound.Certificate", []string{"ResourceId"}},
			})
			t.Run("other-account", func(t *testing.T) {
				_, err := call(t, other, "MoveResourceGroup", move("instance", cert, "rg-stolen"))
				wantErr(t, err, http.StatusNotFound, "NotFound.Resource")
			})
			if got := jStr(t, lcDescribe(t, c, cert), "ResourceGroupId"); got != "rg-blue" {
				t.Errorf("refused moves changed the resource group to %q", got)
			}
		})
	}
}
