package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// rootWithInstance creates a root CA of acct with a default instance (the
// pool its sub-CAs draw on).
func (f *fixture) rootWithInstance(acct pca.Account) pca.CA {
	f.t.Helper()
	ca, key := f.newCA(acct, nil)
	ca.InstanceUUID = f.uuid()
	if err := f.s.CreateCA(f.ctx, &ca, key); err != nil {
		f.t.Fatalf("CreateCA(root with instance): %v", err)
	}
	return ca
}

// getCA reads a CA and fails the test on error.
func (f *fixture) getCA(t *testing.T, accountID int64, identifier string) pca.CA {
	t.Helper()
	ca, err := f.s.GetCA(f.ctx, accountID, identifier)
	if err != nil {
		t.Fatalf("GetCA(%d, %s): %v", accountID, identifier, err)
	}
	return ca
}

// getCert reads a certificate and fails the test on error.
func (f *fixture) getCert(t *testing.T, accountID int64, identifier string) pca.Certificate {
	t.Helper()
	c, err := f.s.GetCertificate(f.ctx, accountID, identifier)
	if err != nil {
		t.Fatalf("GetCertificate(%d, %s): %v", accountID, identifier, err)
	}
	return c
}

// revSeq reads a CA's revocation sequence and fails the test on error.
func (f *fixture) revSeq(t *testing.T, caID int64) int64 {
	t.Helper()
	n, err := f.s.RevocationSeq(f.ctx, caID)
	if err != nil {
		t.Fatalf("RevocationSeq(%d): %v", caID, err)
	}
	return n
}

// diffCAAll is diffCA that also compares RevokedAt (millisecond UTC).
func diffCAAll(want, got pca.CA) string {
	for _, c := range []*pca.CA{&want, &got} {
		c.Tags, c.ExtendedKeyUsages, c.DER = byKey(c.Tags), emptyNil(c.ExtendedKeyUsages), emptyNil(c.DER)
	}
	names := []string{"NotBefore", "NotAfter", "RevokedAt", "Created"}
	times := func(c *pca.CA) []*time.Time { return []*time.Time{&c.NotBefore, &c.NotAfter, &c.RevokedAt, &c.Created} }
	return diffRecord(&want, &got, names, times(&want), times(&got))
}

// checkCAUnchanged fails the test unless the stored CA equals want.
func (f *fixture) checkCAUnchanged(t *testing.T, want pca.CA, why string) {
	t.Helper()
	if d := diffCAAll(want, f.getCA(t, want.AccountID, want.Identifier)); d != "" {
		t.Errorf("CA %s changed by %s:\n%s", want.Identifier, why, d)
	}
}

// checkCANotStored fails the test if anything of a refused CreateCA of ca
// (with key ref) can be read: the CA and its tags (unless identifierTaken:
// then the identifier names another CA), its key and its instance (unless
// instanceTaken: then the UUID names another CA's instance).
func (f *fixture) checkCANotStored(t *testing.T, ca pca.CA, ref string, identifierTaken, instanceTaken bool) {
	t.Helper()
	if !identifierTaken {
		if _, err := f.s.GetCA(f.ctx, ca.AccountID, ca.Identifier); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetCA(%s) of a refused CreateCA: error = %v, want ErrNotFound", ca.Identifier, err)
		}
		tags, err := f.s.GetTags(f.ctx, ca.AccountID, []string{ca.Identifier})
		checkErr(t, "GetTags", err, nil)
		if len(tags[ca.Identifier]) != 0 {
			t.Errorf("tags of a refused CreateCA stored: %v", tags[ca.Identifier])
		}
	}
	if _, err := f.s.GetKey(f.ctx, ca.AccountID, ref); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetKey(%s) of a refused CreateCA: error = %v, want ErrNotFound", ref, err)
	}
	if ca.InstanceUUID != "" && !instanceTaken {
		if in, err := f.s.GetInstance(f.ctx, ca.AccountID, ca.InstanceUUID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetInstance(%s) of a refused CreateCA = %+v, %v; want ErrNotFound", ca.InstanceUUID, in, err)
		}
	}
}

