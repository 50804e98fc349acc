package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// revoked creates a certificate under iss with key and tags, revokes it at
// revokedAt and returns it as stored, with its key ref.
func (f *fixture) revoked(t *testing.T, iss issuer) pca.Certificate {
	t.Helper()
	c := f.fullCert(iss)
	f.insert(&c, f.certKey(&c))
	if _, err := f.s.RevokeCertificate(f.ctx, c.AccountID, c.Identifier, revokedAt, pca.ReasonKeyCompromise); err != nil {
		t.Fatalf("RevokeCertificate: %v", err)
	}
	return f.getCert(t, c.AccountID, c.Identifier)
}

// checkCertUnchanged fails the test unless the stored certificate, its key
// and its tags are still want's.
func (f *fixture) checkCertUnchanged(t *testing.T, want pca.Certificate, why string) {
	t.Helper()
	got, err := f.s.GetCertificate(f.ctx, want.AccountID, want.Identifier)
	checkErr(t, "GetCertificate", err, nil)
	if d := diffCert(want, got); d != "" {
		t.Errorf("certificate %s changed by %s:\n%s", want.Identifier, why, d)
	}
	if want.KeyRef != "" {
		_, err := f.s.GetKey(f.ctx, want.AccountID, want.KeyRef)
		checkErr(t, "GetKey("+want.KeyRef+") after "+why, err, nil)
	}
	tags, err := f.s.GetTags(f.ctx, want.AccountID, []string{want.Identifier})
	checkErr(t, "GetTags", err, nil)
	if !slices.Equal(emptyNil(tags[want.Identifier]), byKey(want.Tags)) {
		t.Errorf("tags of %s = %v after %s, want %v", want.Identifier, tags[want.Identifier], why, byKey(want.Tags))
	}
}

func testDeleteCertificate(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	acct := iss.ca.AccountID
	other := f.account()
	gone := f.revoked(t, iss)
	sibling := f.revoked(t, iss)
	seq := f.revSeq(t, iss.ca.ID)
	checkErr(t, "DeleteCertificate", f.s.DeleteCertificate(f.ctx, acct, gone.Identifier), nil)
	wantRev := revocationOf(gone, revokedAt, pca.ReasonKeyCompromise)

	checks := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"gone/get", func(t *testing.T) {
			_, err := f.s.GetCertificate(f.ctx, acct, gone.Identifier)
			checkErr(t, "GetCertificate", err, store.ErrNotFound)
		}},
		{"gone/list", func(t *testing.T) {
			for _, q := range []store.ListQuery{{}, {Status: pca.StatusRevoke}, {Type: gone.Type},
				{InstanceUUID: iss.inst.UUID}, {ParentIdentifier: iss.ca.Identifier}, {ResourceGroupID: gone.ResourceGroupID},
				{ChangedFrom: revokedAt}, {Status: pca.StatusRevoke, ChangedBefore: revokedAt.Add(time.Hour)}} {
				q.Limit = maxLimit
				checkPage(t, f.list(acct, q), []pca.Certificate{sibling}, 1)
			}
		}},
		{"gone/key", func(t *testing.T) {
			_, err := f.s.GetKey(f.ctx, acct, gone.KeyRef)
			checkErr(t, "GetKey", err, store.ErrNotFound)
		}},
		{"gone/tags", func(t *testing.T) {
			tags, err := f.s.GetTags(f.ctx, acct, []string{gone.Identifier})
			checkErr(t, "GetTags", err, nil)
			if len(tags[gone.Identifier]) != 0 {
				t.Errorf("tags of a deleted certificate: %v", tags[gone.Identifier])
			}
			pairs, _, err := f.s.FindTagged(f.ctx, acct, []string{gone.Identifier}, nil, "", 100)
			checkErr(t, "FindTagged", err, nil)
			if len(pairs) != 0 {
				t.Errorf("FindTagged finds a deleted certificate: %v", pairs)
			}
		}},
		{"gone/by-serial", func(t *testing.T) {
			got, err := f.s.CertificatesBySerial(f.ctx, acct, []string{gone.SerialNumber})
			checkErr(t, "CertificatesBySerial", err, nil)
			if len(got) != 0 {
				t.Errorf("CertificatesBySerial finds a deleted certificate")
			}
			_, err = f.s.CertificateByIssuerSerial(f.ctx, iss.ca.ID, gone.SerialNumber)
			checkErr(t, "CertificateByIssuerSerial", err, store.ErrNotFound)
		}},
		{"kept/revocation", func(t *testing.T) {
			got, err := f.s.RevocationByIssuerSerial(f.ctx, iss.ca.ID, gone.SerialNumber)
			checkErr(t, "RevocationByIssuerSerial", err, nil)
			if d := diffRevocation(wantRev, got); d != "" {
				t.Errorf("revocation of a deleted certificate mismatch:\n%s", d)
			}
			found := false
			for _, r := range f.revocations(t, iss.ca.ID, time.Time{}) {
				found = found || r.Serial == gone.SerialNumber
			}
			if !found {
				t.Errorf("Revocations lost the deleted certificate's serial %s", gone.SerialNumber)
			}
			if s := f.revSeq(t, iss.ca.ID); s < seq {
				t.Errorf("RevocationSeq went back from %d to %d", seq, s)
			}
		}},
		{"kept/sibling", func(t *testing.T) { f.checkCertUnchanged(t, sibling, "deleting another certificate") }},
		{"fail/delete-again", func(t *testing.T) {
			checkErr(t, "DeleteCertificate(again)", f.s.DeleteCertificate(f.ctx, acct, gone.Identifier), store.ErrNotFound)
		}},
	}
	for _, tc := range checks {
		t.Run(tc.name, tc.check)
	}

	issued := f.cert(iss, pca.TypeServer, t0)
	theirs := f.revoked(t, f.issuerOf())
	fails := []struct {
		name    string
		account int64
		cert    pca.Certificate
		want    error
	}{
		{"fail/issue-state", acct, issued, store.ErrState},
		{"fail/other-account", other.ID, sibling, store.ErrNotFound},
		{"fail/other-accounts-certificate", acct, theirs, store.ErrNotFound},
		{"fail/unknown-identifier", acct, pca.Certificate{Identifier: f.uuid()}, store.ErrNotFound},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			err := f.s.DeleteCertificate(f.ctx, tc.account, tc.cert.Identifier)
			checkErr(t, fmt.Sprintf("DeleteCertificate(%d, %s)", tc.account, tc.cert.Identifier), err, tc.want)
			for _, c := range []pca.Certificate{issued, sibling, theirs} {
				f.checkCertUnchanged(t, c, "a refused DeleteCertificate")
			}
			checkPage(t, f.list(acct, store.ListQuery{Limit: maxLimit}), []pca.Certificate{issued, sibling}, 2)
		})
	}
}

