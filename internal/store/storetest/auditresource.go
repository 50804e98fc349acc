package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pcad-dev/pcad/internal/store"
)

// testAuditForResource: AuditRecordsForResource returns the account's records
// naming the resource alone or as one item of a comma-separated list, oldest
// first, paged by id; not a record whose resource merely contains the name,
// not another account's, and the LIKE wildcards in a name are literal.
func testAuditForResource(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.account(), f.account()
	chain := func(r store.AuditRecord) []byte { return append(append([]byte{}, r.PrevHash...), r.RequestID...) }
	resources := []struct {
		account  int64
		resource string
	}{
		{a.ID, "ca/X"},                    // 0: exact
		{a.ID, "ca/X,ca/Y"},               // 1: first item
		{a.ID, "ca/P,ca/X"},               // 2: last item
		{a.ID, "certificate/c,ca/X,ca/Z"}, // 3: middle item
		{a.ID, "ca/XY"},                   // 4: longer name
		{a.ID, "ca/WX,ca/XW"},             // 5: names containing X
		{b.ID, "ca/X"},                    // 6: other account
		{a.ID, ""},                        // 7: no resource
		{a.ID, "ca/x"},                    // 8: other case
		{a.ID, "ca/X"},                    // 9: exact again
		{a.ID, "ca/_%"},                   // 10: wildcards literally
		{a.ID, "ca/ab,ca/X"},              // 11: last item
		{a.ID, `ca/\X`},                   // 12: escape character
	}
	ids := make([]int64, len(resources))
	for i, r := range resources {
		rec, err := f.s.AppendAudit(f.ctx, store.AuditRecord{At: t0, AccountID: r.account, Action: "A", Resource: r.resource,
			Code: "OK", RequestID: fmt.Sprintf("R%d", i)}, chain)
		checkErr(t, fmt.Sprintf("AppendAudit(%d)", i), err, nil)
		ids[i] = rec.ID
	}
	get := func(account int64, resource string, after int64, limit int) []int64 {
		t.Helper()
		recs, err := f.s.AuditRecordsForResource(f.ctx, account, resource, after, limit)
		checkErr(t, "AuditRecordsForResource", err, nil)
		var out []int64
		for _, r := range recs {
			if r.AccountID != account {
				t.Errorf("record %d of account %d, asked for %d", r.ID, r.AccountID, account)
			}
			out = append(out, r.ID)
		}
		return out
	}
	pick := func(idx ...int) []int64 {
		var out []int64
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	cases := []struct {
		name     string
		account  int64
		resource string
		want     []int64
	}{
		{"member", a.ID, "ca/X", pick(0, 1, 2, 3, 9, 11)},
		{"other-account", b.ID, "ca/X", pick(6)},
		{"middle-only", a.ID, "ca/Z", pick(3)},
		{"wildcards", a.ID, "ca/_%", pick(10)},
		{"escape", a.ID, `ca/\X`, pick(12)},
		{"wildcard-no-match", a.ID, "ca/_", nil},
		{"unknown", a.ID, "ca/none", nil},
		{"empty", a.ID, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(tc.account, tc.resource, 0, 100); !slices.Equal(got, tc.want) {
				t.Errorf("records %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("paging", func(t *testing.T) {
		var got []int64
		after := int64(0)
		for range 10 {
			page := get(a.ID, "ca/X", after, 2)
			if len(page) > 2 {
				t.Fatalf("page %v exceeds the limit 2", page)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		if want := pick(0, 1, 2, 3, 9, 11); !slices.Equal(got, want) {
			t.Errorf("paged records %v, want %v", got, want)
		}
	})
}
