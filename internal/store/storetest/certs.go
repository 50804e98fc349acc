package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// fullCert returns a certificate under iss with every field set, times with
// sub-millisecond digits in a non-UTC zone.
func (f *fixture) fullCert(iss issuer) pca.Certificate {
	c := f.newCert(iss, pca.TypeClient, t0)
	c.Subject = pca.Subject{CommonName: "svc.example.com", Organization: "Example Org", OrganizationUnit: "Ops",
		Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
	c.SubjectDN = "CN=svc.example.com,OU=Ops,O=Example Org,L=Hangzhou,ST=Zhejiang,C=CN"
	c.SANs = []pca.SAN{{Type: pca.SANDNS, Value: "svc.example.com"}, {Type: pca.SANIP, Value: "192.0.2.7"},
		{Type: pca.SANEmail, Value: "ops@example.com"}, {Type: pca.SANURI, Value: "spiffe://example.com/svc"}}
	c.Algorithm = pca.ECC384
	c.DER = []byte{0x30, 0x82, 0x00, 0x00, 0xff, 0x00, 0x01}
	c.NotBefore = t0.Add(-time.Hour + 999*time.Microsecond)
	c.NotAfter = t0.AddDate(0, 6, 0)
	c.AliasName = "billing service"
	c.CustomIdentifier = fmt.Sprintf("order-%d", f.next())
	c.Extra = `{"owner":"ops","n":1}`
	c.ResourceGroupID = "rg-acfm2"
	c.Tags = []pca.Tag{{Key: "env", Value: "prod"}, {Key: "app", Value: "billing"}}
	c.Changed = t0.Add(1500 * time.Microsecond)
	return c
}

// certKey returns a sealed key record for c and sets c.KeyRef to it.
func (f *fixture) certKey(c *pca.Certificate) *store.KeyRecord {
	c.KeyRef = fmt.Sprintf("key-cert-%d", f.next())
	return &store.KeyRecord{Ref: c.KeyRef, AccountID: c.AccountID, Algorithm: c.Algorithm, Sealed: []byte{0, 0xce, 0x17}, Created: t0}
}

// checkNotStored fails the test if certificate c (when its Identifier is not
// "") or key ref (when not "") of account acct can be read.
func (f *fixture) checkNotStored(t *testing.T, acct int64, c pca.Certificate, ref string) {
	t.Helper()
	if c.Identifier != "" {
		if _, err := f.s.GetCertificate(f.ctx, acct, c.Identifier); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetCertificate(%s) of a refused insert: error = %v, want ErrNotFound", c.Identifier, err)
		}
	}
	if ref == "" {
		return
	}
	if _, err := f.s.GetKey(f.ctx, acct, ref); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetKey(%s) of a refused insert: error = %v, want ErrNotFound", ref, err)
	}
}

// checkIssued fails the test unless the instance has drawn want certificates
// and its account lists total certificates.
func (f *fixture) checkIssued(t *testing.T, iss issuer, want, total int64) {
	t.Helper()
	if in := f.instance(iss.ca.AccountID, iss.inst.UUID); in.Issued != want {
		t.Errorf("instance Issued = %d, want %d", in.Issued, want)
	}
	if res := f.list(iss.ca.AccountID, store.ListQuery{Limit: 1}); res.Total != total {
		t.Errorf("ListCertificates Total = %d, want %d", res.Total, total)
	}
}

func testCertRoundTrip(t *testing.T, open opener) {
	tests := []struct {
		name    string
		withKey bool
	}{
		{"ok/without-key", false},
		{"ok/with-key", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			iss := f.issuerOf()
			c := f.fullCert(iss)
			var key *store.KeyRecord
			if tc.withKey {
				key = f.certKey(&c)
			}
			f.insert(&c, key)
			got, err := f.s.GetCertificate(f.ctx, c.AccountID, c.Identifier)
			checkErr(t, "GetCertificate", err, nil)
			if d := diffCert(c, got); d != "" {
				t.Errorf("GetCertificate mismatch:\n%s", d)
			}
			if key == nil {
				return
			}
			gotKey, err := f.s.GetKey(f.ctx, c.AccountID, key.Ref)
			checkErr(t, "GetKey", err, nil)
			if d := diffKey(*key, gotKey); d != "" {
				t.Errorf("GetKey mismatch:\n%s", d)
			}
		})
	}
}

func testCertNotFound(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	other := f.account()
	c := f.cert(iss, pca.TypeServer, t0)
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
			_, err := f.s.GetCertificate(f.ctx, tc.account, tc.ident)
			checkErr(t, fmt.Sprintf("GetCertificate(%d, %s)", tc.account, tc.ident), err, store.ErrNotFound)
		})
	}
}

