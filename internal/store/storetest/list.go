package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

const maxLimit = 1000

func testListNewestFirst(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	var m model
	// Change times run backwards, so ordering by them would reverse the list.
	for i := range 5 {
		m.add(f, iss, pca.TypeServer, base.Add(-time.Duration(i)*time.Hour))
	}
	for i := 1; i < len(m.certs); i++ {
		if m.certs[i].ID <= m.certs[i-1].ID {
			t.Fatalf("ids not in issue order: %v", ids(m.certs))
		}
	}
	res := f.list(iss.ca.AccountID, store.ListQuery{Limit: maxLimit})
	var got []string
	for _, c := range res.Items {
		got = append(got, c.Identifier)
	}
	var want []string
	for i := len(m.certs) - 1; i >= 0; i-- {
		want = append(want, m.certs[i].Identifier)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("identifiers = %v\nwant newest first %v", got, want)
	}
}

func testListItems(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	full, revoked := f.fullCert(iss), f.fullCert(iss)
	f.insert(&full, f.certKey(&full))
	f.insert(&revoked, nil)
	_, err := f.s.RevokeCertificate(f.ctx, revoked.AccountID, revoked.Identifier, revokedAt, pca.ReasonAffiliationChanged)
	checkErr(t, "RevokeCertificate", err, nil)
	res := f.list(iss.ca.AccountID, store.ListQuery{Limit: maxLimit})
	if len(res.Items) != 2 {
		t.Fatalf("listed %d certificates, want 2", len(res.Items))
	}
	for _, item := range res.Items {
		if len(item.DER) != 0 {
			t.Errorf("list item %s carries DER", item.Identifier)
		}
		want, err := f.s.GetCertificate(f.ctx, item.AccountID, item.Identifier)
		checkErr(t, "GetCertificate", err, nil)
		want.DER = item.DER
		if d := diffCert(want, item); d != "" {
			t.Errorf("list item differs from GetCertificate:\n%s", d)
		}
	}
}

// listCase is one filter set over listData with the number of A's
// certificates it selects, counted by hand from listData's description.
type listCase struct {
	name string
	q    func(d *listData) store.ListQuery
	n    int
}

var filterCases = []listCase{
	{"all/no-filter", func(*listData) store.ListQuery { return store.ListQuery{} }, 12},
	{"status/issue", func(*listData) store.ListQuery { return store.ListQuery{Status: pca.StatusIssue} }, 8},
	{"status/revoke", func(*listData) store.ListQuery { return store.ListQuery{Status: pca.StatusRevoke} }, 4},
	{"type/server", func(*listData) store.ListQuery { return store.ListQuery{Type: pca.TypeServer} }, 4},
	{"type/client", func(*listData) store.ListQuery { return store.ListQuery{Type: pca.TypeClient} }, 4},
	{"type/end-entity", func(*listData) store.ListQuery { return store.ListQuery{Type: pca.TypeEndEntity} }, 4},
	{"instance/first", func(d *listData) store.ListQuery { return store.ListQuery{InstanceUUID: d.s1.inst.UUID} }, 6},
	{"instance/second-upper-case", func(d *listData) store.ListQuery {
		return store.ListQuery{InstanceUUID: strings.ToUpper(d.s2.inst.UUID)}
	}, 6},
	{"parent/first", func(d *listData) store.ListQuery { return store.ListQuery{ParentIdentifier: d.s1.ca.Identifier} }, 6},
	{"parent/second", func(d *listData) store.ListQuery { return store.ListQuery{ParentIdentifier: d.s2.ca.Identifier} }, 6},
	{"changed/from", func(*listData) store.ListQuery { return store.ListQuery{ChangedFrom: base.Add(5 * time.Hour)} }, 9},
	{"changed/before", func(*listData) store.ListQuery { return store.ListQuery{ChangedBefore: base.Add(5 * time.Hour)} }, 3},
	{"changed/window", func(*listData) store.ListQuery {
		return store.ListQuery{ChangedFrom: base.Add(2 * time.Hour), ChangedBefore: base.Add(8 * time.Hour)}
	}, 4},
	{"changed/window-over-revocations", func(*listData) store.ListQuery {
		return store.ListQuery{ChangedFrom: revokeTime(4), ChangedBefore: revokeTime(9)}
	}, 2},
	{"combined/status-type", func(*listData) store.ListQuery {
		return store.ListQuery{Status: pca.StatusIssue, Type: pca.TypeServer}
	}, 2},
	{"combined/instance-status", func(d *listData) store.ListQuery {
		return store.ListQuery{InstanceUUID: d.s1.inst.UUID, Status: pca.StatusRevoke}
	}, 2},
	{"combined/parent-type-window", func(d *listData) store.ListQuery {
		return store.ListQuery{ParentIdentifier: d.s1.ca.Identifier, Type: pca.TypeEndEntity,
			ChangedFrom: base.Add(time.Hour), ChangedBefore: base.Add(11 * time.Hour)}
	}, 2},
	{"combined/every-filter", func(d *listData) store.ListQuery {
		return store.ListQuery{Status: pca.StatusIssue, Type: pca.TypeClient, InstanceUUID: d.s2.inst.UUID,
			ParentIdentifier: d.s2.ca.Identifier, ChangedFrom: base.Add(time.Hour), ChangedBefore: base.Add(11 * time.Hour)}
	}, 1},
	{"combined/instance-of-other-parent", func(d *listData) store.ListQuery {
		return store.ListQuery{InstanceUUID: d.s1.inst.UUID, ParentIdentifier: d.s2.ca.Identifier}
	}, 0},
}