func testCreateCAInstances(t *testing.T, open opener) {
	tests := []struct {
		name         string
		sub          bool
		rootInstance bool
	}{
		{"ok/root-with-instance", false, true},
		{"ok/sub-of-root-with-instance", true, true},
		{"ok/sub-of-root-without-instance", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			acct := f.account()
			f.rootWithInstance(f.account()) // another account's CA and instance, created first
			var root pca.CA
			if tc.rootInstance {
				root = f.rootWithInstance(acct)
			} else {
				root = f.root(acct)
			}
			ca := root
			if tc.sub {
				ca = f.sub(root).ca
			}
			got := f.getCA(t, acct.ID, ca.Identifier)
			if !strings.EqualFold(got.InstanceUUID, ca.InstanceUUID) || got.InstanceUUID == "" {
				t.Fatalf("GetCA InstanceUUID = %q, want %q", got.InstanceUUID, ca.InstanceUUID)
			}
			in := f.instance(acct.ID, ca.InstanceUUID)
			want := pca.Instance{ID: in.ID, AccountID: acct.ID, UUID: in.UUID, CAID: ca.ID}
			if in.ID <= 0 || in != want || !strings.EqualFold(in.UUID, ca.InstanceUUID) {
				t.Errorf("instance = %+v, want %+v with ID > 0 and UUID %s", in, want, ca.InstanceUUID)
			}
			list, total, err := f.s.ListInstances(f.ctx, acct.ID, ca.ID, 0, 10)
			checkErr(t, "ListInstances(ca)", err, nil)
			if total != 1 || len(list) != 1 || list[0] != in {
				t.Errorf("ListInstances(ca) = %+v, total %d; want [%+v], total 1", list, total, in)
			}
		})
	}
	t.Run("ok/root-without-instance-has-none", func(t *testing.T) {
		f := newFixture(t, open)
		acct := f.account()
		root := f.root(acct)
		if got := f.getCA(t, acct.ID, root.Identifier); got.InstanceUUID != "" {
			t.Errorf("GetCA InstanceUUID = %q, want none", got.InstanceUUID)
		}
		list, total, err := f.s.ListInstances(f.ctx, acct.ID, root.ID, 0, 10)
		checkErr(t, "ListInstances(root)", err, nil)
		if total != 0 || len(list) != 0 {
			t.Errorf("ListInstances(root) = %+v, total %d; want none", list, total)
		}
	})
}

func testCreateSubDraws(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	root := f.rootWithInstance(acct)
	other := f.rootWithInstance(acct)
	for n := int64(1); n <= 3; n++ {
		sub := f.sub(root)
		if in := f.instance(acct.ID, root.InstanceUUID); in.Issued != n {
			t.Errorf("after %d sub-CAs: root instance Issued = %d, want %d", n, in.Issued, n)
		}
		if sub.inst.Issued != 0 {
			t.Errorf("new sub-CA's own instance Issued = %d, want 0", sub.inst.Issued)
		}
	}
	if in := f.instance(acct.ID, other.InstanceUUID); in.Issued != 0 {
		t.Errorf("other root's instance Issued = %d, want 0", in.Issued)
	}
}

func testCreateSubNoParentInstance(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	root := f.root(acct) // no instance
	limited := f.rootWithInstance(acct)
	checkErr(t, "SetInstanceQuota", f.s.SetInstanceQuota(f.ctx, acct.ID, limited.InstanceUUID, 1), nil)
	f.sub(limited)
	for i := range 5 {
		ca, key := f.newCA(acct, &root)
		checkErr(t, fmt.Sprintf("CreateCA(sub %d of a root without instance)", i), f.s.CreateCA(f.ctx, &ca, key), nil)
	}
	if in := f.instance(acct.ID, limited.InstanceUUID); in.Issued != 1 {
		t.Errorf("unrelated root instance Issued = %d, want 1", in.Issued)
	}
	if _, total, err := f.s.ListCAs(f.ctx, acct.ID, store.CAQuery{Type: pca.CASub, Limit: 100}); err != nil || total != 6 {
		t.Errorf("ListCAs(SUB_ROOT) total = %d, %v; want 6", total, err)
	}
}