// remove deletes certificate i of the model from the store and the model.
func (m *model) remove(f *fixture, i int) {
	f.t.Helper()
	c := m.certs[i]
	if err := f.s.DeleteCertificate(f.ctx, c.AccountID, c.Identifier); err != nil {
		f.t.Fatalf("DeleteCertificate(%s): %v", c.Identifier, err)
	}
	m.certs = slices.Delete(m.certs, i, i+1)
}

func testDeleteCounts(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.listData()
	d.a.remove(f, revokedA[3]) // from the end, so that the other indexes hold
	d.a.remove(f, revokedA[1])
	d.b.remove(f, 0)
	if len(d.a.certs) != 10 || len(d.b.certs) != 3 {
		t.Fatalf("test data: %d and %d certificates left, want 10 and 3", len(d.a.certs), len(d.b.certs))
	}
	for _, tc := range filterCases {
		q := tc.q(d)
		t.Run("a/"+tc.name, func(t *testing.T) { f.checkQuery(t, d.aID, &d.a, q, len(d.a.want(q))) })
	}
	t.Run("a/paging-total", func(t *testing.T) {
		q := store.ListQuery{Status: pca.StatusRevoke, Offset: 1, Limit: 1}
		if res := f.list(d.aID, q); res.Total != 2 || len(res.Items) != 1 {
			t.Errorf("REVOKE page = %d items, Total %d; want 1 item, Total 2", len(res.Items), res.Total)
		}
	})
	t.Run("b/no-filter", func(t *testing.T) { f.checkQuery(t, d.bID, &d.b, store.ListQuery{}, 3) })
	t.Run("b/revoke", func(t *testing.T) { f.checkQuery(t, d.bID, &d.b, store.ListQuery{Status: pca.StatusRevoke}, 0) })
}

