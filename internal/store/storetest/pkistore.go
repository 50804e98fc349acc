package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// revocations collects Revocations(caID, from) and fails the test on error.
func (f *fixture) revocations(t *testing.T, caID int64, from time.Time) []store.Revocation {
	t.Helper()
	var out []store.Revocation
	err := f.s.Revocations(f.ctx, caID, from, func(r store.Revocation) error {
		out = append(out, r)
		return nil
	})
	checkErr(t, fmt.Sprintf("Revocations(%d)", caID), err, nil)
	return out
}

// revocationOf is the revocation RevokeCertificate(c, at, reason) records.
func revocationOf(c pca.Certificate, at time.Time, reason pca.RevocationReason) store.Revocation {
	return store.Revocation{Serial: c.SerialNumber, RevokedAt: at, Reason: reason, NotAfter: c.NotAfter}
}

// checkRevocations fails the test unless got is exactly want, in order.
func checkRevocations(t *testing.T, got, want []store.Revocation) {
	t.Helper()
	serials := func(rs []store.Revocation) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.Serial
		}
		return out
	}
	if !slices.Equal(serials(got), serials(want)) {
		t.Fatalf("revocation serials = %v\nwant %v", serials(got), serials(want))
	}
	for i := range got {
		if d := diffRevocation(want[i], got[i]); d != "" {
			t.Errorf("revocation %s mismatch:\n%s", want[i].Serial, d)
		}
	}
}

func testAllCAs(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.account(), f.account()
	ra := f.rootWithInstance(a)
	sa := f.sub(ra).ca
	rb := f.root(b)
	sb := f.sub(rb).ca
	ext, key := f.newCA(b, nil)
	ext.IssuerType = "external"
	checkErr(t, "CreateCA(external)", f.s.CreateCA(f.ctx, &ext, key), nil)
	_, err := f.s.RevokeCA(f.ctx, a.ID, sa.Identifier, revokedAt)
	checkErr(t, "RevokeCA", err, nil)
	f.account() // an account without CAs
	var want []pca.CA
	for _, ca := range []pca.CA{ra, sa, rb, sb, ext} {
		want = append(want, f.getCA(t, ca.AccountID, ca.Identifier))
	}
	got, err := f.s.AllCAs(f.ctx)
	checkErr(t, "AllCAs", err, nil)
	byID := func(cas []pca.CA) {
		sort.Slice(cas, func(i, j int) bool { return cas[i].ID < cas[j].ID })
	}
	byID(want)
	byID(got)
	if len(got) != len(want) {
		t.Fatalf("AllCAs returned %d CAs, want %d (every account's)", len(got), len(want))
	}
	for i := range got {
		w, g := want[i], got[i]
		w.Tags, g.Tags = nil, nil // AllCAs does not carry tags
		if d := diffCAAll(w, g); d != "" {
			t.Errorf("AllCAs item %s differs from GetCA:\n%s", w.Identifier, d)
		}
	}
}