func testCreateCARefused(t *testing.T, open opener) {
	tests := []struct {
		name  string
		quota int64 // of the root's instance, which has given two sub-CAs
		edit  func(ca *pca.CA, taken issuer)
		want  error
		// identifierTaken and instanceTaken: ca reuses taken's value
		identifierTaken, instanceTaken bool
	}{
		{"fail/parent-instance-exhausted", 2, func(*pca.CA, issuer) {}, store.ErrQuota, false, false},
		{"fail/parent-instance-below-issued", 1, func(*pca.CA, issuer) {}, store.ErrQuota, false, false},
		{"fail/instance-uuid-taken", 0, func(ca *pca.CA, taken issuer) {
			ca.InstanceUUID = taken.inst.UUID
		}, store.ErrConflict, false, true},
		{"fail/instance-uuid-taken-other-case", 0, func(ca *pca.CA, taken issuer) {
			ca.InstanceUUID = strings.ToUpper(taken.inst.UUID)
		}, store.ErrConflict, false, true},
		{"fail/identifier-taken", 0, func(ca *pca.CA, taken issuer) {
			ca.Identifier = taken.ca.Identifier
		}, store.ErrConflict, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			acct := f.account()
			root := f.rootWithInstance(acct)
			s1, s2 := f.sub(root), f.sub(root)
			checkErr(t, "SetInstanceQuota", f.s.SetInstanceQuota(f.ctx, acct.ID, root.InstanceUUID, tc.quota), nil)
			ca, key := f.newCA(acct, &root)
			tc.edit(&ca, s1)
			checkErr(t, "CreateCA", f.s.CreateCA(f.ctx, &ca, key), tc.want)

			f.checkCANotStored(t, ca, key.Ref, tc.identifierTaken, tc.instanceTaken)
			if in := f.instance(acct.ID, root.InstanceUUID); in.Issued != 2 {
				t.Errorf("root instance Issued = %d after a refused CreateCA, want 2", in.Issued)
			}
			for _, iss := range []issuer{s1, s2} {
				f.checkCAUnchanged(t, iss.ca, "a refused CreateCA")
				if in := f.instance(acct.ID, iss.inst.UUID); in != iss.inst {
					t.Errorf("instance %s = %+v after a refused CreateCA, want %+v", iss.inst.UUID, in, iss.inst)
				}
			}
			if _, total, err := f.s.ListCAs(f.ctx, acct.ID, store.CAQuery{Limit: 100}); err != nil || total != 3 {
				t.Errorf("ListCAs total = %d, %v; want 3", total, err)
			}
			if _, total, err := f.s.ListInstances(f.ctx, acct.ID, 0, 0, 100); err != nil || total != 3 {
				t.Errorf("ListInstances total = %d, %v; want 3", total, err)
			}
			if tc.want != store.ErrQuota {
				return
			}
			// Nothing of the refused call is left to conflict with the retry.
			checkErr(t, "SetInstanceQuota(3)", f.s.SetInstanceQuota(f.ctx, acct.ID, root.InstanceUUID, 3), nil)
			ca.ID = 0
			checkErr(t, "CreateCA(retry under a raised quota)", f.s.CreateCA(f.ctx, &ca, key), nil)
			if in := f.instance(acct.ID, root.InstanceUUID); in.Issued != 3 {
				t.Errorf("root instance Issued = %d after the retry, want 3", in.Issued)
			}
		})
	}
}

// revocationNames and revocationTimes feed diffRecord for store.Revocation.
var revocationNames = []string{"RevokedAt", "NotAfter"}

func revocationTimes(r *store.Revocation) []*time.Time {
	return []*time.Time{&r.RevokedAt, &r.NotAfter}
}

// diffRevocation compares two revocations (see diffRecord).
func diffRevocation(want, got store.Revocation) string {
	return diffRecord(&want, &got, revocationNames, revocationTimes(&want), revocationTimes(&got))
}

