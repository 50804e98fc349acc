package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// tagsOf reads the tags of one resource and fails the test on error.
func (f *fixture) tagsOf(t *testing.T, accountID int64, resourceID string) []pca.Tag {
	t.Helper()
	m, err := f.s.GetTags(f.ctx, accountID, []string{resourceID})
	checkErr(t, "GetTags", err, nil)
	return emptyNil(m[resourceID])
}

// checkTags fails the test unless got is exactly want, in want's order.
func checkTags(t *testing.T, what string, got, want []pca.Tag) {
	t.Helper()
	if !slices.Equal(emptyNil(got), emptyNil(want)) {
		t.Errorf("%s tags = %v\nwant %v (in key order)", what, got, want)
	}
}

// untaggedIssuer creates a root and a sub-CA without tags in acct.
func (f *fixture) untaggedIssuer(acct pca.Account) issuer {
	f.t.Helper()
	root, key := f.newCA(acct, nil)
	root.Tags = nil
	if err := f.s.CreateCA(f.ctx, &root, key); err != nil {
		f.t.Fatalf("CreateCA(root): %v", err)
	}
	sub, key := f.newCA(acct, &root)
	sub.Tags = nil
	if err := f.s.CreateCA(f.ctx, &sub, key); err != nil {
		f.t.Fatalf("CreateCA(sub): %v", err)
	}
	sub.ParentIdentifier = root.Identifier
	return issuer{ca: sub, inst: f.instance(acct.ID, sub.InstanceUUID)}
}

func testSetTags(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	acct := iss.ca.AccountID
	c := f.fullCert(iss) // app=billing, env=prod
	f.insert(&c, nil)
	bystander := f.fullCert(iss)
	f.insert(&bystander, nil)
	type tags = []pca.Tag
	steps := []struct {
		name string
		set  tags
		max  int
		want error
		tags tags // afterwards, in key order
	}{
		{"ok/add-new-key", tags{{Key: "team", Value: "pki"}}, 4, nil,
			tags{{Key: "app", Value: "billing"}, {Key: "env", Value: "prod"}, {Key: "team", Value: "pki"}}},
		{"ok/replace-by-key", tags{{Key: "env", Value: "dev"}}, 4, nil,
			tags{{Key: "app", Value: "billing"}, {Key: "env", Value: "dev"}, {Key: "team", Value: "pki"}}},
		{"ok/add-and-replace-up-to-limit", tags{{Key: "owner", Value: "ops"}, {Key: "app", Value: "web"}}, 4, nil,
			tags{{Key: "app", Value: "web"}, {Key: "env", Value: "dev"}, {Key: "owner", Value: "ops"}, {Key: "team", Value: "pki"}}},
		{"ok/replace-at-limit", tags{{Key: "team", Value: "sec"}}, 4, nil,
			tags{{Key: "app", Value: "web"}, {Key: "env", Value: "dev"}, {Key: "owner", Value: "ops"}, {Key: "team", Value: "sec"}}},
		{"fail/one-over-limit", tags{{Key: "zone", Value: "a"}}, 4, store.ErrQuota,
			tags{{Key: "app", Value: "web"}, {Key: "env", Value: "dev"}, {Key: "owner", Value: "ops"}, {Key: "team", Value: "sec"}}},
		{"fail/replace-and-add-over-limit", tags{{Key: "env", Value: "prod"}, {Key: "zone", Value: "a"}}, 4, store.ErrQuota,
			tags{{Key: "app", Value: "web"}, {Key: "env", Value: "dev"}, {Key: "owner", Value: "ops"}, {Key: "team", Value: "sec"}}},
		{"fail/far-over-limit", tags{{Key: "x1", Value: "1"}, {Key: "x2", Value: "2"}, {Key: "x3", Value: "3"}}, 5, store.ErrQuota,
			tags{{Key: "app", Value: "web"}, {Key: "env", Value: "dev"}, {Key: "owner", Value: "ops"}, {Key: "team", Value: "sec"}}},
		{"ok/empty-value-under-raised-limit", tags{{Key: "beta", Value: ""}}, 5, nil,
			tags{{Key: "app", Value: "web"}, {Key: "beta", Value: ""}, {Key: "env", Value: "dev"}, {Key: "owner", Value: "ops"}, {Key: "team", Value: "sec"}}},
		{"ok/nothing-to-set", nil, 5, nil,
			tags{{Key: "app", Value: "web"}, {Key: "beta", Value: ""}, {Key: "env", Value: "dev"}, {Key: "owner", Value: "ops"}, {Key: "team", Value: "sec"}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			checkErr(t, "SetTags", f.s.SetTags(f.ctx, acct, c.Identifier, st.set, st.max), st.want)
			checkTags(t, "GetTags", f.tagsOf(t, acct, c.Identifier), st.tags)
			checkTags(t, "GetCertificate", f.getCert(t, acct, c.Identifier).Tags, st.tags)
			checkTags(t, "bystander", f.tagsOf(t, acct, bystander.Identifier), byKey(bystander.Tags))
		})
	}
	t.Run("fail/over-limit-on-untagged-resource", func(t *testing.T) {
		ca := f.untaggedIssuer(f.account()).ca
		err := f.s.SetTags(f.ctx, ca.AccountID, ca.Identifier, []pca.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}}, 2)
		checkErr(t, "SetTags", err, store.ErrQuota)
		checkTags(t, "GetTags", f.tagsOf(t, ca.AccountID, ca.Identifier), nil)
		checkTags(t, "GetCA", f.getCA(t, ca.AccountID, ca.Identifier).Tags, nil)
	})
}

