package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// validAt is the ValidAt of the CA list tests.
var validAt = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// caModel is the CAs of one account, kept by the test.
type caModel struct {
	cas []pca.CA
}

// want returns the CAs q selects, ignoring paging, newest first.
func (m *caModel) want(q store.CAQuery) []pca.CA {
	var out []pca.CA
	for _, ca := range m.cas {
		if caMatches(ca, q) {
			out = append(out, ca)
		}
	}
	slices.SortFunc(out, func(a, b pca.CA) int { return cmp.Compare(b.ID, a.ID) })
	return out
}

// caMatches reports whether ca passes q's filters (not its paging).
func caMatches(ca pca.CA, q store.CAQuery) bool {
	valid := !msUTC(q.ValidAt).Before(msUTC(ca.NotBefore)) && msUTC(q.ValidAt).Before(msUTC(ca.NotAfter))
	kw := strings.ToLower(q.Keyword)
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), kw) }
	return (q.Status == "" || ca.Status == q.Status) &&
		(q.Type == "" || ca.Type == q.Type) &&
		(q.IssuerType == "" || ca.IssuerType == q.IssuerType) &&
		(q.ValidAt.IsZero() || q.Valid == nil || valid == *q.Valid) &&
		(len(q.Identifiers) == 0 || slices.Contains(q.Identifiers, ca.Identifier)) &&
		(q.Keyword == "" || has(ca.Subject.CommonName) || has(ca.Subject.Organization) || has(ca.Subject.OrganizationUnit) || has(ca.SubjectDN)) &&
		(q.ResourceGroupID == "" || ca.ResourceGroupID == q.ResourceGroupID)
}

// caData is account A with six CAs of every kind and account B with two,
// created interleaved. A's CAs, by index:
//
//	0 root  ISSUE  local    valid      rg-a  CN "Acme Root CA"       O "Acme Corp"        OU "PKI"
//	1 sub/0 REVOKE local    valid      rg-b  CN "Acme Web Issuing"   O "Acme Corp"        OU "Web Ops"
//	2 root  ISSUE  external expired    rg-a  CN "100% Trusted Root"  O "Percent_Sign Ltd" OU "Sec"
//	3 sub/2 ISSUE  external not yet    ""    CN "a_b issuing"        O "Other Org"        OU "Unit"
//	4 sub/0 REVOKE local    from t     rg-b  CN `C:\PKI Sub`         O "ACME CORP"        OU "pki"
//	5 root  ISSUE  local    valid      rg-c  CN "Zeta Root"          O "Zeta"             OU "axb ops"
//
// Every SubjectDN is "SERIALNUMBER=i,L=..,C=US" with L "Springfield", except
// 5's "Acmeville": it holds none of the common name, organization and unit,
// so that the keyword search is checked on each field alone. "valid" is
// valid at validAt; "from t" starts exactly at validAt.
type caData struct {
	a, b     caModel
	aID, bID int64
}

