package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

func testCreateAccount(t *testing.T, open opener) {
	f := newFixture(t, open)
	key := store.AccessKeyRecord{ID: "AKIDowner0001", SecretSealed: []byte{0, 1, 0xfe, 0xff}, Active: true, Created: t0}
	a, p, err := f.s.CreateAccount(f.ctx, "Example Corp", key, t0)
	checkErr(t, "CreateAccount", err, nil)
	if a.ID <= 0 || a.Name != "Example Corp" {
		t.Errorf("account = %+v, want ID > 0 and Name %q", a, "Example Corp")
	}
	if !a.Created.Equal(msUTC(t0)) || a.Created.Location() != time.UTC {
		t.Errorf("account Created = %s, want %s", fmtTime(a.Created), fmtTime(msUTC(t0)))
	}
	if p.ID <= 0 || p.AccountID != a.ID || !p.Owner {
		t.Errorf("principal = %+v, want ID > 0, AccountID %d, Owner", p, a.ID)
	}
	b := f.account()
	if b.ID == a.ID {
		t.Errorf("second account has the same ID %d", b.ID)
	}
}

func testCountAccounts(t *testing.T, open opener) {
	f := newFixture(t, open)
	for want := int64(0); want <= 3; want++ {
		if want > 0 {
			f.account()
		}
		n, err := f.s.CountAccounts(f.ctx)
		checkErr(t, "CountAccounts", err, nil)
		if n != want {
			t.Errorf("CountAccounts after %d creations = %d, want %d", want, n, want)
		}
	}
}

func testGetAccessKey(t *testing.T, open opener) {
	tests := []struct {
		name string
		key  store.AccessKeyRecord
	}{
		{"ok/active", store.AccessKeyRecord{ID: "AKIDactive", SecretSealed: []byte{0, 0, 1, 0x80, 0xff}, Active: true}},
		{"ok/inactive", store.AccessKeyRecord{ID: "AKIDinactive", SecretSealed: bytes.Repeat([]byte{0xa5, 0}, 40)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			f.account() // another account's key must not be returned instead
			tc.key.Created = t0
			a, p, err := f.s.CreateAccount(f.ctx, "owner of "+tc.key.ID, tc.key, t0)
			checkErr(t, "CreateAccount", err, nil)
			got, err := f.s.GetAccessKey(f.ctx, tc.key.ID)
			checkErr(t, "GetAccessKey", err, nil)
			want := tc.key
			want.AccountID, want.PrincipalID = a.ID, p.ID
			if d := diffRecord(&want, &got, []string{"Created"}, []*time.Time{&want.Created}, []*time.Time{&got.Created}); d != "" {
				t.Errorf("GetAccessKey mismatch:\n%s", d)
			}
		})
	}
	t.Run("fail/unknown-id", func(t *testing.T) {
		f := newFixture(t, open)
		f.account()
		_, err := f.s.GetAccessKey(f.ctx, "AKIDnosuchkey")
		checkErr(t, "GetAccessKey(unknown)", err, store.ErrNotFound)
	})
}

func testDuplicateAccessKey(t *testing.T, open opener) {
	f := newFixture(t, open)
	key := store.AccessKeyRecord{ID: "AKIDdup", SecretSealed: []byte("first"), Active: true, Created: t0}
	a, _, err := f.s.CreateAccount(f.ctx, "first", key, t0)
	checkErr(t, "CreateAccount(first)", err, nil)
	key.SecretSealed = []byte("second")
	_, _, err = f.s.CreateAccount(f.ctx, "second", key, t0.Add(time.Hour))
	checkErr(t, "CreateAccount(duplicate key)", err, store.ErrConflict)
	if n, err := f.s.CountAccounts(f.ctx); err != nil || n != 1 {
		t.Errorf("CountAccounts after conflict = %d, %v; want 1 (nothing stored)", n, err)
	}
	got, err := f.s.GetAccessKey(f.ctx, "AKIDdup")
	checkErr(t, "GetAccessKey", err, nil)
	if got.AccountID != a.ID || string(got.SecretSealed) != "first" {
		t.Errorf("key after conflict = account %d, secret %q; want account %d, secret %q", got.AccountID, got.SecretSealed, a.ID, "first")
	}
}

func testGetSecret(t *testing.T, open opener) {
	f := newFixture(t, open)
	_, err := f.s.GetSecret(f.ctx, "nexttoken-hmac")
	checkErr(t, "GetSecret(missing)", err, store.ErrNotFound)
	want := []byte{0, 0xff, 7, 0}
	_, err = f.s.PutSecretIfAbsent(f.ctx, "nexttoken-hmac", want)
	checkErr(t, "PutSecretIfAbsent", err, nil)
	got, err := f.s.GetSecret(f.ctx, "nexttoken-hmac")
	checkErr(t, "GetSecret", err, nil)
	if !bytes.Equal(got, want) {
		t.Errorf("GetSecret = %x, want %x", got, want)
	}
	_, err = f.s.GetSecret(f.ctx, "other-secret")
	checkErr(t, "GetSecret(other name)", err, store.ErrNotFound)
}