func testRevokeCA(t *testing.T, open opener) {
	tests := []struct {
		name string
		sub  bool
	}{
		{"root", false},
		{"sub", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			acct := f.account()
			root := f.rootWithInstance(acct)
			iss, sibling := f.sub(root), f.sub(root)
			target, other := root, iss.ca
			if tc.sub {
				target, other = iss.ca, root
			}
			parentSeq := f.revSeq(t, root.ID)
			got, err := f.s.RevokeCA(f.ctx, acct.ID, target.Identifier, revokedAt)
			checkErr(t, "RevokeCA", err, nil)
			want := target
			want.Status, want.RevokedAt = pca.StatusRevoke, revokedAt

			t.Run("ok/stored", func(t *testing.T) {
				if d := diffCAAll(want, f.getCA(t, acct.ID, target.Identifier)); d != "" {
					t.Errorf("GetCA after RevokeCA mismatch:\n%s", d)
				}
			})
			t.Run("ok/result", func(t *testing.T) {
				w, g := want, got
				w.DER, g.DER = nil, nil // as for RevokeCertificate, DER in the result is not promised
				if d := diffCAAll(w, g); d != "" {
					t.Errorf("RevokeCA result mismatch:\n%s", d)
				}
			})
			t.Run("ok/listed-as-revoked", func(t *testing.T) {
				cas, total, err := f.s.ListCAs(f.ctx, acct.ID, store.CAQuery{Status: pca.StatusRevoke, Limit: 10})
				checkErr(t, "ListCAs(REVOKE)", err, nil)
				if total != 1 || len(cas) != 1 || cas[0].Identifier != target.Identifier {
					t.Errorf("ListCAs(REVOKE) = %d items, total %d; want only %s", len(cas), total, target.Identifier)
				}
			})
			t.Run("ok/others-unchanged", func(t *testing.T) {
				f.checkCAUnchanged(t, other, "revoking another CA")
				f.checkCAUnchanged(t, sibling.ca, "revoking another CA")
			})
			if !tc.sub {
				return
			}
			t.Run("ok/serial-revoked-under-parent", func(t *testing.T) {
				r, err := f.s.RevocationByIssuerSerial(f.ctx, root.ID, target.SerialNumber)
				checkErr(t, "RevocationByIssuerSerial(parent, sub serial)", err, nil)
				wantRev := store.Revocation{Serial: target.SerialNumber, RevokedAt: revokedAt, Reason: r.Reason, NotAfter: target.NotAfter}
				if d := diffRevocation(wantRev, r); d != "" {
					t.Errorf("revocation of the sub-CA mismatch (reason not checked):\n%s", d)
				}
				if got := f.revocations(t, root.ID, time.Time{}); len(got) != 1 || got[0].Serial != target.SerialNumber {
					t.Errorf("Revocations(parent) = %+v, want only serial %s", got, target.SerialNumber)
				}
				if s := f.revSeq(t, root.ID); s <= parentSeq {
					t.Errorf("parent RevocationSeq = %d after revoking a sub-CA, want > %d", s, parentSeq)
				}
			})
			t.Run("ok/not-under-itself", func(t *testing.T) {
				_, err := f.s.RevocationByIssuerSerial(f.ctx, target.ID, target.SerialNumber)
				checkErr(t, "RevocationByIssuerSerial(sub, own serial)", err, store.ErrNotFound)
			})
		})
	}
}

func testRevokeCATwice(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	root := f.rootWithInstance(acct)
	sub := f.sub(root).ca
	for _, ca := range []pca.CA{sub, root} {
		_, err := f.s.RevokeCA(f.ctx, acct.ID, ca.Identifier, revokedAt)
		checkErr(t, "RevokeCA(first)", err, nil)
	}
	seq := f.revSeq(t, root.ID)
	for _, ca := range []pca.CA{sub, root} {
		t.Run("fail/"+string(ca.Type), func(t *testing.T) {
			_, err := f.s.RevokeCA(f.ctx, acct.ID, ca.Identifier, revokedAt.Add(time.Hour))
			checkErr(t, "RevokeCA(second)", err, store.ErrState)
			want := ca
			want.Status, want.RevokedAt = pca.StatusRevoke, revokedAt
			f.checkCAUnchanged(t, want, "a refused second RevokeCA")
			if s := f.revSeq(t, root.ID); s != seq {
				t.Errorf("parent RevocationSeq = %d after a refused RevokeCA, want %d", s, seq)
			}
			r, err := f.s.RevocationByIssuerSerial(f.ctx, root.ID, sub.SerialNumber)
			checkErr(t, "RevocationByIssuerSerial", err, nil)
			if !r.RevokedAt.Equal(msUTC(revokedAt)) {
				t.Errorf("sub-CA revocation time = %s, want the first %s", fmtTime(r.RevokedAt), fmtTime(msUTC(revokedAt)))
			}
		})
	}
}

