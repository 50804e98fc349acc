package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// testListWindowTotals checks the exact Total and the pages (first, and
// after a token) of date windows that span
// whole days and parts of days, with and without other filters, after
// certificates were issued over two weeks at every hour of the day, then
// revoked, updated and deleted (each moving a certificate to the day of its
// new last change or out of the count). The expected totals come from the
// model, counted one certificate at a time.
func testListWindowTotals(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	rng := rand.New(rand.NewPCG(7, 11))
	var m model
	for i := range 60 {
		typ := certTypes[i%len(certTypes)]
		m.add(f, iss, typ, base.Add(time.Duration(rng.IntN(14*24*60))*time.Minute+time.Duration(rng.IntN(60000))*time.Millisecond))
	}
	// Revoke some later (their change moves to another day) ...
	for i := 0; i < 60; i += 4 {
		m.revoke(f, i, base.Add(15*24*time.Hour+time.Duration(i)*time.Hour))
	}
	// ... update others (alias: the change time moves too) ...
	for i := 1; i < 60; i += 5 {
		c := &m.certs[i]
		at := base.Add(time.Duration(rng.IntN(20*24)) * time.Hour).Add(37 * time.Minute)
		alias := "moved"
		if err := f.s.UpdateCertificate(f.ctx, c.AccountID, c.Identifier, &alias, nil, at); err != nil {
			t.Fatalf("UpdateCertificate: %v", err)
		}
		c.Changed, c.AliasName = at, alias
	}
	// ... and delete revoked ones (they leave every count).
	for _, i := range []int{8, 24, 40} {
		c := m.certs[i]
		if err := f.s.DeleteCertificate(f.ctx, c.AccountID, c.Identifier); err != nil {
			t.Fatalf("DeleteCertificate: %v", err)
		}
		m.certs[i].Status = "deleted" // matches no status filter, and is removed below
	}
	kept := m.certs[:0]
	for _, c := range m.certs {
		if c.Status != "deleted" {
			kept = append(kept, c)
		}
	}
	m.certs = kept

	day := 24 * time.Hour
	windows := []struct {
		name         string
		from, before time.Time
	}{
		{"whole days", base.Add(2 * day), base.Add(9 * day)},
		{"partial both ends", base.Add(2*day + 5*time.Hour + 17*time.Millisecond), base.Add(9*day + 13*time.Hour)},
		{"inside one day", base.Add(3*day + 2*time.Hour), base.Add(3*day + 20*time.Hour)},
		{"across one midnight", base.Add(3*day + 20*time.Hour), base.Add(4*day + 3*time.Hour)},
		{"from only, mid-day", base.Add(6*day + 7*time.Hour), time.Time{}},
		{"before only, mid-day", time.Time{}, base.Add(6*day + 7*time.Hour)},
		{"everything", base.Add(-30 * day), base.Add(60 * day)},
		{"everything, a year and more", base.Add(-300 * day), base.Add(100*day + time.Hour)}, // beyond the per-day split: sorted
		{"empty", base.Add(5 * day), base.Add(5 * day)},
	}
	for _, w := range windows {
		for _, fl := range []struct {
			name string
			q    store.ListQuery
		}{
			{"no filter", store.ListQuery{}},
			{"status", store.ListQuery{Status: pca.StatusRevoke}},
			{"type", store.ListQuery{Type: pca.TypeServer}},
			{"parent+status", store.ListQuery{ParentIdentifier: iss.ca.Identifier, Status: pca.StatusIssue}},
		} {
			t.Run(fmt.Sprintf("%s/%s", w.name, fl.name), func(t *testing.T) {
				q := fl.q
				q.ChangedFrom, q.ChangedBefore = w.from, w.before
				want := m.want(q)
				// The first page, then the page after a token (BeforeID)
				// in the middle of the window: the newest ids, in order.
				q.Limit = 3
				checkPage(t, f.list(iss.ca.AccountID, q), want[:min(3, len(want))], int64(len(want)))
				if len(want) > 4 {
					q.BeforeID = want[2].ID
					checkPage(t, f.list(iss.ca.AccountID, q), want[3:min(6, len(want))], int64(len(want)))
				}
			})
		}
	}
}