func testTagsKeyOrder(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	unsorted := []pca.Tag{{Key: "zone", Value: "z"}, {Key: "app", Value: "a"}, {Key: "owner", Value: "o"}, {Key: "env", Value: "e"}}
	sorted := byKey(unsorted)
	root, key := f.newCA(acct, nil)
	root.Tags = unsorted
	checkErr(t, "CreateCA", f.s.CreateCA(f.ctx, &root, key), nil)
	iss := f.sub(root)
	c := f.newCert(iss, pca.TypeServer, t0)
	c.Tags = unsorted
	f.insert(&c, nil)
	c2 := f.newCert(iss, pca.TypeClient, t0)
	f.insert(&c2, nil)
	checkErr(t, "SetTags", f.s.SetTags(f.ctx, acct.ID, c2.Identifier, unsorted, 10), nil)

	checks := []struct {
		name string
		tags func(t *testing.T) []pca.Tag
	}{
		{"GetCA", func(t *testing.T) []pca.Tag { return f.getCA(t, acct.ID, root.Identifier).Tags }},
		{"ListCAs", func(t *testing.T) []pca.Tag {
			cas, _, err := f.s.ListCAs(f.ctx, acct.ID, store.CAQuery{Identifiers: []string{root.Identifier}, Limit: 10})
			checkErr(t, "ListCAs", err, nil)
			if len(cas) != 1 {
				t.Fatalf("ListCAs returned %d CAs, want 1", len(cas))
			}
			return cas[0].Tags
		}},
		{"GetCertificate", func(t *testing.T) []pca.Tag { return f.getCert(t, acct.ID, c.Identifier).Tags }},
		{"GetCertificate/set-by-SetTags", func(t *testing.T) []pca.Tag { return f.getCert(t, acct.ID, c2.Identifier).Tags }},
		{"ListCertificates", func(t *testing.T) []pca.Tag {
			res := f.list(acct.ID, store.ListQuery{Limit: maxLimit})
			for _, item := range res.Items {
				if item.Identifier == c.Identifier {
					return item.Tags
				}
			}
			t.Fatalf("ListCertificates does not list %s", c.Identifier)
			return nil
		}},
		{"GetTags/CA", func(t *testing.T) []pca.Tag { return f.tagsOf(t, acct.ID, root.Identifier) }},
		{"GetTags/certificate", func(t *testing.T) []pca.Tag { return f.tagsOf(t, acct.ID, c2.Identifier) }},
		{"FindTagged", func(t *testing.T) []pca.Tag {
			pairs, _, err := f.s.FindTagged(f.ctx, acct.ID, []string{c.Identifier}, nil, "", 100)
			checkErr(t, "FindTagged", err, nil)
			var out []pca.Tag
			for _, p := range pairs {
				out = append(out, p.Tag)
			}
			return out
		}},
	}
	for _, tc := range checks {
		t.Run("ok/"+tc.name, func(t *testing.T) { checkTags(t, tc.name, tc.tags(t), sorted) })
	}
	// Records the contract lets go without tags must still carry them in
	// key order when they do.
	optional := []struct {
		name string
		tags func(t *testing.T) []pca.Tag
	}{
		{"CertificatesBySerial", func(t *testing.T) []pca.Tag {
			got, err := f.s.CertificatesBySerial(f.ctx, acct.ID, []string{c.SerialNumber})
			checkErr(t, "CertificatesBySerial", err, nil)
			if len(got) != 1 {
				t.Fatalf("CertificatesBySerial returned %d, want 1", len(got))
			}
			return got[0].Tags
		}},
		{"RevokeCertificate", func(t *testing.T) []pca.Tag {
			got, err := f.s.RevokeCertificate(f.ctx, acct.ID, c2.Identifier, revokedAt, pca.ReasonSuperseded)
			checkErr(t, "RevokeCertificate", err, nil)
			return got.Tags
		}},
	}
	for _, tc := range optional {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			if got := tc.tags(t); len(got) != 0 {
				checkTags(t, tc.name, got, sorted)
			}
		})
	}
}

