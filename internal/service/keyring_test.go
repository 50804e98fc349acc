package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// testKeyring opens the keyring of st under master, failing the test on error.
func testKeyring(t testing.TB, st store.DataKeyStore, master []byte) *keys.Keyring {
	t.Helper()
	k, err := keys.OpenKeyring(context.Background(), master, st, rand.Reader)
	if err != nil {
		t.Fatalf("OpenKeyring: %v", err)
	}
	return k
}

// toFirstFormat turns st into a store as an earlier version left it: every
// sealed value re-sealed directly under master, and no data keys.
func toFirstFormat(t *testing.T, st *sqlstore.Store, master []byte) {
	t.Helper()
	ctx := context.Background()
	ring := testKeyring(t, st, master)
	legacy, err := keys.NewSealer(master, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, kind := range store.SealedKinds {
		vs, err := st.ListSealedValues(ctx, kind, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			aad, _ := keys.AAD(kind, v.ID)
			pt, err := ring.Open(ctx, v.Sealed, aad)
			if err != nil {
				t.Fatalf("%v %s: %v", kind, v.ID, err)
			}
			old, err := legacy.Seal(pt, aad)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.SwapSealedValue(ctx, kind, v.ID, v.Sealed, old); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n < 5 {
		t.Fatalf("only %d sealed values to convert", n)
	}
	if _, err := st.DB().ExecContext(ctx, "DELETE FROM data_keys"); err != nil {
		t.Fatal(err)
	}
}

// sealedFormats counts the stored sealed values by format (first byte).
func sealedFormats(t *testing.T, st store.DataKeyStore) map[byte]int {
	t.Helper()
	out := map[byte]int{}
	for _, kind := range store.SealedKinds {
		vs, err := st.ListSealedValues(context.Background(), kind, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			out[v.Sealed[0]]++
		}
	}
	return out
}

// exercise runs the use cases that open every kind of sealed value: an
// AccessKey lookup, signing with the CA key, exporting a generated key,
// and the audit log (its key and head).
func exercise(t *testing.T, svc *Service, a Actor, keyID, secret, subID string) {
	t.Helper()
	ctx := context.Background()
	k, err := svc.LookupAccessKey(ctx, keyID)
	if err != nil || k.Secret != secret {
		t.Fatalf("LookupAccessKey: %v (secret matches: %v)", err, k.Secret == secret)
	}
	cert, err := svc.IssueCertificate(ctx, a, IssueRequest{ParentIdentifier: subID, Type: pca.TypeServer, Algorithm: pca.ECC256,
		Subject: pca.Subject{CommonName: "svc.example.com"}, Validity: pki.Validity{Days: 30}})
	if err != nil {
		t.Fatalf("IssueCert: %v", err)
	}
	if _, err := svc.ExportPrivateKey(ctx, a, cert.Identifier, "", []byte("Export-Pw-1")); err != nil {
		t.Fatalf("ExportPrivateKey: %v", err)
	}
	svc.Audit(ctx, AuditEntry{RequestID: "req-" + cert.Identifier, Action: "Test", AccessKeyID: keyID,
		AccountID: a.AccountID, PrincipalID: a.PrincipalID, Code: "OK"})
	if rep, err := svc.VerifyAudit(ctx); err != nil || rep.Err != nil || rep.HeadID == 0 {
		t.Fatalf("VerifyAudit: %+v, %v", rep, err)
	}
}

// TestFirstFormatStoreUpgrades: a store whose values are sealed directly
// under the master key (earlier versions) starts, works, and is refused
// with a wrong key before anything is written; rotation then moves every
// value under a data key, the service keeps working, and the old master key
// opens nothing.
func TestFirstFormatStoreUpgrades(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pcad.db")
	oldKey, newKey := bytes.Repeat([]byte{0x31}, keys.MasterKeySize), bytes.Repeat([]byte{0x32}, keys.MasterKeySize)
	st, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	open := func(master []byte) (*Service, error) {
		ring, err := keys.OpenKeyring(ctx, master, st, rand.Reader)
		if err != nil {
			return nil, err
		}
		return New(ctx, Config{Store: st, Keyring: ring})
	}
	svc, err := open(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := svc.Bootstrap(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	a := Actor{AccountID: key.AccountID, PrincipalID: key.PrincipalID}
	_, sub := hierarchy(t, svc, a)
	exercise(t, svc, a, key.ID, key.Secret, sub.Identifier)

	toFirstFormat(t, st, oldKey)
	if f := sealedFormats(t, st); f[1] == 0 || f[2] != 0 {
		t.Fatalf("formats after the downgrade: %v", f)
	}

	// A wrong key is refused, naming the cause, and writes nothing.
	if _, err := open(newKey); !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("wrong key on a first-format store: %v", err)
	}
	if dks, _ := st.ListDataKeys(ctx); len(dks) != 0 {
		t.Fatal("a refused start created a data key")
	}

	// The right key: the old values open, new ones are sealed under data key 1.
	svc, err = open(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, svc, a, key.ID, key.Secret, sub.Identifier)
	if f := sealedFormats(t, st); f[1] == 0 || f[2] == 0 {
		t.Fatalf("formats after use: %v", f)
	}

	rep, err := keys.RotateMasterKey(ctx, st, oldKey, newKey, keys.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resealed == 0 || rep.Rewrapped != 1 {
		t.Fatalf("rotation report %+v", rep)
	}
	if f := sealedFormats(t, st); f[1] != 0 {
		t.Fatalf("formats after the rotation: %v", f)
	}
	// The running service (old key, data keys in memory) works on.
	exercise(t, svc, a, key.ID, key.Secret, sub.Identifier)
	// A new one needs the new key; the old key opens nothing.
	if _, err := open(oldKey); !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("old key after the rotation: %v", err)
	}
	fresh, err := open(newKey)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, fresh, a, key.ID, key.Secret, sub.Identifier)
}