func (f *fixture) caData(t *testing.T) *caData {
	t.Helper()
	d := &caData{}
	acctA, acctB := f.account(), f.account()
	d.aID, d.bID = acctA.ID, acctB.ID
	type window struct{ nb, na time.Time }
	valid := window{validAt.AddDate(-1, 0, 0), validAt.AddDate(1, 0, 0)}
	expired := window{validAt.AddDate(-3, 0, 0), validAt.AddDate(-1, 0, 0)}
	future := window{validAt.Add(24 * time.Hour), validAt.AddDate(5, 0, 0)}
	from := window{validAt, validAt.AddDate(2, 0, 0)}
	specs := []struct {
		parent   int // index of A's parent, -1 for a root
		revoke   bool
		external bool
		w        window
		rg       string
		cn, o    string
		ou, l    string
	}{
		{-1, false, false, valid, "rg-a", "Acme Root CA", "Acme Corp", "PKI", "Springfield"},
		{0, true, false, valid, "rg-b", "Acme Web Issuing", "Acme Corp", "Web Ops", "Springfield"},
		{-1, false, true, expired, "rg-a", "100% Trusted Root", "Percent_Sign Ltd", "Sec", "Springfield"},
		{2, false, true, future, "", "a_b issuing", "Other Org", "Unit", "Springfield"},
		{0, true, false, from, "rg-b", `C:\PKI Sub`, "ACME CORP", "pki", "Springfield"},
		{-1, false, false, valid, "rg-c", "Zeta Root", "Zeta", "axb ops", "Acmeville"},
	}
	var bRoot pca.CA
	for i, sp := range specs {
		var parent *pca.CA
		if sp.parent >= 0 {
			parent = &d.a.cas[sp.parent]
		}
		ca, key := f.newCA(acctA, parent)
		ca.Subject = pca.Subject{CommonName: sp.cn, Organization: sp.o, OrganizationUnit: sp.ou, Locality: sp.l, Country: "US"}
		ca.SubjectDN = fmt.Sprintf("SERIALNUMBER=%d,L=%s,C=US", i, sp.l)
		ca.NotBefore, ca.NotAfter = sp.w.nb, sp.w.na
		ca.ResourceGroupID = sp.rg
		ca.IssuerType = "local"
		if sp.external {
			ca.IssuerType = "external"
		}
		ca.Tags = []pca.Tag{{Key: "zone", Value: fmt.Sprint(i)}, {Key: "app", Value: "ca"}}
		if err := f.s.CreateCA(f.ctx, &ca, key); err != nil {
			t.Fatalf("CreateCA(A %d): %v", i, err)
		}
		if parent != nil {
			ca.ParentIdentifier = parent.Identifier
		}
		d.a.cas = append(d.a.cas, ca)
		switch i {
		case 1: // B's root: same names as A's 0, same group
			b, key := f.newCA(acctB, nil)
			b.Subject, b.SubjectDN, b.ResourceGroupID = d.a.cas[0].Subject, d.a.cas[0].SubjectDN, "rg-a"
			b.NotBefore, b.NotAfter = valid.nb, valid.na
			if err := f.s.CreateCA(f.ctx, &b, key); err != nil {
				t.Fatalf("CreateCA(B root): %v", err)
			}
			bRoot = b
			d.b.cas = append(d.b.cas, b)
		case 3: // B's sub-CA
			b, key := f.newCA(acctB, &bRoot)
			b.ResourceGroupID = "rg-b"
			if err := f.s.CreateCA(f.ctx, &b, key); err != nil {
				t.Fatalf("CreateCA(B sub): %v", err)
			}
			b.ParentIdentifier = bRoot.Identifier
			d.b.cas = append(d.b.cas, b)
		}
	}
	for i, sp := range specs {
		if !sp.revoke {
			continue
		}
		at := revokedAt.Add(time.Duration(i) * time.Minute)
		if _, err := f.s.RevokeCA(f.ctx, acctA.ID, d.a.cas[i].Identifier, at); err != nil {
			t.Fatalf("RevokeCA(A %d): %v", i, err)
		}
		d.a.cas[i].Status, d.a.cas[i].RevokedAt = pca.StatusRevoke, at
	}
	return d
}

// caListCase is one CAQuery over caData with the indexes of A's CAs it
// selects, counted by hand from caData's description.
type caListCase struct {
	name string
	q    func(d *caData) store.CAQuery
	want []int
}

func caQ(q store.CAQuery) func(*caData) store.CAQuery {
	return func(*caData) store.CAQuery { return q }
}

