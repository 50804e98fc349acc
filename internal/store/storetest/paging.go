package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

func testListKeyset(t *testing.T, open opener) {
	const limit = 3
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			d := f.listData()
			q := tc.q(d)
			want := ids(d.a.want(q))
			q.Limit = limit
			var got []int64
			for page := 0; ; page++ {
				if page > len(want)/limit+1 {
					t.Fatalf("paging did not end after %d pages; ids so far %v", page, got)
				}
				res := f.list(d.aID, q)
				if n := int64(len(d.a.want(q))); res.Total != n {
					t.Errorf("page %d: Total = %d, want %d", page, res.Total, n)
				}
				if len(res.Items) > limit {
					t.Fatalf("page %d: %d items, want at most %d", page, len(res.Items), limit)
				}
				got = append(got, ids(res.Items)...)
				if len(res.Items) < limit {
					break
				}
				q.BeforeID = res.Items[len(res.Items)-1].ID
				// New rows between pages, in both accounts, some matching q.
				iss := d.s1
				if page%2 == 1 {
					iss = d.s2
				}
				d.a.add(f, iss, certTypes[page%3], base.Add(3*time.Hour))
				d.b.add(f, d.tb, pca.TypeServer, base.Add(3*time.Hour))
			}
			if !slices.Equal(got, want) {
				t.Errorf("keyset pages visited %v\nwant each row once, newest first: %v", got, want)
			}
		})
	}
}

func testListOffset(t *testing.T, open opener) {
	const limit = 5
	f := newFixture(t, open)
	d := f.listData()
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q(d)
			want := ids(d.a.want(q))
			q.Limit = limit
			got := []int64{}
			for q.Offset = 0; q.Offset < int64(max(len(want), 1)); q.Offset += limit {
				res := f.list(d.aID, q)
				if res.Total != int64(len(want)) {
					t.Errorf("offset %d: Total = %d, want %d", q.Offset, res.Total, len(want))
				}
				if wantLen := min(limit, max(len(want)-int(q.Offset), 0)); len(res.Items) != wantLen {
					t.Errorf("offset %d: %d items, want %d", q.Offset, len(res.Items), wantLen)
				}
				got = append(got, ids(res.Items)...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("offset pages gave %v\nwant %v", got, want)
			}
		})
	}
}

func testListOffsetPastEnd(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.listData()
	window := store.ListQuery{ChangedFrom: base.Add(2 * time.Hour), ChangedBefore: base.Add(8 * time.Hour)}
	withOffset := func(q store.ListQuery, off int64) store.ListQuery { q.Offset = off; return q }
	tests := []struct {
		name  string
		q     store.ListQuery
		total int64
	}{
		{"no-filter/offset-equals-total", store.ListQuery{Offset: 12}, 12},
		{"no-filter/offset-total-plus-one", store.ListQuery{Offset: 13}, 12},
		{"no-filter/far-offset", store.ListQuery{Offset: 100000}, 12},
		{"status/offset-equals-total", store.ListQuery{Status: pca.StatusRevoke, Offset: 4}, 4},
		{"type/offset-past-total", store.ListQuery{Type: pca.TypeServer, Offset: 7}, 4},
		{"window/offset-equals-total", withOffset(window, 4), 4},
		{"window/far-offset", withOffset(window, 1000), 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 10
			checkPage(t, f.list(d.aID, tc.q), nil, tc.total)
		})
	}
}

func testListTenants(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.listData()
	tests := []struct {
		name string
		q    store.ListQuery
		a, b int // certificates of A and of B selected
	}{
		{"no-filter", store.ListQuery{}, 12, 4},
		{"status-issue", store.ListQuery{Status: pca.StatusIssue}, 8, 3},
		{"status-revoke", store.ListQuery{Status: pca.StatusRevoke}, 4, 1},
		{"type-server", store.ListQuery{Type: pca.TypeServer}, 4, 2},
		{"type-end-entity", store.ListQuery{Type: pca.TypeEndEntity}, 4, 0},
		{"changed-from", store.ListQuery{ChangedFrom: base.Add(5 * time.Hour)}, 9, 3},
		{"changed-before", store.ListQuery{ChangedBefore: base.Add(5 * time.Hour)}, 3, 1},
	}
	for _, tc := range tests {
		t.Run("a/"+tc.name, func(t *testing.T) { f.checkQuery(t, d.aID, &d.a, tc.q, tc.a) })
		t.Run("b/"+tc.name, func(t *testing.T) { f.checkQuery(t, d.bID, &d.b, tc.q, tc.b) })
	}
	t.Run("unknown-account", func(t *testing.T) {
		checkPage(t, f.list(d.aID+d.bID, store.ListQuery{Limit: maxLimit}), nil, 0)
	})
}

func testCanceled(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	acct := iss.ca.AccountID
	existing := f.cert(iss, pca.TypeServer, t0)
	fresh := f.newCert(iss, pca.TypeServer, t0)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	tests := []struct {
		name      string
		call      func() error
		unchanged func(t *testing.T)
	}{
		{"CreateAccount", func() error {
			_, _, err := f.s.CreateAccount(ctx, "late", store.AccessKeyRecord{ID: "AKIDlate", SecretSealed: []byte{1}}, t0)
			return err
		}, func(t *testing.T) {
			_, err := f.s.GetAccessKey(f.ctx, "AKIDlate")
			checkErr(t, "GetAccessKey", err, store.ErrNotFound)
		}},
		{"PutSecretIfAbsent", func() error {
			_, err := f.s.PutSecretIfAbsent(ctx, "late", []byte{1})
			return err
		}, func(t *testing.T) {
			_, err := f.s.GetSecret(f.ctx, "late")
			checkErr(t, "GetSecret", err, store.ErrNotFound)
		}},
		{"InsertCertificate", func() error {
			return f.s.InsertCertificate(ctx, &fresh, nil)
		}, func(t *testing.T) {
			f.checkNotStored(t, acct, fresh, "")
			f.checkIssued(t, iss, 1, 1)
		}},
		{"RevokeCertificate", func() error {
			_, err := f.s.RevokeCertificate(ctx, acct, existing.Identifier, revokedAt, pca.ReasonKeyCompromise)
			return err
		}, func(t *testing.T) {
			got, err := f.s.GetCertificate(f.ctx, acct, existing.Identifier)
			checkErr(t, "GetCertificate", err, nil)
			if got.Status != pca.StatusIssue {
				t.Errorf("status = %s after a canceled revoke, want ISSUE", got.Status)
			}
		}},
		{"ListCertificates", func() error {
			_, err := f.s.ListCertificates(ctx, acct, store.ListQuery{Limit: 10})
			return err
		}, func(*testing.T) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context: error = %v, want context.Canceled", tc.name, err)
			}
			tc.unchanged(t)
		})
	}
}