func testRemoveTags(t *testing.T, open opener) {
	type tags = []pca.Tag
	four := tags{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}, {Key: "d", Value: "4"}}
	tests := []struct {
		name string
		keys []string
		want tags
	}{
		{"ok/one-key", []string{"b"}, tags{four[0], four[2], four[3]}},
		{"ok/several-keys", []string{"d", "a"}, tags{four[1], four[2]}},
		{"ok/unknown-key", []string{"zz"}, four},
		{"ok/known-and-unknown", []string{"c", "zz"}, tags{four[0], four[1], four[3]}},
		{"ok/every-key-by-name", []string{"a", "b", "c", "d"}, nil},
		{"ok/nil-removes-all", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			iss := f.untaggedIssuer(f.account())
			acct := iss.ca.AccountID
			x, y := f.cert(iss, pca.TypeServer, t0), f.cert(iss, pca.TypeServer, t0)
			checkErr(t, "SetTags(x)", f.s.SetTags(f.ctx, acct, x.Identifier, four, 10), nil)
			checkErr(t, "SetTags(y)", f.s.SetTags(f.ctx, acct, y.Identifier, four[:2], 10), nil)
			checkErr(t, "SetTags(CA)", f.s.SetTags(f.ctx, acct, iss.ca.Identifier, four[1:], 10), nil)
			checkErr(t, "RemoveTags", f.s.RemoveTags(f.ctx, acct, x.Identifier, tc.keys), nil)
			checkTags(t, "removed-from", f.tagsOf(t, acct, x.Identifier), tc.want)
			checkTags(t, "other certificate", f.tagsOf(t, acct, y.Identifier), four[:2])
			checkTags(t, "CA", f.tagsOf(t, acct, iss.ca.Identifier), four[1:])
		})
	}
}