func testCertConflict(t *testing.T, open opener) {
	tests := []struct {
		name string
		edit func(first, second *pca.Certificate)
		want error
	}{
		{"fail/custom-identifier-taken", func(first, second *pca.Certificate) {
			second.CustomIdentifier = first.CustomIdentifier
		}, store.ErrConflict},
		{"fail/identifier-taken", func(first, second *pca.Certificate) {
			second.Identifier = first.Identifier
		}, store.ErrConflict},
		{"ok/empty-custom-identifiers-do-not-conflict", func(first, second *pca.Certificate) {
			first.CustomIdentifier, second.CustomIdentifier = "", ""
		}, nil},
		{"ok/other-custom-identifier", func(first, second *pca.Certificate) {}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			iss := f.issuerOf()
			first, second := f.fullCert(iss), f.fullCert(iss)
			firstKey, key := f.certKey(&first), f.certKey(&second)
			tc.edit(&first, &second)
			f.insert(&first, firstKey)
			err := f.s.InsertCertificate(f.ctx, &second, key)
			checkErr(t, "InsertCertificate(second)", err, tc.want)
			if tc.want == nil {
				f.checkIssued(t, iss, 2, 2)
				return
			}
			if second.Identifier == first.Identifier {
				second.Identifier = "" // only the key can be checked
			}
			f.checkNotStored(t, iss.ca.AccountID, second, key.Ref)
			f.checkIssued(t, iss, 1, 1)
			got, err := f.s.GetCertificate(f.ctx, first.AccountID, first.Identifier)
			checkErr(t, "GetCertificate(first)", err, nil)
			if d := diffCert(first, got); d != "" {
				t.Errorf("first certificate changed by a refused insert:\n%s", d)
			}
		})
	}
}

func testCustomIDPerAccount(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.issuerOf(), f.issuerOf()
	ca, cb := f.newCert(a, pca.TypeServer, t0), f.newCert(b, pca.TypeServer, t0)
	ca.CustomIdentifier, cb.CustomIdentifier = "shared-name", "shared-name"
	f.insert(&ca, nil)
	f.insert(&cb, nil)
	for _, c := range []pca.Certificate{ca, cb} {
		got, err := f.s.GetCertificate(f.ctx, c.AccountID, c.Identifier)
		checkErr(t, "GetCertificate", err, nil)
		if got.CustomIdentifier != "shared-name" || got.AccountID != c.AccountID {
			t.Errorf("certificate of account %d = custom %q, account %d", c.AccountID, got.CustomIdentifier, got.AccountID)
		}
	}
}

func testCertOtherAccountInstance(t *testing.T, open opener) {
	tests := []struct {
		name string
		edit func(c *pca.Certificate, theirs issuer)
	}{
		{"fail/other-account-instance", func(c *pca.Certificate, theirs issuer) {
			c.CAID, c.ParentIdentifier = theirs.ca.ID, theirs.ca.Identifier
			c.InstanceID, c.InstanceUUID = theirs.inst.ID, theirs.inst.UUID
		}},
		{"fail/unknown-instance", func(c *pca.Certificate, theirs issuer) {
			c.InstanceID += theirs.inst.ID + 1000
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			mine, theirs := f.issuerOf(), f.issuerOf()
			c := f.newCert(mine, pca.TypeServer, t0)
			tc.edit(&c, theirs)
			err := f.s.InsertCertificate(f.ctx, &c, nil)
			checkErr(t, "InsertCertificate", err, store.ErrNotFound)
			f.checkNotStored(t, mine.ca.AccountID, c, "")
			f.checkIssued(t, mine, 0, 0)
			f.checkIssued(t, theirs, 0, 0)
		})
	}
}

func testCertDraws(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	other := f.sub(pca.CA{ID: iss.ca.ParentID, AccountID: iss.ca.AccountID})
	for n := int64(1); n <= 3; n++ {
		f.cert(iss, pca.TypeServer, t0)
		f.checkIssued(t, iss, n, n)
	}
	if in := f.instance(other.ca.AccountID, other.inst.UUID); in.Issued != 0 {
		t.Errorf("untouched instance Issued = %d, want 0", in.Issued)
	}
}

func testQuotaUnlimited(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	if iss.inst.TotalCount != 0 {
		t.Fatalf("new instance TotalCount = %d, want 0 (unlimited)", iss.inst.TotalCount)
	}
	for range 25 {
		f.cert(iss, pca.TypeClient, t0)
	}
	f.checkIssued(t, iss, 25, 25)
}