func testCertificateByIssuerSerial(t *testing.T, open opener) {
	f := newFixture(t, open)
	root := f.root(f.account())
	s1, s2 := f.sub(root), f.sub(root)
	theirs := f.issuerOf()
	c1 := f.fullCert(s1)
	c1.SerialNumber = "7e57ab1e"
	f.insert(&c1, f.certKey(&c1))
	c2 := f.newCert(s2, pca.TypeServer, t0)
	c2.SerialNumber = c1.SerialNumber // the same serial under another issuer
	f.insert(&c2, nil)
	revoked := f.cert(s1, pca.TypeClient, t0)
	_, err := f.s.RevokeCertificate(f.ctx, revoked.AccountID, revoked.Identifier, revokedAt, pca.ReasonSuperseded)
	checkErr(t, "RevokeCertificate", err, nil)
	revoked.Status, revoked.RevokedAt, revoked.RevokeReason, revoked.Changed = pca.StatusRevoke, revokedAt, pca.ReasonSuperseded, revokedAt
	cb := f.cert(theirs, pca.TypeServer, t0)
	tests := []struct {
		name   string
		caID   int64
		serial string
		want   *pca.Certificate
	}{
		{"ok/first-issuer", s1.ca.ID, c1.SerialNumber, &c1},
		{"ok/second-issuer-same-serial", s2.ca.ID, c1.SerialNumber, &c2},
		{"ok/revoked", s1.ca.ID, revoked.SerialNumber, &revoked},
		{"ok/any-account", theirs.ca.ID, cb.SerialNumber, &cb},
		{"fail/other-issuer", s2.ca.ID, revoked.SerialNumber, nil},
		{"fail/parent-of-issuer", root.ID, c1.SerialNumber, nil},
		{"fail/serial-of-other-account", s1.ca.ID, cb.SerialNumber, nil},
		{"fail/unknown-serial", s1.ca.ID, "0badc0de", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.CertificateByIssuerSerial(f.ctx, tc.caID, tc.serial)
			if tc.want == nil {
				checkErr(t, "CertificateByIssuerSerial", err, store.ErrNotFound)
				return
			}
			checkErr(t, "CertificateByIssuerSerial", err, nil)
			want := *tc.want
			// DER and tags are not promised by this lookup.
			want.DER, got.DER, want.Tags, got.Tags = nil, nil, nil, nil
			if d := diffCert(want, got); d != "" {
				t.Errorf("CertificateByIssuerSerial mismatch:\n%s", d)
			}
		})
	}
}

func testRevokeRecords(t *testing.T, open opener) {
	f := newFixture(t, open)
	iss := f.issuerOf()
	c1, c2 := f.fullCert(iss), f.cert(iss, pca.TypeServer, t0)
	c1.SerialNumber = "00aa01"
	c2Serial := c2.SerialNumber
	f.insert(&c1, nil)
	acct := iss.ca.AccountID
	_, err := f.s.RevocationByIssuerSerial(f.ctx, iss.ca.ID, c1.SerialNumber)
	checkErr(t, "RevocationByIssuerSerial(before revoke)", err, store.ErrNotFound)
	if got := f.revocations(t, iss.ca.ID, time.Time{}); len(got) != 0 {
		t.Fatalf("Revocations before any revoke = %+v, want none", got)
	}
	seq0 := f.revSeq(t, iss.ca.ID)

	steps := []struct {
		name   string
		cert   pca.Certificate
		at     time.Time
		reason pca.RevocationReason
	}{
		{"first", c1, revokedAt, pca.ReasonKeyCompromise},
		{"second", c2, revokedAt.Add(90 * time.Minute), pca.ReasonCessationOfOperation},
	}
	var want []store.Revocation
	prev := seq0
	for _, st := range steps {
		t.Run("ok/"+st.name, func(t *testing.T) {
			_, err := f.s.RevokeCertificate(f.ctx, acct, st.cert.Identifier, st.at, st.reason)
			checkErr(t, "RevokeCertificate", err, nil)
			rev := revocationOf(st.cert, st.at, st.reason)
			want = append(want, rev)
			got, err := f.s.RevocationByIssuerSerial(f.ctx, iss.ca.ID, st.cert.SerialNumber)
			checkErr(t, "RevocationByIssuerSerial", err, nil)
			if d := diffRevocation(rev, got); d != "" {
				t.Errorf("RevocationByIssuerSerial mismatch:\n%s", d)
			}
			sorted := slices.Clone(want)
			slices.SortFunc(sorted, func(a, b store.Revocation) int { return strings.Compare(a.Serial, b.Serial) })
			checkRevocations(t, f.revocations(t, iss.ca.ID, time.Time{}), sorted)
			if s := f.revSeq(t, iss.ca.ID); s <= prev {
				t.Errorf("RevocationSeq = %d after a revocation, want > %d", s, prev)
			} else {
				prev = s
			}
		})
	}
	t.Run("fail/second-revoke-records-nothing", func(t *testing.T) {
		_, err := f.s.RevokeCertificate(f.ctx, acct, c1.Identifier, revokedAt.Add(5*time.Hour), pca.ReasonSuperseded)
		checkErr(t, "RevokeCertificate(again)", err, store.ErrState)
		got, err := f.s.RevocationByIssuerSerial(f.ctx, iss.ca.ID, c1.SerialNumber)
		checkErr(t, "RevocationByIssuerSerial", err, nil)
		if d := diffRevocation(revocationOf(c1, revokedAt, pca.ReasonKeyCompromise), got); d != "" {
			t.Errorf("revocation changed by a refused revoke:\n%s", d)
		}
		if s := f.revSeq(t, iss.ca.ID); s != prev {
			t.Errorf("RevocationSeq = %d after a refused revoke, want %d", s, prev)
		}
	})
	t.Run("fail/other-issuer", func(t *testing.T) {
		_, err := f.s.RevocationByIssuerSerial(f.ctx, iss.ca.ParentID, c2Serial)
		checkErr(t, "RevocationByIssuerSerial(parent of issuer)", err, store.ErrNotFound)
		_, err = f.s.RevocationByIssuerSerial(f.ctx, iss.ca.ID, "0badc0de")
		checkErr(t, "RevocationByIssuerSerial(unknown serial)", err, store.ErrNotFound)
	})
}

