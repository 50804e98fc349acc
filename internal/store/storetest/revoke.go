package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// revokedAt is a revocation time after t0, with sub-millisecond digits in
// yet another zone.
var revokedAt = t0.Add(36*time.Hour + 250*time.Microsecond).In(time.FixedZone("UTC-07:00", -7*3600))

func testRevoke(t *testing.T, open opener) {
	tests := []struct {
		name   string
		reason pca.RevocationReason
	}{
		{"ok/unspecified", pca.ReasonUnspecified},
		{"ok/key-compromise", pca.ReasonKeyCompromise},
		{"ok/cessation-of-operation", pca.ReasonCessationOfOperation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			c := f.fullCert(f.issuerOf())
			f.insert(&c, f.certKey(&c))
			want := c
			want.Status, want.RevokedAt, want.RevokeReason, want.Changed = pca.StatusRevoke, revokedAt, tc.reason, revokedAt

			got, err := f.s.RevokeCertificate(f.ctx, c.AccountID, c.Identifier, revokedAt, tc.reason)
			checkErr(t, "RevokeCertificate", err, nil)
			noDER := want
			noDER.DER, got.DER = nil, nil // the contract does not say whether the result carries DER
			if d := diffCert(noDER, got); d != "" {
				t.Errorf("RevokeCertificate result mismatch:\n%s", d)
			}
			got, err = f.s.GetCertificate(f.ctx, c.AccountID, c.Identifier)
			checkErr(t, "GetCertificate", err, nil)
			if d := diffCert(want, got); d != "" {
				t.Errorf("GetCertificate after revoke mismatch:\n%s", d)
			}
		})
	}
}

func testRevokeTwice(t *testing.T, open opener) {
	f := newFixture(t, open)
	c := f.cert(f.issuerOf(), pca.TypeServer, t0)
	_, err := f.s.RevokeCertificate(f.ctx, c.AccountID, c.Identifier, revokedAt, pca.ReasonKeyCompromise)
	checkErr(t, "RevokeCertificate(first)", err, nil)
	_, err = f.s.RevokeCertificate(f.ctx, c.AccountID, c.Identifier, revokedAt.Add(time.Hour), pca.ReasonSuperseded)
	checkErr(t, "RevokeCertificate(second)", err, store.ErrState)
	got, err := f.s.GetCertificate(f.ctx, c.AccountID, c.Identifier)
	checkErr(t, "GetCertificate", err, nil)
	want := c
	want.Status, want.RevokedAt, want.RevokeReason, want.Changed = pca.StatusRevoke, revokedAt, pca.ReasonKeyCompromise, revokedAt
	if d := diffCert(want, got); d != "" {
		t.Errorf("certificate changed by a refused second revoke:\n%s", d)
	}
	res := f.list(c.AccountID, store.ListQuery{Status: pca.StatusRevoke, Limit: 10})
	checkPage(t, res, []pca.Certificate{c}, 1)
}

func testRevokeNotFound(t *testing.T, open opener) {
	f := newFixture(t, open)
	c := f.cert(f.issuerOf(), pca.TypeServer, t0)
	other := f.account()
	tests := []struct {
		name    string
		account int64
		ident   string
	}{
		{"fail/other-account", other.ID, c.Identifier},
		{"fail/unknown-identifier", c.AccountID, f.uuid()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.RevokeCertificate(f.ctx, tc.account, tc.ident, revokedAt, pca.ReasonKeyCompromise)
			checkErr(t, fmt.Sprintf("RevokeCertificate(%d, %s)", tc.account, tc.ident), err, store.ErrNotFound)
			got, err := f.s.GetCertificate(f.ctx, c.AccountID, c.Identifier)
			checkErr(t, "GetCertificate", err, nil)
			if d := diffCert(c, got); d != "" {
				t.Errorf("certificate changed by a refused revoke:\n%s", d)
			}
		})
	}
}