func testRevokeCANotFound(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct, other := f.account(), f.account()
	root := f.rootWithInstance(acct)
	sub := f.sub(root).ca
	f.rootWithInstance(other)
	seq := f.revSeq(t, root.ID)
	tests := []struct {
		name    string
		account int64
		ident   string
	}{
		{"fail/other-account", other.ID, sub.Identifier},
		{"fail/other-account-root", other.ID, root.Identifier},
		{"fail/unknown-identifier", acct.ID, f.uuid()},
		{"fail/instance-uuid", acct.ID, sub.InstanceUUID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.RevokeCA(f.ctx, tc.account, tc.ident, revokedAt)
			checkErr(t, fmt.Sprintf("RevokeCA(%d, %s)", tc.account, tc.ident), err, store.ErrNotFound)
			f.checkCAUnchanged(t, sub, "a refused RevokeCA")
			f.checkCAUnchanged(t, root, "a refused RevokeCA")
			_, err = f.s.RevocationByIssuerSerial(f.ctx, root.ID, sub.SerialNumber)
			checkErr(t, "RevocationByIssuerSerial", err, store.ErrNotFound)
			if s := f.revSeq(t, root.ID); s != seq {
				t.Errorf("RevocationSeq = %d after a refused RevokeCA, want %d", s, seq)
			}
		})
	}
}

func testUpdateCA(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct, other := f.account(), f.account()
	bystander := f.root(acct)
	tests := []struct {
		name         string
		alias, group *string
	}{
		{"ok/alias-only", ptr("new alias"), nil},
		{"ok/group-only", nil, ptr("rg-moved")},
		{"ok/both", ptr("both changed"), ptr("rg-both")},
		{"ok/neither", nil, nil},
		{"ok/clear-alias", ptr(""), nil},
		{"ok/clear-group", nil, ptr("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ca := f.sub(f.root(acct)).ca
			checkErr(t, "UpdateCA", f.s.UpdateCA(f.ctx, acct.ID, ca.Identifier, tc.alias, tc.group), nil)
			want := ca
			if tc.alias != nil {
				want.AliasName = *tc.alias
			}
			if tc.group != nil {
				want.ResourceGroupID = *tc.group
			}
			if d := diffCAAll(want, f.getCA(t, acct.ID, ca.Identifier)); d != "" {
				t.Errorf("GetCA after UpdateCA mismatch:\n%s", d)
			}
			if want.ResourceGroupID != "" {
				cas, _, err := f.s.ListCAs(f.ctx, acct.ID, store.CAQuery{ResourceGroupID: want.ResourceGroupID, Identifiers: []string{ca.Identifier}, Limit: 10})
				checkErr(t, "ListCAs(group)", err, nil)
				if len(cas) != 1 {
					t.Errorf("ListCAs(ResourceGroupID %q) does not list the updated CA", want.ResourceGroupID)
				}
			}
			f.checkCAUnchanged(t, bystander, "UpdateCA of another CA")
		})
	}
	target := f.root(acct)
	fails := []struct {
		name    string
		account int64
		ident   string
	}{
		{"fail/other-account", other.ID, target.Identifier},
		{"fail/unknown-identifier", acct.ID, f.uuid()},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			err := f.s.UpdateCA(f.ctx, tc.account, tc.ident, ptr("hijacked"), ptr("rg-hijacked"))
			checkErr(t, "UpdateCA", err, store.ErrNotFound)
			f.checkCAUnchanged(t, target, "a refused UpdateCA")
		})
	}
}