var caFilterCases = []caListCase{
	{"all/no-filter", caQ(store.CAQuery{}), []int{0, 1, 2, 3, 4, 5}},
	{"status/issue", caQ(store.CAQuery{Status: pca.StatusIssue}), []int{0, 2, 3, 5}},
	{"status/revoke", caQ(store.CAQuery{Status: pca.StatusRevoke}), []int{1, 4}},
	{"type/root", caQ(store.CAQuery{Type: pca.CARoot}), []int{0, 2, 5}},
	{"type/sub", caQ(store.CAQuery{Type: pca.CASub}), []int{1, 3, 4}},
	{"issuer-type/local", caQ(store.CAQuery{IssuerType: "local"}), []int{0, 1, 4, 5}},
	{"issuer-type/external", caQ(store.CAQuery{IssuerType: "external"}), []int{2, 3}},
	{"valid/true", caQ(store.CAQuery{ValidAt: validAt, Valid: ptr(true)}), []int{0, 1, 4, 5}},
	{"valid/false", caQ(store.CAQuery{ValidAt: validAt, Valid: ptr(false)}), []int{2, 3}},
	{"valid/true-other-zone", caQ(store.CAQuery{ValidAt: validAt.In(time.FixedZone("UTC-10:00", -10*3600)), Valid: ptr(true)}), []int{0, 1, 4, 5}},
	{"valid/true-just-before-start", caQ(store.CAQuery{ValidAt: validAt.Add(-time.Millisecond), Valid: ptr(true)}), []int{0, 1, 5}},
	{"valid/unset-does-not-filter", caQ(store.CAQuery{ValidAt: validAt}), []int{0, 1, 2, 3, 4, 5}},
	{"identifiers/some", func(d *caData) store.CAQuery {
		return store.CAQuery{Identifiers: []string{d.a.cas[3].Identifier, d.a.cas[1].Identifier}}
	}, []int{1, 3}},
	{"identifiers/with-other-account-and-unknown", func(d *caData) store.CAQuery {
		return store.CAQuery{Identifiers: []string{d.b.cas[0].Identifier, d.a.cas[5].Identifier, "00000000-0000-7000-8000-000000000000"}}
	}, []int{5}},
	{"identifiers/only-other-account", func(d *caData) store.CAQuery {
		return store.CAQuery{Identifiers: []string{d.b.cas[0].Identifier, d.b.cas[1].Identifier}}
	}, nil},
	{"keyword/common-name", caQ(store.CAQuery{Keyword: "zeta root"}), []int{5}},
	{"keyword/common-name-any-case", caQ(store.CAQuery{Keyword: "ZETA ROOT"}), []int{5}},
	{"keyword/organization", caQ(store.CAQuery{Keyword: "other org"}), []int{3}},
	{"keyword/organization-any-case", caQ(store.CAQuery{Keyword: "OTHER ORG"}), []int{3}},
	{"keyword/unit", caQ(store.CAQuery{Keyword: "web ops"}), []int{1}},
	{"keyword/unit-any-case", caQ(store.CAQuery{Keyword: "WEB OPS"}), []int{1}},
	{"keyword/subject", caQ(store.CAQuery{Keyword: "acmeville"}), []int{5}},
	{"keyword/subject-any-case", caQ(store.CAQuery{Keyword: "ACMEVILLE"}), []int{5}},
	{"keyword/subject-common-locality", caQ(store.CAQuery{Keyword: "springfield"}), []int{0, 1, 2, 3, 4}},
	{"keyword/several-fields", caQ(store.CAQuery{Keyword: "acme"}), []int{0, 1, 4, 5}},
	{"keyword/several-fields-any-case", caQ(store.CAQuery{Keyword: "aCmE"}), []int{0, 1, 4, 5}},
	{"keyword/upper-case-data", caQ(store.CAQuery{Keyword: "acme corp"}), []int{0, 1, 4}},
	{"keyword/unit-and-common-name", caQ(store.CAQuery{Keyword: "PkI"}), []int{0, 4}},
	{"keyword/percent-is-literal", caQ(store.CAQuery{Keyword: "%"}), []int{2}},
	{"keyword/percent-inside", caQ(store.CAQuery{Keyword: "0% t"}), []int{2}},
	{"keyword/underscore-is-literal", caQ(store.CAQuery{Keyword: "a_b"}), []int{3}},
	{"keyword/lone-underscore", caQ(store.CAQuery{Keyword: "_"}), []int{2, 3}},
	{"keyword/backslash-is-literal", caQ(store.CAQuery{Keyword: `c:\pki`}), []int{4}},
	{"keyword/no-match", caQ(store.CAQuery{Keyword: "nomatch"}), nil},
	{"group/a", caQ(store.CAQuery{ResourceGroupID: "rg-a"}), []int{0, 2}},
	{"group/b", caQ(store.CAQuery{ResourceGroupID: "rg-b"}), []int{1, 4}},
	{"group/unknown", caQ(store.CAQuery{ResourceGroupID: "rg-none"}), nil},
	{"combined/issue-root-local", caQ(store.CAQuery{Status: pca.StatusIssue, Type: pca.CARoot, IssuerType: "local"}), []int{0, 5}},
	{"combined/keyword-revoke", caQ(store.CAQuery{Keyword: "acme", Status: pca.StatusRevoke}), []int{1, 4}},
	{"combined/valid-group", caQ(store.CAQuery{ValidAt: validAt, Valid: ptr(true), ResourceGroupID: "rg-a"}), []int{0}},
	{"combined/invalid-external-sub", caQ(store.CAQuery{ValidAt: validAt, Valid: ptr(false), IssuerType: "external", Type: pca.CASub}), []int{3}},
	{"combined/identifiers-keyword", func(d *caData) store.CAQuery {
		return store.CAQuery{Identifiers: []string{d.a.cas[0].Identifier, d.a.cas[2].Identifier}, Keyword: "root", Status: pca.StatusIssue}
	}, []int{0, 2}},
	{"combined/every-filter", func(d *caData) store.CAQuery {
		return store.CAQuery{Status: pca.StatusRevoke, Type: pca.CASub, IssuerType: "local", ValidAt: validAt, Valid: ptr(true),
			Identifiers: []string{d.a.cas[1].Identifier, d.a.cas[4].Identifier, d.a.cas[0].Identifier}, Keyword: "sub", ResourceGroupID: "rg-b"}
	}, []int{4}},
}

