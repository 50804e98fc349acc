package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// testCanceledLifecycle checks that the CAStore, LifecycleStore and PKIStore
// methods honour a canceled context and change nothing.
func testCanceledLifecycle(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	root := f.rootWithInstance(acct)
	iss := f.sub(root)
	issued := f.fullCert(iss)
	f.insert(&issued, f.certKey(&issued))
	issued = f.getCert(t, acct.ID, issued.Identifier)
	revoked := f.revoked(t, iss)
	f.claim(t, acct.ID, "IssueCert", "tok", "fp")
	first := crl(iss.ca.ID, 1)
	checkErr(t, "PutCRL", f.s.PutCRL(f.ctx, first), nil)
	caBefore := f.getCA(t, acct.ID, iss.ca.Identifier)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	unchanged := func(t *testing.T) {
		t.Helper()
		f.checkCAUnchanged(t, caBefore, "a canceled call")
		f.checkCertUnchanged(t, issued, "a canceled call")
		f.checkCertUnchanged(t, revoked, "a canceled call")
		f.checkClaim(t, acct.ID, "IssueCert", "tok", "fp", nil)
		f.checkCRL(t, iss.ca.ID, &first)
		if evs, err := f.s.ListCAEvents(f.ctx, acct.ID, iss.ca.ID); err != nil || len(evs) != 0 {
			t.Errorf("ListCAEvents = %v, %v; want none", evs, err)
		}
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"ListCAs", func() error { _, _, err := f.s.ListCAs(ctx, acct.ID, store.CAQuery{Limit: 10}); return err }},
		{"RevokeCA", func() error { _, err := f.s.RevokeCA(ctx, acct.ID, iss.ca.Identifier, revokedAt); return err }},
		{"UpdateCA", func() error { return f.s.UpdateCA(ctx, acct.ID, iss.ca.Identifier, ptr("late"), ptr("rg-late")) }},
		{"AddCAEvent", func() error {
			return f.s.AddCAEvent(ctx, store.CAEvent{AccountID: acct.ID, CAID: iss.ca.ID, OpType: "ADD", Content: "late", Created: t0})
		}},
		{"DeleteCertificate", func() error { return f.s.DeleteCertificate(ctx, acct.ID, revoked.Identifier) }},
		{"UpdateCertificate", func() error {
			return f.s.UpdateCertificate(ctx, acct.ID, issued.Identifier, ptr("late"), ptr("rg-late"), t0.Add(time.Hour))
		}},
		{"SetUploadFlag", func() error { _, err := f.s.SetUploadFlag(ctx, acct.ID, []int64{issued.ID}); return err }},
		{"SetTags", func() error {
			return f.s.SetTags(ctx, acct.ID, issued.Identifier, []pca.Tag{{Key: "late", Value: "1"}}, 10)
		}},
		{"RemoveTags", func() error { return f.s.RemoveTags(ctx, acct.ID, issued.Identifier, nil) }},
		{"SetResourceGroup", func() error { return f.s.SetResourceGroup(ctx, acct.ID, issued.Identifier, "rg-late") }},
		{"CompleteIdempotency", func() error { return f.s.CompleteIdempotency(ctx, acct.ID, "IssueCert", "tok", []byte("late")) }},
		{"ReleaseIdempotency", func() error { return f.s.ReleaseIdempotency(ctx, acct.ID, "IssueCert", "tok") }},
		{"PutCRL", func() error { return f.s.PutCRL(ctx, crl(iss.ca.ID, 2)) }},
		{"Revocations", func() error {
			return f.s.Revocations(ctx, iss.ca.ID, time.Time{}, func(store.Revocation) error {
				return errors.New("fn called under a canceled context")
			})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context: error = %v, want context.Canceled", tc.name, err)
			}
			unchanged(t)
		})
	}
}