// checkQuery fails the test unless the model selects n certificates for q
// and the store lists exactly those, newest first, with Total n.
func (f *fixture) checkQuery(t *testing.T, accountID int64, m *model, q store.ListQuery, n int) {
	t.Helper()
	want := m.want(q)
	if len(want) != n {
		t.Fatalf("test data: model selects %d certificates, the case expects %d", len(want), n)
	}
	q.Limit = maxLimit
	checkPage(t, f.list(accountID, q), want, int64(n))
}

func testListFilters(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.listData()
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) { f.checkQuery(t, d.aID, &d.a, tc.q(d), tc.n) })
	}
}

func testListDateBounds(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	var m model
	for i := range 3 {
		m.add(f, iss, pca.TypeServer, base.Add(time.Duration(i)*time.Hour))
	}
	mid := m.certs[1].Changed
	ms := time.Millisecond
	zone := time.FixedZone("UTC+08:00", 8*3600)
	tests := []struct {
		name         string
		from, before time.Time
		n            int
	}{
		{"from/equal-is-included", mid, time.Time{}, 2},
		{"from/one-ms-later-excludes", mid.Add(ms), time.Time{}, 1},
		{"from/other-zone-same-instant", mid.In(zone), time.Time{}, 2},
		{"before/equal-is-excluded", time.Time{}, mid, 1},
		{"before/one-ms-later-includes", time.Time{}, mid.Add(ms), 2},
		{"before/other-zone-same-instant", time.Time{}, mid.In(zone), 1},
		{"window/empty", mid, mid, 0},
		{"window/one-ms", mid, mid.Add(ms), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.checkQuery(t, iss.ca.AccountID, &m, store.ListQuery{ChangedFrom: tc.from, ChangedBefore: tc.before}, tc.n)
		})
	}
}

func testListUnknown(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.listData()
	tests := []struct {
		name string
		q    store.ListQuery
	}{
		{"instance/unknown", store.ListQuery{InstanceUUID: f.uuid()}},
		{"instance/other-account", store.ListQuery{InstanceUUID: d.tb.inst.UUID}},
		{"instance/ca-identifier", store.ListQuery{InstanceUUID: d.s1.ca.Identifier}},
		{"parent/unknown", store.ListQuery{ParentIdentifier: f.uuid()}},
		{"parent/other-account", store.ListQuery{ParentIdentifier: d.tb.ca.Identifier}},
		{"parent/instance-uuid", store.ListQuery{ParentIdentifier: d.s1.inst.UUID}},
		{"parent/unknown-with-status", store.ListQuery{ParentIdentifier: f.uuid(), Status: pca.StatusIssue}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = maxLimit
			checkPage(t, f.list(d.aID, tc.q), nil, 0)
		})
	}
}

func testListTotalAfterRevoke(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	var m model
	for i := range 6 {
		m.add(f, iss, certTypes[i%2], base.Add(time.Duration(i)*time.Hour))
	}
	cut := base.Add(24 * time.Hour)
	queries := []struct {
		name string
		q    store.ListQuery
		// before and after revoking certificates 0 and 2 (both SERVER)
		before, after int
	}{
		{"no-filter", store.ListQuery{}, 6, 6},
		{"issue", store.ListQuery{Status: pca.StatusIssue}, 6, 4},
		{"revoke", store.ListQuery{Status: pca.StatusRevoke}, 0, 2},
		{"issue-server", store.ListQuery{Status: pca.StatusIssue, Type: pca.TypeServer}, 3, 1},
		{"revoke-server", store.ListQuery{Status: pca.StatusRevoke, Type: pca.TypeServer}, 0, 2},
		{"revoke-client", store.ListQuery{Status: pca.StatusRevoke, Type: pca.TypeClient}, 0, 0},
		{"instance-issue", store.ListQuery{InstanceUUID: iss.inst.UUID, Status: pca.StatusIssue}, 6, 4},
		{"parent-revoke", store.ListQuery{ParentIdentifier: iss.ca.Identifier, Status: pca.StatusRevoke}, 0, 2},
		{"changed-before-revocation", store.ListQuery{ChangedBefore: cut}, 6, 4},
		{"changed-from-revocation", store.ListQuery{ChangedFrom: cut}, 0, 2},
		{"issue-changed-from-start", store.ListQuery{Status: pca.StatusIssue, ChangedFrom: base}, 6, 4},
		{"revoke-changed-window", store.ListQuery{Status: pca.StatusRevoke, ChangedFrom: cut, ChangedBefore: cut.Add(time.Hour)}, 0, 2},
	}
	for _, phase := range []string{"before", "after"} {
		if phase == "after" {
			m.revoke(f, 0, cut)
			m.revoke(f, 2, cut.Add(time.Minute))
		}
		for _, tc := range queries {
			t.Run(phase+"/"+tc.name, func(t *testing.T) {
				n := tc.before
				if phase == "after" {
					n = tc.after
				}
				f.checkQuery(t, iss.ca.AccountID, &m, tc.q, n)
			})
		}
	}
}

func testListTotalIgnoresPaging(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.listData()
	mid := d.a.certs[6].ID
	pagings := []struct {
		name string
		page store.ListQuery
	}{
		{"limit-1", store.ListQuery{Limit: 1}},
		{"before-id", store.ListQuery{BeforeID: mid, Limit: 2}},
		{"offset", store.ListQuery{Offset: 3, Limit: 2}},
	}
	for _, tc := range filterCases {
		for _, p := range pagings {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) {
				q := tc.q(d)
				q.BeforeID, q.Offset, q.Limit = p.page.BeforeID, p.page.Offset, p.page.Limit
				if res := f.list(d.aID, q); res.Total != int64(tc.n) {
					t.Errorf("Total = %d, want %d", res.Total, tc.n)
				}
			})
		}
	}
}