func testGetTags(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.untaggedIssuer(f.account())
	acct := iss.ca.AccountID
	x, y, z := f.cert(iss, pca.TypeServer, t0), f.cert(iss, pca.TypeServer, t0), f.cert(iss, pca.TypeServer, t0)
	xt, yt := []pca.Tag{{Key: "env", Value: "prod"}}, []pca.Tag{{Key: "app", Value: "x"}, {Key: "env", Value: "dev"}}
	ct := []pca.Tag{{Key: "tier", Value: "issuing"}}
	checkErr(t, "SetTags(x)", f.s.SetTags(f.ctx, acct, x.Identifier, xt, 10), nil)
	checkErr(t, "SetTags(y)", f.s.SetTags(f.ctx, acct, y.Identifier, yt, 10), nil)
	checkErr(t, "SetTags(ca)", f.s.SetTags(f.ctx, acct, iss.ca.Identifier, ct, 10), nil)
	unknown := f.uuid()
	tests := []struct {
		name    string
		account int64
		ids     []string
		want    map[string][]pca.Tag
	}{
		{"ok/one", acct, []string{y.Identifier}, map[string][]pca.Tag{y.Identifier: yt}},
		{"ok/several-with-ca", acct, []string{iss.ca.Identifier, x.Identifier, y.Identifier},
			map[string][]pca.Tag{iss.ca.Identifier: ct, x.Identifier: xt, y.Identifier: yt}},
		{"ok/untagged-and-unknown-have-none", acct, []string{z.Identifier, unknown, x.Identifier}, map[string][]pca.Tag{x.Identifier: xt}},
		{"ok/none-asked", acct, nil, map[string][]pca.Tag{}},
		{"fail/other-accounts-view", f.account().ID, []string{x.Identifier, y.Identifier}, map[string][]pca.Tag{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.GetTags(f.ctx, tc.account, tc.ids)
			checkErr(t, "GetTags", err, nil)
			for id, tags := range got {
				if len(tags) == 0 {
					continue
				}
				if _, ok := tc.want[id]; !ok {
					t.Errorf("GetTags returned tags of %s: %v", id, tags)
				}
			}
			for id, want := range tc.want {
				checkTags(t, id, got[id], want)
			}
		})
	}
}

func testTagsTenants(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.untaggedIssuer(f.account()), f.untaggedIssuer(f.account())
	ca := f.cert(a, pca.TypeServer, t0)
	cb := f.cert(b, pca.TypeServer, t0)
	at := []pca.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "a"}}
	checkErr(t, "SetTags(a)", f.s.SetTags(f.ctx, a.ca.AccountID, ca.Identifier, at, 2), nil)
	// B's own tags do not count against A's resource, nor A's against B's.
	checkErr(t, "SetTags(b)", f.s.SetTags(f.ctx, b.ca.AccountID, cb.Identifier,
		[]pca.Tag{{Key: "env", Value: "test"}, {Key: "team", Value: "b"}}, 2), nil)
	checkErr(t, "RemoveTags(B on A's resource)", f.s.RemoveTags(f.ctx, b.ca.AccountID, ca.Identifier, nil), nil)
	checkErr(t, "RemoveTags(B on A's key)", f.s.RemoveTags(f.ctx, b.ca.AccountID, ca.Identifier, []string{"env"}), nil)
	checkTags(t, "A's certificate", f.tagsOf(t, a.ca.AccountID, ca.Identifier), at)
	checkTags(t, "A's certificate seen by B", f.tagsOf(t, b.ca.AccountID, ca.Identifier), nil)
	pairs, _, err := f.s.FindTagged(f.ctx, b.ca.AccountID, nil, nil, "", 100)
	checkErr(t, "FindTagged(B)", err, nil)
	for _, p := range pairs {
		if p.ResourceID != cb.Identifier {
			t.Errorf("FindTagged(B) returned %s/%s", p.ResourceID, p.Tag.Key)
		}
	}
	if len(pairs) != 2 {
		t.Errorf("FindTagged(B) returned %d pairs, want 2", len(pairs))
	}
}

// tagModel is the tags of one account, kept by the test.
type tagModel map[string][]pca.Tag

// find returns the pairs FindTagged(ids, match) must list, in order.
func (m tagModel) find(ids []string, match []pca.Tag) []store.TaggedResource {
	var res []string
	for id := range m {
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		ok := true
		for _, want := range match {
			i := slices.IndexFunc(m[id], func(t pca.Tag) bool { return t.Key == want.Key })
			ok = ok && i >= 0 && (want.Value == "" || m[id][i].Value == want.Value)
		}
		if ok {
			res = append(res, id)
		}
	}
	slices.Sort(res)
	var out []store.TaggedResource
	for _, id := range res {
		for _, tag := range byKey(m[id]) {
			out = append(out, store.TaggedResource{ResourceID: id, Tag: tag})
		}
	}
	return out
}