// caIDs returns the ids of cas in order.
func caIDs(cas []pca.CA) []int64 {
	out := make([]int64, len(cas))
	for i, ca := range cas {
		out[i] = ca.ID
	}
	return out
}

// listCAs runs ListCAs and fails the test on error.
func (f *fixture) listCAs(t *testing.T, accountID int64, q store.CAQuery) ([]pca.CA, int64) {
	t.Helper()
	cas, total, err := f.s.ListCAs(f.ctx, accountID, q)
	if err != nil {
		t.Fatalf("ListCAs(%+v): %v", q, err)
	}
	return cas, total
}

// checkCAQuery fails the test unless the model and the hand count agree on
// q and the store lists exactly those CAs, newest first, equal to the model's
// records, with the exact total.
func (f *fixture) checkCAQuery(t *testing.T, d *caData, tc caListCase) {
	t.Helper()
	q := tc.q(d)
	want := d.a.want(q)
	var hand []int64
	for i := len(tc.want) - 1; i >= 0; i-- {
		hand = append(hand, d.a.cas[tc.want[i]].ID)
	}
	if !slices.Equal(caIDs(want), hand) {
		t.Fatalf("test data: model selects %v, the case expects %v", caIDs(want), hand)
	}
	q.Limit = 2000
	got, total := f.listCAs(t, d.aID, q)
	if !slices.Equal(caIDs(got), caIDs(want)) || total != int64(len(want)) {
		t.Fatalf("ListCAs = ids %v, total %d\nwant %v, total %d", caIDs(got), total, caIDs(want), len(want))
	}
	for i := range got {
		if d := diffCAAll(want[i], got[i]); d != "" {
			t.Errorf("ListCAs item %d mismatch:\n%s", want[i].ID, d)
		}
	}
}