func testCAEvents(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.account(), f.account()
	ca1 := f.root(a)
	ca2 := f.sub(ca1).ca
	quiet := f.root(a)
	cb := f.root(b)
	zone := time.FixedZone("UTC-03:00", -3*3600)
	events := []store.CAEvent{
		{AccountID: a.ID, CAID: ca1.ID, OpType: "ADD", Content: `{"Identifier":"` + ca1.Identifier + `"}`, Created: t0},
		{AccountID: a.ID, CAID: ca2.ID, OpType: "ADD", Content: "sub-CA created", Created: t0.Add(time.Minute), RequestID: "9F2C-REQ"},
		{AccountID: b.ID, CAID: cb.ID, OpType: "ADD", Content: "other account", Created: t0.Add(2 * time.Minute)},
		{AccountID: a.ID, CAID: ca1.ID, OpType: "UPDATE", Content: "alias → «prod» 🔐", Created: t0.Add(time.Hour + 123*time.Microsecond)},
		{AccountID: a.ID, CAID: ca1.ID, OpType: "UPDATE", Content: "", Created: t0.Add(2 * time.Hour).In(zone)},
	}
	for i, ev := range events {
		checkErr(t, fmt.Sprintf("AddCAEvent(%d)", i), f.s.AddCAEvent(f.ctx, ev), nil)
	}
	pick := func(idx ...int) []store.CAEvent {
		var out []store.CAEvent
		for _, i := range idx {
			out = append(out, events[i])
		}
		return out
	}
	unknownEvents, unknownErr := f.s.ListCAEvents(f.ctx, a.ID, cb.ID+ca1.ID+1000)
	tests := []struct {
		name    string
		account int64
		caID    int64
		want    []store.CAEvent
		missing bool // reported as for an unknown CA id
	}{
		{"ok/oldest-first", a.ID, ca1.ID, pick(0, 3, 4), false},
		{"ok/one-event", a.ID, ca2.ID, pick(1), false},
		{"ok/other-account", b.ID, cb.ID, pick(2), false},
		{"ok/no-events", a.ID, quiet.ID, nil, false},
		{"fail/ca-of-other-account", a.ID, cb.ID, nil, true},
		{"fail/other-accounts-view", b.ID, ca1.ID, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.ListCAEvents(f.ctx, tc.account, tc.caID)
			if tc.missing {
				if (err == nil) != (unknownErr == nil) || (err != nil && !errors.Is(err, store.ErrNotFound)) || len(got) != 0 {
					t.Fatalf("ListCAEvents = %d events, %v; want what an unknown CA gives: %d events, %v", len(got), err, len(unknownEvents), unknownErr)
				}
				return
			}
			checkErr(t, "ListCAEvents", err, nil)
			if len(got) != len(tc.want) {
				t.Fatalf("ListCAEvents = %+v\nwant %+v", got, tc.want)
			}
			for i := range got {
				w, g := tc.want[i], got[i]
				if d := diffRecord(&w, &g, []string{"Created"}, []*time.Time{&w.Created}, []*time.Time{&g.Created}); d != "" {
					t.Errorf("event %d mismatch:\n%s", i, d)
				}
			}
		})
	}
	t.Run("fail/unknown-ca", func(t *testing.T) {
		if len(unknownEvents) != 0 || (unknownErr != nil && !errors.Is(unknownErr, store.ErrNotFound)) {
			t.Errorf("ListCAEvents(unknown CA) = %+v, %v; want nothing or ErrNotFound", unknownEvents, unknownErr)
		}
	})
}

func testInstanceByID(t *testing.T, open opener) {
	f := newFixture(t, open)
	a := f.account()
	root := f.rootWithInstance(a)
	s1, s2 := f.sub(root), f.sub(root)
	f.cert(s1, pca.TypeServer, t0)
	theirs := f.issuerOf()
	for _, uuid := range []string{root.InstanceUUID, s1.inst.UUID, s2.inst.UUID} {
		want := f.instance(a.ID, uuid)
		t.Run("ok/"+uuid, func(t *testing.T) {
			got, err := f.s.GetInstanceByID(f.ctx, a.ID, want.ID)
			checkErr(t, "GetInstanceByID", err, nil)
			if got != want {
				t.Errorf("GetInstanceByID(%d) = %+v, want %+v", want.ID, got, want)
			}
		})
	}
	tests := []struct {
		name    string
		account int64
		id      int64
	}{
		{"fail/other-account", a.ID, theirs.inst.ID},
		{"fail/other-accounts-view", theirs.ca.AccountID, s1.inst.ID},
		{"fail/unknown-id", a.ID, theirs.inst.ID + 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.GetInstanceByID(f.ctx, tc.account, tc.id)
			checkErr(t, fmt.Sprintf("GetInstanceByID(%d, %d)", tc.account, tc.id), err, store.ErrNotFound)
		})
	}
}