func testRevocationSeq(t *testing.T, open opener) {
	f := newFixture(t, open)
	root := f.rootWithInstance(f.account())
	s1, s2 := f.sub(root), f.sub(root)
	theirs := f.issuerOf()
	c1, c2 := f.cert(s1, pca.TypeServer, t0), f.cert(s2, pca.TypeServer, t0)
	cb := f.cert(theirs, pca.TypeServer, t0)
	cas := map[string]int64{"root": root.ID, "s1": s1.ca.ID, "s2": s2.ca.ID, "theirs": theirs.ca.ID}
	revokeCert := func(c pca.Certificate) func() error {
		return func() error {
			_, err := f.s.RevokeCertificate(f.ctx, c.AccountID, c.Identifier, revokedAt, pca.ReasonKeyCompromise)
			return err
		}
	}
	steps := []struct {
		name  string
		call  func() error
		want  error
		grows []string // the others must not change
	}{
		{"revoke-cert-of-s1", revokeCert(c1), nil, []string{"s1"}},
		{"revoke-cert-of-other-account", revokeCert(cb), nil, []string{"theirs"}},
		{"refused-second-revoke", revokeCert(c1), store.ErrState, nil},
		{"revoke-sub-ca-s2", func() error {
			_, err := f.s.RevokeCA(f.ctx, root.AccountID, s2.ca.Identifier, revokedAt)
			return err
		}, nil, []string{"root"}},
		{"revoke-cert-of-revoked-s2", revokeCert(c2), nil, []string{"s2"}},
		{"refused-second-ca-revoke", func() error {
			_, err := f.s.RevokeCA(f.ctx, root.AccountID, s2.ca.Identifier, revokedAt)
			return err
		}, store.ErrState, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := map[string]int64{}
			for name, id := range cas {
				before[name] = f.revSeq(t, id)
			}
			checkErr(t, st.name, st.call(), st.want)
			for name, id := range cas {
				got := f.revSeq(t, id)
				if slices.Contains(st.grows, name) {
					if got <= before[name] {
						t.Errorf("RevocationSeq(%s) = %d, want > %d", name, got, before[name])
					}
				} else if got != before[name] {
					t.Errorf("RevocationSeq(%s) = %d, want unchanged %d", name, got, before[name])
				}
			}
		})
	}
}

// revocationData is one sub-CA with eight certificates revoked out of serial
// order, with NotAfter spread around cut, plus an unrevoked one and a
// revoked one under a sibling sub-CA.
type revocationData struct {
	iss, sibling issuer
	cut          time.Time
	all          []store.Revocation // in serial order
}