func testListCAsFilters(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.caData(t)
	for _, tc := range caFilterCases {
		t.Run(tc.name, func(t *testing.T) { f.checkCAQuery(t, d, tc) })
	}
	t.Run("other-account/no-filter", func(t *testing.T) {
		got, total := f.listCAs(t, d.bID, store.CAQuery{Limit: 2000})
		if want := d.b.want(store.CAQuery{}); !slices.Equal(caIDs(got), caIDs(want)) || total != 2 {
			t.Errorf("ListCAs(B) = %v, total %d; want %v, total 2", caIDs(got), total, caIDs(want))
		}
	})
	t.Run("other-account/keyword", func(t *testing.T) {
		got, total := f.listCAs(t, d.bID, store.CAQuery{Keyword: "acme", Limit: 2000})
		if len(got) != 1 || got[0].ID != d.b.cas[0].ID || total != 1 {
			t.Errorf("ListCAs(B, acme) = %v, total %d; want [%d], total 1", caIDs(got), total, d.b.cas[0].ID)
		}
	})
	t.Run("unknown-account", func(t *testing.T) {
		got, total := f.listCAs(t, d.aID+d.bID+100, store.CAQuery{Limit: 2000})
		if len(got) != 0 || total != 0 {
			t.Errorf("ListCAs(unknown account) = %v, total %d; want none", caIDs(got), total)
		}
	})
}

func testListCAsKeyset(t *testing.T, open opener) {
	const limit = 2
	f := newFixture(t, open)
	d := f.caData(t)
	for _, tc := range caFilterCases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q(d)
			want := caIDs(d.a.want(q))
			q.Limit = limit
			var got []int64
			for page := 0; ; page++ {
				if page > len(want)/limit+1 {
					t.Fatalf("paging did not end after %d pages; ids so far %v", page, got)
				}
				cas, total := f.listCAs(t, d.aID, q)
				if total != int64(len(want)) {
					t.Errorf("page %d: Total = %d, want %d", page, total, len(want))
				}
				if len(cas) > limit {
					t.Fatalf("page %d: %d items, want at most %d", page, len(cas), limit)
				}
				got = append(got, caIDs(cas)...)
				if len(cas) < limit {
					break
				}
				q.BeforeID = cas[len(cas)-1].ID
			}
			if !slices.Equal(emptyNil(got), emptyNil(want)) {
				t.Errorf("keyset pages visited %v\nwant each CA once, newest first: %v", got, want)
			}
		})
	}
}

func testListCAsOffset(t *testing.T, open opener) {
	const limit = 4
	f := newFixture(t, open)
	d := f.caData(t)
	for _, tc := range caFilterCases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q(d)
			want := caIDs(d.a.want(q))
			q.Limit = limit
			var got []int64
			for q.Offset = 0; q.Offset <= int64(len(want)); q.Offset += limit {
				cas, total := f.listCAs(t, d.aID, q)
				if total != int64(len(want)) {
					t.Errorf("offset %d: Total = %d, want %d", q.Offset, total, len(want))
				}
				if wantLen := min(limit, max(len(want)-int(q.Offset), 0)); len(cas) != wantLen {
					t.Errorf("offset %d: %d items, want %d", q.Offset, len(cas), wantLen)
				}
				got = append(got, caIDs(cas)...)
			}
			if !slices.Equal(emptyNil(got), emptyNil(want)) {
				t.Errorf("offset pages gave %v\nwant %v", got, want)
			}
		})
	}
	t.Run("offset-far-past-end", func(t *testing.T) {
		cas, total := f.listCAs(t, d.aID, store.CAQuery{Status: pca.StatusIssue, Offset: 1000, Limit: 10})
		if len(cas) != 0 || total != 4 {
			t.Errorf("ListCAs = %d items, total %d; want none, total 4", len(cas), total)
		}
	})
	t.Run("limit-one-total-exact", func(t *testing.T) {
		cas, total := f.listCAs(t, d.aID, store.CAQuery{Limit: 1})
		if len(cas) != 1 || cas[0].ID != d.a.cas[5].ID || total != 6 {
			t.Errorf("ListCAs(Limit 1) = %v, total %d; want [%d], total 6", caIDs(cas), total, d.a.cas[5].ID)
		}
	})
}