func testQuota(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	steps := []struct {
		name  string
		quota int64 // -1: leave as is
		want  error
	}{
		{"ok/first-of-two", 2, nil},
		{"ok/second-of-two", -1, nil},
		{"fail/third-of-two", -1, store.ErrQuota},
		{"ok/raised-to-three", 3, nil},
		{"fail/fourth-of-three", -1, store.ErrQuota},
		{"ok/back-to-unlimited", 0, nil},
		{"ok/unlimited-again", -1, nil},
	}
	issued := int64(0)
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.quota >= 0 {
				uuid := iss.inst.UUID
				if i%2 == 1 {
					uuid = strings.ToUpper(uuid)
				}
				checkErr(t, "SetInstanceQuota", f.s.SetInstanceQuota(f.ctx, iss.ca.AccountID, uuid, st.quota), nil)
				if in := f.instance(iss.ca.AccountID, iss.inst.UUID); in.TotalCount != st.quota {
					t.Errorf("TotalCount = %d, want %d", in.TotalCount, st.quota)
				}
			}
			c := f.fullCert(iss)
			key := f.certKey(&c)
			err := f.s.InsertCertificate(f.ctx, &c, key)
			checkErr(t, "InsertCertificate", err, st.want)
			if err == nil {
				issued++
			} else {
				f.checkNotStored(t, c.AccountID, c, key.Ref)
			}
			f.checkIssued(t, iss, issued, issued)
		})
	}
}

func testQuotaBelowIssued(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	for range 3 {
		f.cert(iss, pca.TypeServer, t0)
	}
	checkErr(t, "SetInstanceQuota(1)", f.s.SetInstanceQuota(f.ctx, iss.ca.AccountID, iss.inst.UUID, 1), nil)
	if in := f.instance(iss.ca.AccountID, iss.inst.UUID); in.TotalCount != 1 || in.Issued != 3 {
		t.Errorf("instance = total %d, issued %d; want total 1, issued 3", in.TotalCount, in.Issued)
	}
	c := f.newCert(iss, pca.TypeServer, t0)
	checkErr(t, "InsertCertificate(over quota)", f.s.InsertCertificate(f.ctx, &c, nil), store.ErrQuota)
	f.checkNotStored(t, c.AccountID, c, "")
	f.checkIssued(t, iss, 3, 3)
}

func testSetQuotaNotFound(t *testing.T, open opener) {
	f := newFixture(t, open)
	mine, theirs := f.issuerOf(), f.issuerOf()
	tests := []struct {
		name    string
		account int64
		uuid    string
	}{
		{"fail/other-account", mine.ca.AccountID, theirs.inst.UUID},
		{"fail/unknown-uuid", mine.ca.AccountID, f.uuid()},
		{"fail/ca-identifier", mine.ca.AccountID, mine.ca.Identifier},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.s.SetInstanceQuota(f.ctx, tc.account, tc.uuid, 7)
			checkErr(t, "SetInstanceQuota", err, store.ErrNotFound)
			for _, iss := range []issuer{mine, theirs} {
				if in := f.instance(iss.ca.AccountID, iss.inst.UUID); in.TotalCount != 0 {
					t.Errorf("instance %s TotalCount = %d after a refused SetInstanceQuota, want 0", in.UUID, in.TotalCount)
				}
			}
		})
	}
}

func testCertConcurrentInsert(t *testing.T, open opener) {
	const writers = 8
	tests := []struct {
		name  string
		quota int64
		ok    int64
	}{
		{"ok/unlimited", 0, writers},
		{"ok/quota-holds", 5, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			iss := f.issuerOf()
			checkErr(t, "SetInstanceQuota", f.s.SetInstanceQuota(f.ctx, iss.ca.AccountID, iss.inst.UUID, tc.quota), nil)
			certs := make([]pca.Certificate, writers)
			for i := range certs {
				certs[i] = f.newCert(iss, pca.TypeServer, t0)
			}
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i := range certs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = f.s.InsertCertificate(f.ctx, &certs[i], nil)
				}()
			}
			wg.Wait()
			var ok int64
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrQuota):
					t.Errorf("writer %d: %v", i, err)
				}
			}
			if ok != tc.ok {
				t.Errorf("%d inserts succeeded, want %d", ok, tc.ok)
			}
			f.checkIssued(t, iss, tc.ok, tc.ok)
		})
	}
}