func (f *fixture) revocationData(t *testing.T) *revocationData {
	t.Helper()
	root := f.root(f.account())
	d := &revocationData{iss: f.sub(root), sibling: f.sub(root), cut: base.AddDate(1, 0, 0)}
	// serial suffix, NotAfter offset from cut
	specs := []struct {
		serial int
		exp    time.Duration
	}{
		{5, -48 * time.Hour},
		{2, time.Hour},
		{8, 0}, // expires exactly at cut
		{1, -time.Millisecond},
		{7, 30 * 24 * time.Hour},
		{3, -time.Hour},
		{6, time.Millisecond},
		{4, 365 * 24 * time.Hour},
	}
	for i, sp := range specs {
		c := f.newCert(d.iss, certTypes[i%3], base)
		c.SerialNumber = fmt.Sprintf("0c%04x", sp.serial)
		c.NotAfter = d.cut.Add(sp.exp)
		f.insert(&c, nil)
		at := revokedAt.Add(time.Duration(i) * time.Minute)
		reason := pca.RevocationReason(i % 6)
		if _, err := f.s.RevokeCertificate(f.ctx, c.AccountID, c.Identifier, at, reason); err != nil {
			t.Fatalf("RevokeCertificate: %v", err)
		}
		d.all = append(d.all, revocationOf(c, at, reason))
	}
	slices.SortFunc(d.all, func(a, b store.Revocation) int { return strings.Compare(a.Serial, b.Serial) })
	f.cert(d.iss, pca.TypeServer, base) // not revoked
	sib := f.cert(d.sibling, pca.TypeServer, base)
	if _, err := f.s.RevokeCertificate(f.ctx, sib.AccountID, sib.Identifier, revokedAt, pca.ReasonUnspecified); err != nil {
		t.Fatalf("RevokeCertificate(sibling): %v", err)
	}
	return d
}

// from returns d's revocations whose NotAfter is at or after at.
func (d *revocationData) from(at time.Time) []store.Revocation {
	var out []store.Revocation
	for _, r := range d.all {
		if !msUTC(r.NotAfter).Before(msUTC(at)) {
			out = append(out, r)
		}
	}
	return out
}

func testRevocations(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.revocationData(t)
	ms := time.Millisecond
	tests := []struct {
		name string
		caID int64
		from time.Time
		n    int
	}{
		{"ok/zero-from-gives-all", d.iss.ca.ID, time.Time{}, 8},
		{"ok/long-ago", d.iss.ca.ID, base, 8},
		{"ok/expired-before-cut-left-out", d.iss.ca.ID, d.cut, 5},
		{"ok/expiring-at-from-kept", d.iss.ca.ID, d.cut.Add(-ms), 6},
		{"ok/one-ms-after-cut", d.iss.ca.ID, d.cut.Add(ms), 4},
		{"ok/other-zone-same-instant", d.iss.ca.ID, d.cut.In(time.FixedZone("UTC+09:00", 9*3600)), 5},
		{"ok/after-every-expiry", d.iss.ca.ID, d.cut.AddDate(2, 0, 0), 0},
		{"ok/sibling-issuer", d.sibling.ca.ID, time.Time{}, 1},
		{"ok/parent-has-none", d.iss.ca.ParentID, time.Time{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := f.revocations(t, tc.caID, tc.from)
			if len(got) != tc.n {
				t.Fatalf("Revocations returned %d, want %d: %+v", len(got), tc.n, got)
			}
			if tc.caID == d.iss.ca.ID {
				checkRevocations(t, got, d.from(tc.from))
			}
		})
	}
}

