package service

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// newTestService returns a Service on a fresh SQLite store and the actor of
// its first account.
func newTestService(t testing.TB) (*Service, Actor) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "pcad.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := New(ctx, Config{Store: st, Keyring: testKeyring(t, st, bytes.Repeat([]byte{3}, keys.MasterKeySize))})
	if err != nil {
		t.Fatal(err)
	}
	k, created, err := svc.Bootstrap(ctx, "test")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v %v", created, err)
	}
	return svc, Actor{AccountID: k.AccountID, PrincipalID: k.PrincipalID}
}

func subject(cn string) pca.Subject {
	return pca.Subject{CommonName: cn, Organization: "Acme", OrganizationUnit: "PKI", Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
}

// hierarchy makes an ECC root and sub-CA.
func hierarchy(t *testing.T, svc *Service, a Actor) (root, sub pca.CA) {
	t.Helper()
	ctx := context.Background()
	root, err := svc.CreateRootCA(ctx, a, RootCARequest{Subject: subject("Root"), Years: 10, Algorithm: pca.ECC256})
	if err != nil {
		t.Fatal(err)
	}
	sub, err = svc.CreateSubCA(ctx, a, SubCARequest{ParentIdentifier: root.Identifier, Subject: subject("Sub"), Years: 10,
		Algorithm: pca.ECC256, ExtendedKeyUsages: []string{"serverAuth", "clientAuth"}})
	if err != nil {
		t.Fatal(err)
	}
	return root, sub
}

func TestBootstrapOnce(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	if _, created, err := svc.Bootstrap(ctx, "again"); err != nil || created {
		t.Fatalf("second bootstrap: created=%v err=%v", created, err)
	}
	// The owner's key opens with the right secret; an unknown id is NotFound.
	_, k, err := svc.CreateAccount(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.LookupAccessKey(ctx, k.ID)
	if err != nil || got.Secret != k.Secret || got.AccountID == a.AccountID || !got.Active {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	if _, err := svc.LookupAccessKey(ctx, "LTAInope"); pca.KindOf(err) != pca.KindNotFound {
		t.Fatalf("unknown key: %v", err)
	}
	if len(k.Secret) != 30 || !strings.HasPrefix(k.ID, "LTAI") || len(k.ID) != 24 {
		t.Fatalf("key shape: id %q, secret length %d", k.ID, len(k.Secret))
	}
}

func TestSubCAEndsWithRoot(t *testing.T) {
	svc, a := newTestService(t)
	root, sub := hierarchy(t, svc, a)
	if sub.NotAfter.After(root.NotAfter) {
		t.Fatalf("sub-CA ends %v after root %v", sub.NotAfter, root.NotAfter)
	}
	if sub.ParentIdentifier != root.Identifier || sub.InstanceUUID == "" || !pca.ValidUUID(sub.InstanceUUID) {
		t.Fatalf("sub-CA record: %+v", sub)
	}
	_, err := svc.CreateSubCA(context.Background(), a, SubCARequest{ParentIdentifier: root.Identifier, Subject: subject("Long"),
		Years: 10, Algorithm: pca.RSA2048})
	if e, ok := pca.AsError(err); !ok || e.Param != "Algorithm" {
		t.Fatalf("family mismatch: %v", err)
	}
}

func TestQuota(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	_, sub := hierarchy(t, svc, a)
	if err := svc.SetInstanceQuota(ctx, a, sub.InstanceUUID, 2); err != nil {
		t.Fatal(err)
	}
	req := IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeClient, Algorithm: pca.ECC256,
		Subject: pca.Subject{CommonName: "alice"}, Validity: pki.Validity{Days: 30}}
	for i := 0; i < 2; i++ {
		if _, err := svc.IssueCertificate(ctx, a, req); err != nil {
			t.Fatalf("issue %d: %v", i+1, err)
		}
	}
	if _, err := svc.IssueCertificate(ctx, a, req); pca.KindOf(err) != pca.KindQuota {
		t.Fatalf("third issue: %v, want a quota error", err)
	}
	res, err := svc.ListCertificates(ctx, a, ListRequest{CurrentPage: 1, ShowSize: 10})
	if err != nil || res.Total != 2 {
		t.Fatalf("after refusal: total %d, err %v", res.Total, err)
	}
	if err := svc.SetInstanceQuota(ctx, a, "01a220e7-0000-7000-8000-000000000000", 1); pca.KindOf(err) != pca.KindNotFound {
		t.Fatalf("unknown instance: %v", err)
	}
}

func TestRevokeTwice(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	_, sub := hierarchy(t, svc, a)
	c, err := svc.IssueCertificate(ctx, a, IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeServer, Algorithm: pca.ECC384,
		Subject: pca.Subject{CommonName: "db.internal"}, Validity: pki.Validity{Months: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.Organization != "Acme" || c.Subject.Country != "CN" {
		t.Fatalf("subject not inherited from the CA: %+v", c.Subject)
	}
	r, err := svc.RevokeCertificate(ctx, a, c.Identifier, pca.ReasonKeyCompromise)
	if err != nil || r.Status != pca.StatusRevoke || r.RevokedAt.IsZero() {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	if _, err := svc.RevokeCertificate(ctx, a, c.Identifier, pca.ReasonUnspecified); pca.KindOf(err) != pca.KindState {
		t.Fatalf("second revoke: %v", err)
	}
	// Another account cannot see or revoke it.
	_, k, _ := svc.CreateAccount(ctx, "other")
	other := Actor{AccountID: k.AccountID, PrincipalID: k.PrincipalID}
	if _, err := svc.GetCertificate(ctx, other, c.Identifier); pca.KindOf(err) != pca.KindNotFound {
		t.Fatalf("foreign get: %v", err)
	}
	if _, err := svc.RevokeCertificate(ctx, other, c.Identifier, 0); pca.KindOf(err) != pca.KindNotFound {
		t.Fatalf("foreign revoke: %v", err)
	}
}

func TestListToken(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	_, sub := hierarchy(t, svc, a)
	for i := 0; i < 5; i++ {
		if _, err := svc.IssueCertificate(ctx, a, IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeClient,
			Algorithm: pca.ECC256, Subject: pca.Subject{CommonName: "user"}, Validity: pki.Validity{Days: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := svc.ListCertificates(ctx, a, ListRequest{Token: true, MaxResults: 2})
	if err != nil || len(first.Items) != 2 || first.NextToken == "" || first.Total != 5 {
		t.Fatalf("first page: %d items, token %q, total %d, err %v", len(first.Items), first.NextToken, first.Total, err)
	}
	_, k, _ := svc.CreateAccount(ctx, "other")
	other := Actor{AccountID: k.AccountID}
	tampered := []byte(first.NextToken)
	tampered[len(tampered)-2] ^= 1
	tests := []struct {
		name   string
		actor  Actor
		filter ListFilter
		token  string
		ok     bool
	}{
		{"ok/same account and filters", a, ListFilter{}, first.NextToken, true},
		{"fail/other account", other, ListFilter{}, first.NextToken, false},
		{"fail/other filters", a, ListFilter{Status: pca.StatusIssue}, first.NextToken, false},
		{"fail/tampered", a, ListFilter{}, string(tampered), false},
		{"fail/truncated", a, ListFilter{}, first.NextToken[:len(first.NextToken)-3], false},
		{"fail/garbage", a, ListFilter{}, "not a token", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.ListCertificates(ctx, tc.actor, ListRequest{Filter: tc.filter, Token: true, NextToken: tc.token, MaxResults: 2})
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if e, _ := pca.AsError(err); e == nil || e.Param != "NextToken" {
					t.Fatalf("error %v does not name NextToken", err)
				}
			}
		})
	}
	// Walking the pages visits each certificate once, and the last page has no token.
	seen := map[int64]bool{}
	tok := ""
	for page := 0; page < 10; page++ {
		res, err := svc.ListCertificates(ctx, a, ListRequest{Token: true, NextToken: tok, MaxResults: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Items {
			if seen[c.ID] {
				t.Fatalf("id %d seen twice", c.ID)
			}
			seen[c.ID] = true
		}
		if tok = res.NextToken; tok == "" {
			break
		}
	}
	if len(seen) != 5 || tok != "" {
		t.Fatalf("walk saw %d certificates, final token %q", len(seen), tok)
	}
}

func TestServerSecretSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pcad.db")
	master := bytes.Repeat([]byte{9}, keys.MasterKeySize)
	open := func(m []byte) (*Service, error) {
		st, err := sqlstore.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		ring, err := keys.OpenKeyring(ctx, m, st, rand.Reader)
		if err != nil {
			return nil, err
		}
		return New(ctx, Config{Store: st, Keyring: ring, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	}
	s1, err := open(master)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := open(master)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1.tokenKey, s2.tokenKey) {
		t.Fatal("token key changed across restarts: issued NextTokens would break")
	}
	if _, err := open(bytes.Repeat([]byte{8}, keys.MasterKeySize)); err == nil {
		t.Fatal("a wrong master key was accepted")
	}
}

// TestKeysSealedAtRest: CA private keys are in the database only sealed.
func TestKeysSealedAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "pcad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := New(ctx, Config{Store: st, Keyring: testKeyring(t, st, bytes.Repeat([]byte{5}, keys.MasterKeySize))})
	if err != nil {
		t.Fatal(err)
	}
	k, _, _ := svc.Bootstrap(ctx, "t")
	hierarchy(t, svc, Actor{AccountID: k.AccountID, PrincipalID: k.PrincipalID})
	if len(svc.signers) != 2 {
		t.Fatalf("%d signers cached, want the root's and the sub-CA's", len(svc.signers))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "pcad.db*"))
	for ref, sg := range svc.signers {
		der, err := x509.MarshalPKCS8PrivateKey(sg)
		if err != nil {
			t.Fatal(err)
		}
		ecKey := sg.(*ecdsa.PrivateKey)
		scalar, _ := ecKey.Bytes()
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if bytes.Contains(b, der) || bytes.Contains(b, scalar) {
				t.Errorf("%s holds the private key %s in clear", f, ref)
			}
		}
	}
}
