package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

func testCARoundTrip(t *testing.T, open opener) {
	tests := []struct {
		name string
		sub  bool
	}{
		{"ok/root", false},
		{"ok/sub", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			acct := f.account()
			f.root(f.account()) // another account's CA, created first
			var parent *pca.CA
			if tc.sub {
				root := f.root(acct)
				parent = &root
			}
			ca, key := f.newCA(acct, parent)
			checkErr(t, "CreateCA", f.s.CreateCA(f.ctx, &ca, key), nil)
			if ca.ID <= 0 {
				t.Fatalf("CreateCA: ID = %d, want > 0", ca.ID)
			}
			want := ca
			if parent != nil {
				want.ParentIdentifier = parent.Identifier // filled by the store
				if parent.ID == ca.ID {
					t.Fatalf("sub-CA got its parent's ID %d", ca.ID)
				}
			}
			got, err := f.s.GetCA(f.ctx, acct.ID, ca.Identifier)
			checkErr(t, "GetCA", err, nil)
			if d := diffCA(want, got); d != "" {
				t.Errorf("GetCA mismatch:\n%s", d)
			}
			got, err = f.s.GetCAByID(f.ctx, acct.ID, ca.ID)
			checkErr(t, "GetCAByID", err, nil)
			if d := diffCA(want, got); d != "" {
				t.Errorf("GetCAByID mismatch:\n%s", d)
			}
			untagged := want
			untagged.Tags = nil
			got, err = f.s.GetCAUntagged(f.ctx, acct.ID, ca.Identifier)
			checkErr(t, "GetCAUntagged", err, nil)
			if d := diffCA(untagged, got); d != "" {
				t.Errorf("GetCAUntagged mismatch:\n%s", d)
			}
		})
	}
}

func testCAStoresKey(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	root, rootKey := f.newCA(acct, nil)
	checkErr(t, "CreateCA(root)", f.s.CreateCA(f.ctx, &root, rootKey), nil)
	sub, subKey := f.newCA(acct, &root)
	checkErr(t, "CreateCA(sub)", f.s.CreateCA(f.ctx, &sub, subKey), nil)
	for _, key := range []store.KeyRecord{rootKey, subKey} {
		got, err := f.s.GetKey(f.ctx, acct.ID, key.Ref)
		checkErr(t, "GetKey("+key.Ref+")", err, nil)
		if d := diffKey(key, got); d != "" {
			t.Errorf("GetKey(%s) mismatch:\n%s", key.Ref, d)
		}
	}
}

func testCANotFound(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.account(), f.account()
	ca := f.sub(f.root(a)).ca
	tests := []struct {
		name    string
		account int64
		ident   string
		id      int64
	}{
		{"fail/other-account", b.ID, ca.Identifier, ca.ID},
		{"fail/unknown", a.ID, f.uuid(), ca.ID + 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.GetCA(f.ctx, tc.account, tc.ident)
			checkErr(t, fmt.Sprintf("GetCA(%d, %s)", tc.account, tc.ident), err, store.ErrNotFound)
			_, err = f.s.GetCAByID(f.ctx, tc.account, tc.id)
			checkErr(t, fmt.Sprintf("GetCAByID(%d, %d)", tc.account, tc.id), err, store.ErrNotFound)
			_, err = f.s.GetCAUntagged(f.ctx, tc.account, tc.ident)
			checkErr(t, fmt.Sprintf("GetCAUntagged(%d, %s)", tc.account, tc.ident), err, store.ErrNotFound)
		})
	}
}

func testCADuplicate(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	first := f.root(acct)
	dup, key := f.newCA(acct, nil)
	dup.Identifier = first.Identifier
	checkErr(t, "CreateCA(duplicate identifier)", f.s.CreateCA(f.ctx, &dup, key), store.ErrConflict)
	_, err := f.s.GetKey(f.ctx, acct.ID, key.Ref)
	checkErr(t, "GetKey(key of the refused CA)", err, store.ErrNotFound)
	got, err := f.s.GetCA(f.ctx, acct.ID, first.Identifier)
	checkErr(t, "GetCA", err, nil)
	if d := diffCA(first, got); d != "" {
		t.Errorf("CA changed by a refused CreateCA:\n%s", d)
	}
}

func testDefaultInstance(t *testing.T, open opener) {
	created := []struct {
		name string
		norm func(string) string
	}{
		{"created-lower-case", strings.ToLower},
		{"created-upper-case", strings.ToUpper},
	}
	lookups := []struct {
		name string
		norm func(string) string
	}{
		{"as-created", func(s string) string { return s }},
		{"upper-case", strings.ToUpper},
		{"lower-case", strings.ToLower},
	}
	for _, cr := range created {
		t.Run(cr.name, func(t *testing.T) {
			f := newFixture(t, open)
			acct := f.account()
			root := f.root(acct)
			sub, key := f.newCA(acct, &root)
			sub.InstanceUUID = cr.norm(sub.InstanceUUID)
			checkErr(t, "CreateCA(sub)", f.s.CreateCA(f.ctx, &sub, key), nil)
			for _, lk := range lookups {
				t.Run("ok/"+lk.name, func(t *testing.T) {
					uuid := lk.norm(sub.InstanceUUID)
					got, err := f.s.GetInstance(f.ctx, acct.ID, uuid)
					checkErr(t, "GetInstance("+uuid+")", err, nil)
					if !strings.EqualFold(got.UUID, sub.InstanceUUID) {
						t.Errorf("instance UUID = %q, want %q in any case", got.UUID, sub.InstanceUUID)
					}
					want := pca.Instance{ID: got.ID, AccountID: acct.ID, UUID: got.UUID, CAID: sub.ID}
					if got.ID <= 0 || got != want {
						t.Errorf("GetInstance(%s) = %+v, want %+v with ID > 0", uuid, got, want)
					}
				})
			}
			t.Run("ok/ca-names-its-instance", func(t *testing.T) {
				got, err := f.s.GetCA(f.ctx, acct.ID, sub.Identifier)
				checkErr(t, "GetCA(sub)", err, nil)
				if !strings.EqualFold(got.InstanceUUID, sub.InstanceUUID) {
					t.Errorf("sub-CA InstanceUUID = %q, want %q", got.InstanceUUID, sub.InstanceUUID)
				}
			})
		})
	}
}

func testInstanceNotFound(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.account(), f.account()
	root := f.root(a)
	iss := f.sub(root)
	tests := []struct {
		name    string
		account int64
		uuid    string
	}{
		{"fail/other-account", b.ID, iss.inst.UUID},
		{"fail/unknown-uuid", a.ID, f.uuid()},
		{"fail/root-ca-identifier", a.ID, root.Identifier},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.GetInstance(f.ctx, tc.account, tc.uuid)
			checkErr(t, fmt.Sprintf("GetInstance(%d, %s)", tc.account, tc.uuid), err, store.ErrNotFound)
		})
	}
}