func testRevocationsStop(t *testing.T, open opener) {
	f := newFixture(t, open)
	d := f.revocationData(t)
	stop := errors.New("stop here")
	for _, at := range []int{1, 3, 8} {
		t.Run(fmt.Sprintf("fail/stop-at-%d", at), func(t *testing.T) {
			var seen []string
			err := f.s.Revocations(f.ctx, d.iss.ca.ID, time.Time{}, func(r store.Revocation) error {
				seen = append(seen, r.Serial)
				if len(seen) == at {
					return fmt.Errorf("wrapped: %w", stop)
				}
				return nil
			})
			if !errors.Is(err, stop) {
				t.Errorf("Revocations error = %v, want fn's error", err)
			}
			var want []string
			for _, r := range d.all[:at] {
				want = append(want, r.Serial)
			}
			if !slices.Equal(seen, want) {
				t.Errorf("fn saw %v, want %v and then no more calls", seen, want)
			}
		})
	}
}

func testRevocationsMany(t *testing.T, open opener) {
	// More than one internal batch of a backend reading 5000 rows at a time.
	// The rows are revoked sub-CAs (the cheapest contract path to a
	// revocation: one insert and one revoke, no key, tags or instance).
	const n = 5100
	if testing.Short() {
		t.Skip("creates 5100 revocations")
	}
	f := newFixture(t, open)
	acct := f.account()
	root := f.root(acct)
	cut := base.AddDate(1, 0, 0)
	expired := 0
	for i := range n {
		// Created out of serial order: 7919 is prime to n.
		k := i * 7919 % n
		ca := pca.CA{AccountID: acct.ID, Identifier: f.uuid(), ParentID: root.ID, Type: pca.CASub, Status: pca.StatusIssue,
			SerialNumber: fmt.Sprintf("%06x", k), DER: []byte{0x30, 0x00}, NotBefore: base, NotAfter: cut.Add(time.Hour), Created: base}
		if k%3 == 0 {
			ca.NotAfter = cut.Add(-time.Hour)
			expired++
		}
		if err := f.s.CreateCA(f.ctx, &ca, store.KeyRecord{}); err != nil {
			t.Fatalf("CreateCA(%d): %v", i, err)
		}
		if _, err := f.s.RevokeCA(f.ctx, acct.ID, ca.Identifier, revokedAt); err != nil {
			t.Fatalf("RevokeCA(%d): %v", i, err)
		}
	}
	tests := []struct {
		name string
		from time.Time
		want int
	}{
		{"ok/all", time.Time{}, n},
		{"ok/unexpired", cut, n - expired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := f.revocations(t, root.ID, tc.from)
			if len(got) != tc.want {
				t.Errorf("Revocations returned %d, want %d", len(got), tc.want)
			}
			for i, r := range got {
				if i > 0 && got[i-1].Serial >= r.Serial {
					t.Fatalf("serials out of order or repeated at %d: %s then %s", i, got[i-1].Serial, r.Serial)
				}
				var k int
				if _, err := fmt.Sscanf(r.Serial, "%x", &k); err != nil || k >= n || (!tc.from.IsZero() && k%3 == 0) {
					t.Fatalf("serial %s should not be listed", r.Serial)
				}
			}
		})
	}
}

// crl returns a CRL record of caID numbered n.
func crl(caID, n int64) store.CRLRecord {
	return store.CRLRecord{
		CAID: caID, Number: n, BuiltSeq: 10 * n,
		ThisUpdate: t0.Add(time.Duration(n) * time.Hour), NextUpdate: t0.Add(time.Duration(n)*time.Hour + 7*24*time.Hour),
		Entries: 3 * n, DER: []byte{0x30, 0x82, byte(n), 0x00, 0xff},
	}
}

var crlTimeNames = []string{"ThisUpdate", "NextUpdate"}

func crlTimes(r *store.CRLRecord) []*time.Time { return []*time.Time{&r.ThisUpdate, &r.NextUpdate} }