func testFindTagged(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	r1 := f.root(acct) // env=prod, team=pki from newCA
	iss := f.untaggedIssuer(acct)
	r2, r3, r4 := f.cert(iss, pca.TypeServer, t0), f.cert(iss, pca.TypeServer, t0), f.cert(iss, pca.TypeServer, t0)
	r5 := f.cert(iss, pca.TypeServer, t0) // untagged
	rb := f.root(f.account())             // env=prod, team=pki in another account
	m := tagModel{r1.Identifier: byKey(r1.Tags)}
	for _, r := range []struct {
		id   string
		tags []pca.Tag
	}{
		{r2.Identifier, []pca.Tag{{Key: "team", Value: "pki"}, {Key: "env", Value: "dev"}, {Key: "app", Value: "web"}}},
		{r3.Identifier, []pca.Tag{{Key: "env", Value: "prod"}, {Key: "app", Value: "api"}}},
		{r4.Identifier, []pca.Tag{{Key: "owner", Value: "ops"}}},
	} {
		checkErr(t, "SetTags", f.s.SetTags(f.ctx, acct.ID, r.id, r.tags, 10), nil)
		m[r.id] = r.tags
	}
	anyValue := func(k string) pca.Tag { return pca.Tag{Key: k} }
	tag := func(k, v string) pca.Tag { return pca.Tag{Key: k, Value: v} }
	tests := []struct {
		name  string
		ids   []string
		match []pca.Tag
		n     int // pairs, counted by hand
	}{
		{"all", nil, nil, 8},
		{"ids", []string{r3.Identifier, r1.Identifier}, nil, 4},
		{"ids/untagged-and-unknown", []string{r4.Identifier, f.uuid(), r5.Identifier}, nil, 1},
		{"ids/other-account", []string{rb.Identifier}, nil, 0},
		{"match/value", nil, []pca.Tag{tag("env", "prod")}, 4},
		{"match/empty-value-is-any", nil, []pca.Tag{anyValue("env")}, 7},
		{"match/every-tag", nil, []pca.Tag{tag("env", "prod"), anyValue("team")}, 2},
		{"match/every-tag-none-has", nil, []pca.Tag{tag("env", "prod"), tag("team", "pki"), anyValue("app")}, 0},
		{"match/other-value", nil, []pca.Tag{tag("env", "test")}, 0},
		{"match/unknown-key", nil, []pca.Tag{anyValue("nokey")}, 0},
		{"match/not-other-account", nil, []pca.Tag{tag("team", "pki")}, 5},
		{"ids-and-match", []string{r2.Identifier, r3.Identifier, r4.Identifier}, []pca.Tag{anyValue("app")}, 5},
	}
	for _, tc := range tests {
		want := m.find(tc.ids, tc.match)
		if len(want) != tc.n {
			t.Fatalf("%s: test data: model finds %d pairs, the case expects %d", tc.name, len(want), tc.n)
		}
		for _, limit := range []int{1, 2, 3, 1000} {
			t.Run(fmt.Sprintf("%s/limit-%d", tc.name, limit), func(t *testing.T) {
				var got []store.TaggedResource
				after := ""
				for page := 0; ; page++ {
					if page > len(want)+1 {
						t.Fatalf("paging did not end after %d pages; pairs so far %v", page, got)
					}
					items, next, err := f.s.FindTagged(f.ctx, acct.ID, tc.ids, tc.match, after, limit)
					checkErr(t, "FindTagged", err, nil)
					if len(items) > limit {
						t.Fatalf("page %d: %d pairs, want at most %d", page, len(items), limit)
					}
					got = append(got, items...)
					if next == "" {
						break
					}
					if len(items) == 0 {
						t.Fatalf("page %d: no pairs but a cursor %q", page, next)
					}
					after = next
				}
				if !slices.Equal(got, want) {
					t.Errorf("pages visited\n%v\nwant each pair once, by resource then key:\n%v", fmtPairs(got), fmtPairs(want))
				}
			})
		}
	}
}

func fmtPairs(ps []store.TaggedResource) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s %s=%q\n", p.ResourceID, p.Tag.Key, p.Tag.Value)
	}
	return b.String()
}
