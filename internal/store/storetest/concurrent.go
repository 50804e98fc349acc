package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// testConcurrentIssueRevoke: issuances (InsertIssued with their audit
// record) and revocations of the same instance, type and day run at the
// same time without a deadlock or any other error: both take the counters
// they share in the same order. Afterwards the counts and the audit chain
// agree with what was done.
func testConcurrentIssueRevoke(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	acct := iss.ca.AccountID
	const issuers, perIssuer, revokers, perRevoker = 4, 25, 2, 20
	old := make([]pca.Certificate, revokers*perRevoker)
	for i := range old {
		old[i] = f.newCert(iss, pca.TypeServer, t0)
		checkErr(t, "InsertCertificate", f.s.InsertCertificate(f.ctx, &old[i], nil), nil)
	}
	fresh := make([][]pca.Certificate, issuers)
	for w := range fresh {
		for range perIssuer {
			fresh[w] = append(fresh[w], f.newCert(iss, pca.TypeServer, t0))
		}
	}
	chain := func(r store.AuditRecord) []byte { return append(append([]byte{}, r.PrevHash...), r.RequestID...) }
	var wg sync.WaitGroup
	errs := make(chan error, issuers*perIssuer+revokers*perRevoker)
	for w := range issuers {
		wg.Go(func() {
			for i := range fresh[w] {
				c := &fresh[w][i]
				a := &store.AuditAppend{Record: store.AuditRecord{At: t0, AccountID: acct, Action: "Issue", Code: "OK",
					RequestID: fmt.Sprintf("I-%d-%d", w, i)}, Chain: chain}
				if err := f.s.InsertIssued(f.ctx, c, nil, a); err != nil {
					errs <- fmt.Errorf("issuer %d, certificate %d: %w", w, i, err)
				}
			}
		})
	}
	for r := range revokers {
		wg.Go(func() {
			for _, c := range old[r*perRevoker : (r+1)*perRevoker] {
				if _, err := f.s.RevokeCertificate(f.ctx, acct, c.Identifier, t0.Add(1), pca.ReasonSuperseded); err != nil {
					errs <- fmt.Errorf("revoker %d, %s: %w", r, c.Identifier, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	issued := f.list(acct, store.ListQuery{Status: pca.StatusIssue, Limit: 1}).Total
	revoked := f.list(acct, store.ListQuery{Status: pca.StatusRevoke, Limit: 1}).Total
	if want := int64(issuers * perIssuer); issued != want || revoked != int64(len(old)) {
		t.Errorf("counts: %d issued, %d revoked; want %d and %d", issued, revoked, want, len(old))
	}
	recs, err := f.s.AuditRecords(f.ctx, 0, 1000)
	checkErr(t, "AuditRecords", err, nil)
	var prev []byte
	for i, r := range recs {
		if string(r.PrevHash) != string(prev) || string(r.Hash) != string(chain(r)) || (i > 0 && r.ID <= recs[i-1].ID) {
			t.Fatalf("audit record %d (id %d) does not chain from the one before", i, r.ID)
		}
		prev = r.Hash
	}
	if len(recs) != issuers*perIssuer {
		t.Errorf("%d audit records, want %d", len(recs), issuers*perIssuer)
	}
}