func testListInstances(t *testing.T, open opener) {
	f := newFixture(t, open)
	a := f.account()
	root := f.rootWithInstance(a)
	theirs := f.issuerOf() // between A's instances
	s1 := f.sub(root)
	f.issuerOf()
	s2 := f.sub(root)
	f.cert(s1, pca.TypeServer, t0)
	f.cert(s1, pca.TypeClient, t0)
	checkErr(t, "SetInstanceQuota", f.s.SetInstanceQuota(f.ctx, a.ID, s2.inst.UUID, 9), nil)
	r, i1, i2 := f.instance(a.ID, root.InstanceUUID), f.instance(a.ID, s1.inst.UUID), f.instance(a.ID, s2.inst.UUID)
	tb := f.instance(theirs.ca.AccountID, theirs.inst.UUID)
	tests := []struct {
		name    string
		account int64
		caID    int64
		offset  int64
		limit   int
		want    []pca.Instance
		total   int64
	}{
		{"ok/all-oldest-first", a.ID, 0, 0, 10, []pca.Instance{r, i1, i2}, 3},
		{"ok/one-sub-ca", a.ID, s1.ca.ID, 0, 10, []pca.Instance{i1}, 1},
		{"ok/root-ca", a.ID, root.ID, 0, 10, []pca.Instance{r}, 1},
		{"ok/first-page", a.ID, 0, 0, 2, []pca.Instance{r, i1}, 3},
		{"ok/middle-page", a.ID, 0, 1, 1, []pca.Instance{i1}, 3},
		{"ok/last-page", a.ID, 0, 2, 2, []pca.Instance{i2}, 3},
		{"ok/offset-at-end", a.ID, 0, 3, 10, nil, 3},
		{"ok/other-account", theirs.ca.AccountID, 0, 0, 10, []pca.Instance{tb}, 1},
		{"fail/ca-of-other-account", a.ID, theirs.ca.ID, 0, 10, nil, 0},
		{"fail/other-accounts-view-of-ca", theirs.ca.AccountID, s1.ca.ID, 0, 10, nil, 0},
		{"fail/unknown-account", a.ID + theirs.ca.AccountID + 100, 0, 0, 10, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := f.s.ListInstances(f.ctx, tc.account, tc.caID, tc.offset, tc.limit)
			checkErr(t, "ListInstances", err, nil)
			if !slices.Equal(emptyNil(got), tc.want) || total != tc.total {
				t.Errorf("ListInstances = %+v, total %d\nwant %+v, total %d", got, total, tc.want, tc.total)
			}
		})
	}
}

func testCreateCAParentOfOtherAccount(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.account(), f.account()
	theirs := f.rootWithInstance(a)
	checkErr(t, "SetInstanceQuota", f.s.SetInstanceQuota(f.ctx, a.ID, theirs.InstanceUUID, 1), nil)
	f.sub(theirs) // exhausts A's root instance
	own := f.root(b)

	missing, missingKey := f.newCA(b, &own)
	missing.ParentID = theirs.ID + own.ID + 1000
	errMissing := f.s.CreateCA(f.ctx, &missing, missingKey)
	foreign, foreignKey := f.newCA(b, &theirs)
	errForeign := f.s.CreateCA(f.ctx, &foreign, foreignKey)

	// Another account's parent is reported exactly as a missing one.
	if (errMissing == nil) != (errForeign == nil) || errors.Is(errMissing, store.ErrNotFound) != errors.Is(errForeign, store.ErrNotFound) {
		t.Errorf("CreateCA under another account's CA: error = %v; under a missing CA: error = %v; want the same outcome", errForeign, errMissing)
	}
	if errForeign == nil {
		if got := f.getCA(t, b.ID, foreign.Identifier); got.ParentIdentifier == theirs.Identifier {
			t.Errorf("GetCA returns another account's CA identifier %s as ParentIdentifier", theirs.Identifier)
		}
		return
	}
	f.checkCANotStored(t, foreign, foreignKey.Ref, false, false)
	if in := f.instance(a.ID, theirs.InstanceUUID); in.Issued != 1 {
		t.Errorf("other account's root instance Issued = %d, want 1", in.Issued)
	}
}