func testUpdateCertificate(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	acct := iss.ca.AccountID
	bystander := f.fullCert(iss)
	f.insert(&bystander, nil)
	at := t0.Add(2*time.Hour + 777*time.Microsecond).In(time.FixedZone("UTC+01:00", 3600))
	tests := []struct {
		name         string
		alias, group *string
	}{
		{"ok/alias-only", ptr("renamed"), nil},
		{"ok/group-only", nil, ptr("rg-moved")},
		{"ok/both", ptr("both"), ptr("rg-both")},
		{"ok/neither-still-moves-changed", nil, nil},
		{"ok/clear-alias", ptr(""), nil},
		{"ok/clear-group", nil, ptr("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := f.fullCert(iss)
			f.insert(&c, f.certKey(&c))
			checkErr(t, "UpdateCertificate", f.s.UpdateCertificate(f.ctx, acct, c.Identifier, tc.alias, tc.group, at), nil)
			want := c
			if tc.alias != nil {
				want.AliasName = *tc.alias
			}
			if tc.group != nil {
				want.ResourceGroupID = *tc.group
			}
			want.Changed = at
			if d := diffCert(want, f.getCert(t, acct, c.Identifier)); d != "" {
				t.Errorf("GetCertificate after UpdateCertificate mismatch:\n%s", d)
			}
			// The list filters see the new values.
			checkPage(t, f.list(acct, store.ListQuery{ChangedFrom: at, Limit: maxLimit}), []pca.Certificate{c}, 1)
			if want.ResourceGroupID != "" && want.ResourceGroupID != bystander.ResourceGroupID {
				checkPage(t, f.list(acct, store.ListQuery{ResourceGroupID: want.ResourceGroupID, Limit: maxLimit}), []pca.Certificate{c}, 1)
			}
			f.checkCertUnchanged(t, bystander, "UpdateCertificate of another certificate")
			// Move it out of the ChangedFrom window of the next case.
			checkErr(t, "UpdateCertificate(reset)", f.s.UpdateCertificate(f.ctx, acct, c.Identifier, nil, nil, t0), nil)
		})
	}
	other := f.account()
	fails := []struct {
		name    string
		account int64
		ident   string
	}{
		{"fail/other-account", other.ID, bystander.Identifier},
		{"fail/unknown-identifier", acct, f.uuid()},
		{"fail/ca-identifier", acct, iss.ca.Identifier},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			err := f.s.UpdateCertificate(f.ctx, tc.account, tc.ident, ptr("hijacked"), ptr("rg-hijacked"), at)
			checkErr(t, "UpdateCertificate", err, store.ErrNotFound)
			f.checkCertUnchanged(t, bystander, "a refused UpdateCertificate")
			f.checkCAUnchanged(t, iss.ca, "a refused UpdateCertificate")
		})
	}
}

func testCertificatesBySerial(t *testing.T, open opener) {
	f := newFixture(t, open)
	root := f.root(f.account())
	s1, s2 := f.sub(root), f.sub(root)
	theirs := f.issuerOf()
	acct := root.AccountID
	mk := func(iss issuer, serial string) pca.Certificate {
		c := f.fullCert(iss)
		c.SerialNumber = serial
		f.insert(&c, nil)
		return c
	}
	a1, a2, a3 := mk(s1, "0abc01"), mk(s2, "0abc01"), mk(s1, "0abc02")
	_, err := f.s.RevokeCertificate(f.ctx, acct, a3.Identifier, revokedAt, pca.ReasonSuperseded)
	checkErr(t, "RevokeCertificate", err, nil)
	a3.Status, a3.RevokedAt, a3.RevokeReason, a3.Changed = pca.StatusRevoke, revokedAt, pca.ReasonSuperseded, revokedAt
	b1, b3 := mk(theirs, "0abc01"), mk(theirs, "0abc03")
	tests := []struct {
		name    string
		account int64
		serials []string
		want    []pca.Certificate
	}{
		{"ok/one-serial-two-issuers", acct, []string{"0abc01"}, []pca.Certificate{a1, a2}},
		{"ok/several-serials", acct, []string{"0abc02", "0abc01"}, []pca.Certificate{a1, a2, a3}},
		{"ok/unknown-serials-absent", acct, []string{"0abc02", "ffffff", "0abc03"}, []pca.Certificate{a3}},
		{"ok/other-account", theirs.ca.AccountID, []string{"0abc01", "0abc02", "0abc03"}, []pca.Certificate{b1, b3}},
		{"fail/other-accounts-serial", acct, []string{"0abc03"}, nil},
		{"fail/none-asked", acct, nil, nil},
		{"fail/empty-list", acct, []string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.CertificatesBySerial(f.ctx, tc.account, tc.serials)
			checkErr(t, "CertificatesBySerial", err, nil)
			slices.SortFunc(got, func(a, b pca.Certificate) int { return int(a.ID - b.ID) })
			if !slices.Equal(ids(got), ids(tc.want)) {
				t.Fatalf("CertificatesBySerial ids = %v, want %v (in any order)", ids(got), ids(tc.want))
			}
			for i := range got {
				w, g := tc.want[i], got[i]
				// DER is not promised; tags are checked for order by Tags/KeyOrder.
				w.DER, g.DER, w.Tags, g.Tags = nil, nil, nil, nil
				if d := diffCert(w, g); d != "" {
					t.Errorf("CertificatesBySerial item %s mismatch:\n%s", w.Identifier, d)
				}
			}
		})
	}
}