// testInsertIssued: InsertIssued stores the certificate and reserves its
// serial in one transaction, appending the audit record it is given in the
// same one (chained, the head moved as asked); a serial already reserved or
// used under the issuer is ErrSerialTaken and stores nothing (no row, no
// key, no draw from the instance, no count, no audit record).
func testInsertIssued(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	acct := iss.ca.AccountID
	chain := func(r store.AuditRecord) []byte { return append(append([]byte{}, r.PrevHash...), r.RequestID...) }
	first, err := f.s.AppendAudit(f.ctx, store.AuditRecord{At: t0, AccountID: acct, Action: "Before", Code: "OK", RequestID: "R0"}, chain)
	checkErr(t, "AppendAudit", err, nil)
	const head = "storetest-audit-head"
	var moves []int64 // the prev id each move saw
	move := func(stored []byte, prev, rec store.AuditRecord) ([]byte, error) {
		moves = append(moves, prev.ID)
		return []byte(fmt.Sprint(rec.ID)), nil
	}
	c := f.newCert(iss, pca.TypeServer, t0)
	audit := &store.AuditAppend{Record: store.AuditRecord{At: t0, AccountID: acct, Action: "Issue", Resource: "certificate/" + c.Identifier,
		Code: "OK", RequestID: "R1"}, Chain: chain, HeadName: head, Move: move}
	if err := f.s.InsertIssued(f.ctx, &c, f.certKey(&c), audit); err != nil {
		t.Fatalf("InsertIssued: %v", err)
	}
	if !audit.Moved || audit.Stored.ID <= first.ID || string(audit.Stored.PrevHash) != string(first.Hash) || string(audit.Stored.Hash) != string(chain(audit.Stored)) {
		t.Fatalf("audit appended with the certificate: moved %v, stored %+v; want moved after record %d chained to it", audit.Moved, audit.Stored, first.ID)
	}
	if len(moves) == 0 || moves[len(moves)-1] != first.ID {
		t.Errorf("the head's move saw prev ids %v, want it to end with %d", moves, first.ID)
	}
	if sealed, err := f.s.GetSecret(f.ctx, head); err != nil || string(sealed) != fmt.Sprint(audit.Stored.ID) {
		t.Errorf("head after InsertIssued = %q, %v; want %d", sealed, err, audit.Stored.ID)
	}
	recs, err := f.s.AuditRecords(f.ctx, first.ID, 10)
	checkErr(t, "AuditRecords", err, nil)
	if len(recs) != 1 || recs[0].ID != audit.Stored.ID || recs[0].Resource != audit.Record.Resource || recs[0].Action != "Issue" {
		t.Fatalf("audit records after the first: %+v, want the one appended with the certificate", recs)
	}
	if got := f.getCert(t, acct, c.Identifier); got.SerialNumber != c.SerialNumber {
		t.Fatalf("stored serial %s, want %s", got.SerialNumber, c.SerialNumber)
	}
	if got := f.getCert(t, acct, c.Identifier); got.SerialNumber != c.SerialNumber {
		t.Fatalf("stored serial %s, want %s", got.SerialNumber, c.SerialNumber)
	}
	if err := f.s.ReserveSerial(f.ctx, iss.ca.ID, c.SerialNumber, t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ReserveSerial of a serial InsertIssued used: %v, want ErrConflict", err)
	}
	before := f.instance(acct, iss.inst.UUID).Issued
	total := f.list(acct, store.ListQuery{Limit: 1}).Total
	reserved := f.newCert(iss, pca.TypeServer, t0)
	checkErr(t, "ReserveSerial", f.s.ReserveSerial(f.ctx, iss.ca.ID, reserved.SerialNumber, t0), nil)
	for _, tc := range []struct {
		name   string
		serial string
	}{
		{"serial of a stored certificate", c.SerialNumber},
		{"serial reserved before", reserved.SerialNumber},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.newCert(iss, pca.TypeServer, t0)
			d.SerialNumber = tc.serial
			key := f.certKey(&d)
			refused := &store.AuditAppend{Record: store.AuditRecord{At: t0, AccountID: acct, Action: "Issue", Code: "OK", RequestID: "R-" + tc.name},
				Chain: chain, HeadName: head, Move: move}
			if err := f.s.InsertIssued(f.ctx, &d, key, refused); !errors.Is(err, store.ErrSerialTaken) {
				t.Fatalf("InsertIssued with a taken serial: %v, want ErrSerialTaken", err)
			}
			f.checkNotStored(t, acct, d, key.Ref)
			if recs, err := f.s.AuditRecords(f.ctx, audit.Stored.ID, 10); err != nil || len(recs) != 0 {
				t.Errorf("audit records after a refused insert: %+v, %v; want none", recs, err)
			}
			if sealed, err := f.s.GetSecret(f.ctx, head); err != nil || string(sealed) != fmt.Sprint(audit.Stored.ID) {
				t.Errorf("head after a refused insert = %q, %v; want %d", sealed, err, audit.Stored.ID)
			}
		})
	}
	if got := f.instance(acct, iss.inst.UUID).Issued; got != before {
		t.Errorf("instance drew %d, want %d after refused inserts", got, before)
	}
	if got := f.list(acct, store.ListQuery{Limit: 1}).Total; got != total {
		t.Errorf("Total %d after refused inserts, want %d", got, total)
	}
	// The same serial under another issuer is free.
	other := f.issuerOf()
	e := f.newCert(other, pca.TypeServer, t0)
	e.SerialNumber = c.SerialNumber
	if err := f.s.InsertIssued(f.ctx, &e, nil, nil); err != nil {
		t.Fatalf("InsertIssued with the serial under another issuer: %v", err)
	}
}