func testPutSecretIfAbsent(t *testing.T, open opener) {
	f := newFixture(t, open)
	steps := []struct {
		name, secret string
		put, want    []byte
	}{
		{"ok/first-write-stores", "a", []byte("one"), []byte("one")},
		{"ok/second-write-returns-first", "a", []byte("two"), []byte("one")},
		{"ok/other-name-independent", "b", []byte("three"), []byte("three")},
		{"ok/third-write-returns-first", "a", []byte("four"), []byte("one")},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := f.s.PutSecretIfAbsent(f.ctx, st.secret, st.put)
			checkErr(t, "PutSecretIfAbsent", err, nil)
			if !bytes.Equal(got, st.want) {
				t.Errorf("PutSecretIfAbsent(%q, %q) = %q, want %q", st.secret, st.put, got, st.want)
			}
			stored, err := f.s.GetSecret(f.ctx, st.secret)
			checkErr(t, "GetSecret", err, nil)
			if !bytes.Equal(stored, st.want) {
				t.Errorf("GetSecret(%q) = %q, want %q", st.secret, stored, st.want)
			}
		})
	}
}

func testPutSecretConcurrent(t *testing.T, open opener) {
	f := newFixture(t, open)
	const writers = 8
	results := make([][]byte, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.s.PutSecretIfAbsent(f.ctx, "race", []byte{byte(i), 0xee})
		}()
	}
	wg.Wait()
	stored, err := f.s.GetSecret(f.ctx, "race")
	checkErr(t, "GetSecret", err, nil)
	if len(stored) != 2 || stored[0] >= writers || stored[1] != 0xee {
		t.Fatalf("stored secret %x is none of the written values", stored)
	}
	for i := range writers {
		if errs[i] != nil {
			t.Errorf("writer %d: %v", i, errs[i])
		} else if !bytes.Equal(results[i], stored) {
			t.Errorf("writer %d got %x, want the stored %x", i, results[i], stored)
		}
	}
}

func testKeyRoundTrip(t *testing.T, open opener) {
	f := newFixture(t, open)
	a := f.account()
	tests := []struct {
		name string
		key  store.KeyRecord
	}{
		{"ok/rsa", store.KeyRecord{Ref: "key-rsa", Algorithm: pca.RSA4096, Sealed: bytes.Repeat([]byte{0, 0xff, 0x10}, 300)}},
		{"ok/ecc", store.KeyRecord{Ref: "key-ecc", Algorithm: pca.ECC384, Sealed: []byte{0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.key.AccountID, tc.key.Created = a.ID, t0
			checkErr(t, "PutKey", f.s.PutKey(f.ctx, tc.key), nil)
			got, err := f.s.GetKey(f.ctx, a.ID, tc.key.Ref)
			checkErr(t, "GetKey", err, nil)
			if d := diffKey(tc.key, got); d != "" {
				t.Errorf("GetKey mismatch:\n%s", d)
			}
		})
	}
}

func testKeyNotFound(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.account(), f.account()
	key := store.KeyRecord{Ref: "key-a", AccountID: a.ID, Algorithm: pca.ECC256, Sealed: []byte{1}, Created: t0}
	checkErr(t, "PutKey", f.s.PutKey(f.ctx, key), nil)
	tests := []struct {
		name    string
		account int64
		ref     string
	}{
		{"fail/other-account", b.ID, "key-a"},
		{"fail/unknown-ref", a.ID, "key-b"},
		{"fail/unknown-account", b.ID + a.ID + 1000, "key-a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.GetKey(f.ctx, tc.account, tc.ref)
			checkErr(t, fmt.Sprintf("GetKey(%d, %q)", tc.account, tc.ref), err, store.ErrNotFound)
		})
	}
}

func testKeyDuplicate(t *testing.T, open opener) {
	tests := []struct {
		name         string
		otherAccount bool
	}{
		{"fail/same-account", false},
		{"fail/other-account", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			a, b := f.account(), f.account()
			first := store.KeyRecord{Ref: "key-dup", AccountID: a.ID, Algorithm: pca.ECC256, Sealed: []byte("first"), Created: t0}
			checkErr(t, "PutKey(first)", f.s.PutKey(f.ctx, first), nil)
			second := first
			second.Sealed, second.Algorithm = []byte("second"), pca.RSA2048
			if tc.otherAccount {
				second.AccountID = b.ID
			}
			checkErr(t, "PutKey(duplicate ref)", f.s.PutKey(f.ctx, second), store.ErrConflict)
			got, err := f.s.GetKey(f.ctx, a.ID, "key-dup")
			checkErr(t, "GetKey", err, nil)
			if d := diffKey(first, got); d != "" {
				t.Errorf("key changed by a failed PutKey:\n%s", d)
			}
			if tc.otherAccount {
				_, err := f.s.GetKey(f.ctx, b.ID, "key-dup")
				checkErr(t, "GetKey(other account)", err, store.ErrNotFound)
			}
		})
	}
}

func testReserveSerial(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account()
	x, y := f.root(acct), f.root(acct)
	steps := []struct {
		name   string
		issuer int64
		serial string
		want   error
	}{
		{"ok/first", x.ID, "0a1b2c", nil},
		{"fail/same-issuer", x.ID, "0a1b2c", store.ErrConflict},
		{"ok/same-serial-other-issuer", y.ID, "0a1b2c", nil},
		{"fail/same-issuer-again", y.ID, "0a1b2c", store.ErrConflict},
		{"ok/other-serial-same-issuer", x.ID, "0a1b2d", nil},
		{"fail/other-serial-taken", x.ID, "0a1b2d", store.ErrConflict},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := f.s.ReserveSerial(f.ctx, st.issuer, st.serial, t0.Add(time.Duration(i)*time.Second))
			checkErr(t, fmt.Sprintf("ReserveSerial(%d, %s)", st.issuer, st.serial), err, st.want)
		})
	}
}