// checkCRL fails the test unless caID's stored CRL is want (or there is none
// when want is nil).
func (f *fixture) checkCRL(t *testing.T, caID int64, want *store.CRLRecord) {
	t.Helper()
	n, err := f.s.CRLNumber(f.ctx, caID)
	checkErr(t, fmt.Sprintf("CRLNumber(%d)", caID), err, nil)
	if want == nil && n != 0 || want != nil && n != want.Number {
		t.Errorf("CRLNumber(%d) = %d, want the stored CRL's number (%v)", caID, n, want)
	}
	got, err := f.s.GetCRL(f.ctx, caID)
	if want == nil {
		checkErr(t, fmt.Sprintf("GetCRL(%d)", caID), err, store.ErrNotFound)
		return
	}
	checkErr(t, fmt.Sprintf("GetCRL(%d)", caID), err, nil)
	w := *want
	if d := diffRecord(&w, &got, crlTimeNames, crlTimes(&w), crlTimes(&got)); d != "" {
		t.Errorf("GetCRL(%d) mismatch:\n%s", caID, d)
	}
}

func testCRL(t *testing.T, open opener) {
	f := newFixture(t, open)
	root := f.root(f.account())
	x, y := f.sub(root).ca, f.sub(root).ca
	f.checkCRL(t, x.ID, nil)
	f.checkCRL(t, y.ID, nil)
	other := crl(x.ID, 1)
	other.DER = []byte{0x30, 0x00, 0xee}
	steps := []struct {
		name   string
		put    store.CRLRecord
		want   error
		stored int64 // number of x's stored CRL afterwards
	}{
		{"ok/first", crl(x.ID, 1), nil, 1},
		{"fail/same-number", other, store.ErrConflict, 1},
		{"fail/lower-number", crl(x.ID, 0), store.ErrConflict, 1},
		{"ok/greater-number", crl(x.ID, 5), nil, 5},
		{"fail/between", crl(x.ID, 3), store.ErrConflict, 5},
		{"ok/next", crl(x.ID, 6), nil, 6},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			checkErr(t, "PutCRL", f.s.PutCRL(f.ctx, st.put), st.want)
			want := crl(x.ID, st.stored)
			f.checkCRL(t, x.ID, &want)
			f.checkCRL(t, y.ID, nil)
		})
	}
	t.Run("ok/numbered-per-ca", func(t *testing.T) {
		first := crl(y.ID, 1)
		checkErr(t, "PutCRL(other CA)", f.s.PutCRL(f.ctx, first), nil)
		f.checkCRL(t, y.ID, &first)
		want := crl(x.ID, 6)
		f.checkCRL(t, x.ID, &want)
	})
}

func testCRLConcurrent(t *testing.T, open opener) {
	const writers = 8
	tests := []struct {
		name   string
		number func(i int) int64
		ok     int // how many PutCRL calls must succeed (-1: at least one)
		final  int64
	}{
		{"ok/same-number-one-wins", func(int) int64 { return 4 }, 1, 4},
		{"ok/greatest-number-wins", func(i int) int64 { return int64(10 + i) }, -1, 10 + writers - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			ca := f.root(f.account())
			recs := make([]store.CRLRecord, writers)
			for i := range recs {
				recs[i] = crl(ca.ID, tc.number(i))
				recs[i].DER = append(recs[i].DER, byte(i))
			}
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i := range recs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = f.s.PutCRL(f.ctx, recs[i])
				}()
			}
			wg.Wait()
			ok, winner := 0, -1
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
					if winner < 0 || recs[i].Number >= recs[winner].Number {
						winner = i
					}
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("writer %d: %v", i, err)
				}
			}
			if (tc.ok >= 0 && ok != tc.ok) || ok == 0 {
				t.Fatalf("%d PutCRL calls succeeded, want %d", ok, tc.ok)
			}
			got, err := f.s.GetCRL(f.ctx, ca.ID)
			checkErr(t, "GetCRL", err, nil)
			if got.Number != tc.final || !bytes.Equal(got.DER, recs[winner].DER) {
				t.Errorf("stored CRL = number %d, DER %x; want number %d, DER %x", got.Number, got.DER, tc.final, recs[winner].DER)
			}
		})
	}
}