func testSetUploadFlag(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	acct := iss.ca.AccountID
	c1, c2, c3 := f.cert(iss, pca.TypeServer, t0), f.cert(iss, pca.TypeClient, t0), f.cert(iss, pca.TypeServer, t0)
	theirs := f.cert(f.issuerOf(), pca.TypeServer, t0)
	all := []pca.Certificate{c1, c2, c3, theirs}
	steps := []struct {
		name    string
		account int64
		ids     []int64
		n       int
		flagged []bool // of all, afterwards
	}{
		{"ok/one", acct, []int64{c1.ID}, 1, []bool{true, false, false, false}},
		{"ok/already-flagged-counts", acct, []int64{c1.ID, c2.ID}, 2, []bool{true, true, false, false}},
		{"ok/only-own-ids-count", acct, []int64{c3.ID, theirs.ID, theirs.ID + 1000}, 1, []bool{true, true, true, false}},
		{"ok/none", acct, nil, 0, []bool{true, true, true, false}},
		{"ok/other-accounts-view", theirs.AccountID, []int64{c1.ID, c2.ID}, 0, []bool{true, true, true, false}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			n, err := f.s.SetUploadFlag(f.ctx, st.account, st.ids)
			checkErr(t, "SetUploadFlag", err, nil)
			if n != st.n {
				t.Errorf("SetUploadFlag(%v) = %d, want %d", st.ids, n, st.n)
			}
			for i, c := range all {
				if got := f.getCert(t, c.AccountID, c.Identifier); got.Uploaded != st.flagged[i] {
					t.Errorf("certificate %d Uploaded = %v, want %v", i, got.Uploaded, st.flagged[i])
				}
			}
		})
	}
}

func testSetResourceGroup(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct, other := f.account(), f.account()
	root := f.root(acct)
	iss := f.sub(root)
	c := f.fullCert(iss)
	f.insert(&c, nil)
	theirs := f.issuerOf()
	tc2 := f.cert(theirs, pca.TypeServer, t0)
	cas := map[string]*pca.CA{"root": &root, "sub": &iss.ca, "theirs-ca": &theirs.ca}
	certs := map[string]*pca.Certificate{"cert": &c, "theirs-cert": &tc2}
	tests := []struct {
		name     string
		account  int64
		resource string
		target   string // key of cas or certs that moves; "" when refused
	}{
		{"ok/root-ca", acct.ID, root.Identifier, "root"},
		{"ok/sub-ca", acct.ID, iss.ca.Identifier, "sub"},
		{"ok/certificate", acct.ID, c.Identifier, "cert"},
		{"fail/unknown", acct.ID, f.uuid(), ""},
		{"fail/instance-uuid", acct.ID, iss.inst.UUID, ""},
		{"fail/other-accounts-ca", acct.ID, theirs.ca.Identifier, ""},
		{"fail/other-accounts-certificate", acct.ID, tc2.Identifier, ""},
		{"fail/other-accounts-view", other.ID, c.Identifier, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			group := fmt.Sprintf("rg-%d", i)
			err := f.s.SetResourceGroup(f.ctx, tc.account, tc.resource, group)
			if tc.target == "" {
				checkErr(t, "SetResourceGroup", err, store.ErrNotFound)
			} else {
				checkErr(t, "SetResourceGroup", err, nil)
			}
			if ca, ok := cas[tc.target]; ok {
				ca.ResourceGroupID = group
			}
			if cert, ok := certs[tc.target]; ok {
				cert.ResourceGroupID = group
			}
			for _, ca := range cas {
				f.checkCAUnchanged(t, *ca, "SetResourceGroup")
			}
			for _, cert := range certs {
				got, err := f.s.GetCertificate(f.ctx, cert.AccountID, cert.Identifier)
				checkErr(t, "GetCertificate", err, nil)
				if got.ResourceGroupID != cert.ResourceGroupID || got.AliasName != cert.AliasName || got.Status != cert.Status {
					t.Errorf("certificate %s = group %q, want %q", cert.Identifier, got.ResourceGroupID, cert.ResourceGroupID)
				}
			}
		})
	}
}
