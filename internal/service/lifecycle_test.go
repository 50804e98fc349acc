package service

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
)

// lcIssue issues an ECC client certificate under sub.
func lcIssue(t *testing.T, svc *Service, a Actor, sub pca.CA, cn string) pca.Certificate {
	t.Helper()
	c, err := svc.IssueCertificate(context.Background(), a, IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeClient,
		Algorithm: pca.ECC256, Subject: pca.Subject{CommonName: cn}, Validity: pki.Validity{Days: 30}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertificateStatus(t *testing.T) {
	ctx := context.Background()
	svc, a := newTestService(t)
	root, sub := hierarchy(t, svc, a)
	good := lcIssue(t, svc, a, sub, "good")
	rev := lcIssue(t, svc, a, sub, "revoked")
	gone := lcIssue(t, svc, a, sub, "deleted")
	rev, err := svc.RevokeCertificate(ctx, a, rev.Identifier, pca.ReasonKeyCompromise)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeCertificate(ctx, a, gone.Identifier, pca.ReasonSuperseded); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteCertificate(ctx, a, gone.Identifier); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, c pca.Certificate, want string, wantReason pca.RevocationReason) CertStatus {
		t.Helper()
		st, err := svc.CertificateStatus(ctx, a, c)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != want {
			t.Fatalf("status %q, want %q", st.Status, want)
		}
		if want == CertRevoked && (st.RevokedAt.IsZero() || st.Reason != wantReason) {
			t.Errorf("revoked at %v reason %d, want a time and reason %d", st.RevokedAt, st.Reason, wantReason)
		}
		if want != CertRevoked && !st.RevokedAt.IsZero() {
			t.Errorf("RevokedAt %v on a %s certificate", st.RevokedAt, want)
		}
		return st
	}
	t.Run("good", func(t *testing.T) { check(t, good, CertGood, 0) })
	t.Run("revoked", func(t *testing.T) { check(t, rev, CertRevoked, pca.ReasonKeyCompromise) })
	t.Run("deleted-but-revoked", func(t *testing.T) {
		check(t, pca.Certificate{CAID: sub.ID, SerialNumber: gone.SerialNumber}, CertRevoked, pca.ReasonSuperseded)
	})
	t.Run("never-issued", func(t *testing.T) {
		check(t, pca.Certificate{CAID: sub.ID, SerialNumber: "abcdef"}, CertUnknown, 0)
	})

	// Revoking the root makes every certificate below it revoked, with the
	// root's time when that is the earliest.
	time.Sleep(5 * time.Millisecond)
	if _, err := svc.store.RevokeCA(ctx, a.AccountID, root.Identifier, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	t.Run("root-revoked/good-becomes-revoked", func(t *testing.T) {
		st := check(t, good, CertRevoked, pca.ReasonCACompromise)
		if st.RevokedAt.Before(rev.Created) {
			t.Errorf("revoked at %v, before the root was revoked", st.RevokedAt)
		}
	})
	t.Run("root-revoked/own-earlier-revocation-wins", func(t *testing.T) {
		c, err := svc.GetCertificate(ctx, a, rev.Identifier)
		if err != nil {
			t.Fatal(err)
		}
		st := check(t, c, CertRevoked, pca.ReasonKeyCompromise)
		if !st.RevokedAt.Equal(c.RevokedAt) {
			t.Errorf("RevokedAt %v, want the certificate's own %v", st.RevokedAt, c.RevokedAt)
		}
	})
}

func TestStatusLookups(t *testing.T) {
	ctx := context.Background()
	svc, a := newTestService(t)
	_, sub := hierarchy(t, svc, a)
	good := lcIssue(t, svc, a, sub, "good")
	gone := lcIssue(t, svc, a, sub, "deleted")
	if _, err := svc.RevokeCertificate(ctx, a, gone.Identifier, pca.ReasonUnspecified); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteCertificate(ctx, a, gone.Identifier); err != nil {
		t.Fatal(err)
	}

	t.Run("by-serial/mixed", func(t *testing.T) {
		got, err := svc.StatusBySerials(ctx, a, []string{"00" + strings.ToUpper(good.SerialNumber), gone.SerialNumber, "ff", good.SerialNumber})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{good.SerialNumber + "=good", gone.SerialNumber + "=revoked", "ff=unknown"}
		if len(got) != len(want) {
			t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
		}
		for i, e := range got {
			if e.SerialNumber+"="+e.Status != want[i] {
				t.Errorf("entry %d = %s=%s, want %s", i, e.SerialNumber, e.Status, want[i])
			}
		}
	})
	t.Run("by-identifier/deleted-is-unknown", func(t *testing.T) {
		got, err := svc.StatusByIdentifiers(ctx, a, []string{good.Identifier, gone.Identifier})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Status != CertGood || got[0].SerialNumber != good.SerialNumber || got[1].Status != CertUnknown || got[1].SerialNumber != "" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("other-account-sees-unknown", func(t *testing.T) {
		_, k, err := svc.CreateAccount(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		b := Actor{AccountID: k.AccountID, PrincipalID: k.PrincipalID}
		got, err := svc.StatusBySerials(ctx, b, []string{good.SerialNumber, gone.SerialNumber})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			if e.Status != CertUnknown {
				t.Errorf("another account sees %s as %s", e.SerialNumber, e.Status)
			}
		}
	})
	for _, tc := range []struct {
		name   string
		serial string
	}{
		{"not-hex", "xyz"},
		{"too-long", strings.Repeat("a", 41)},
		{"empty", ""},
	} {
		t.Run("bad-serial/"+tc.name, func(t *testing.T) {
			_, err := svc.StatusBySerials(ctx, a, []string{tc.serial})
			if e, ok := pca.AsError(err); !ok || e.Kind != pca.KindInvalid || e.Param != "SerialNumber" {
				t.Errorf("err %v, want InvalidParameter.SerialNumber", err)
			}
		})
	}
	t.Run("too-many", func(t *testing.T) {
		ids := make([]string, MaxStatusItems+1)
		for i := range ids {
			ids[i] = "x"
		}
		if _, err := svc.StatusByIdentifiers(ctx, a, ids); pca.KindOf(err) != pca.KindInvalid {
			t.Errorf("err %v, want KindInvalid", err)
		}
	})
}

func TestDeleteOnlyRevoked(t *testing.T) {
	ctx := context.Background()
	svc, a := newTestService(t)
	_, sub := hierarchy(t, svc, a)
	c := lcIssue(t, svc, a, sub, "keep")
	if err := svc.DeleteCertificate(ctx, a, c.Identifier); pca.KindOf(err) != pca.KindState {
		t.Fatalf("delete of an ISSUE certificate: %v, want KindState", err)
	}
	if _, err := svc.GetCertificate(ctx, a, c.Identifier); err != nil {
		t.Fatalf("certificate gone after a refused delete: %v", err)
	}
	if err := svc.DeleteCertificate(ctx, a, "nope"); pca.KindOf(err) != pca.KindNotFound {
		t.Fatalf("delete of an unknown certificate: %v, want KindNotFound", err)
	}
}

func TestIdempotent(t *testing.T) {
	ctx := context.Background()
	svc, a := newTestService(t)
	runs := 0
	ok := func(body string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) { runs++; return []byte(body), nil }
	}
	key := IdempotencyKey{Action: "CreateRootCACertificate", Token: "t1", Fingerprint: "fp1"}

	t.Run("first-runs", func(t *testing.T) {
		out, err := svc.Idempotent(ctx, a, key, ok(`{"n":1}`))
		if err != nil || string(out) != `{"n":1}` || runs != 1 {
			t.Fatalf("out %s err %v runs %d", out, err, runs)
		}
	})
	t.Run("repeat-replays", func(t *testing.T) {
		out, err := svc.Idempotent(ctx, a, key, ok(`{"n":2}`))
		if err != nil || string(out) != `{"n":1}` || runs != 1 {
			t.Fatalf("out %s err %v runs %d", out, err, runs)
		}
	})
	t.Run("other-params-mismatch", func(t *testing.T) {
		k := key
		k.Fingerprint = "fp2"
		_, err := svc.Idempotent(ctx, a, k, ok(`{}`))
		if pca.KindOf(err) != pca.KindIdempotencyMismatch || runs != 1 {
			t.Fatalf("err %v runs %d, want KindIdempotencyMismatch without running", err, runs)
		}
	})
	t.Run("other-action-is-separate", func(t *testing.T) {
		k := key
		k.Action = "CreateSubCACertificate"
		k.Fingerprint = "fp2"
		if out, err := svc.Idempotent(ctx, a, k, ok(`{"n":3}`)); err != nil || string(out) != `{"n":3}` {
			t.Fatalf("out %s err %v", out, err)
		}
	})
	t.Run("other-account-is-separate", func(t *testing.T) {
		_, ak, err := svc.CreateAccount(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		b := Actor{AccountID: ak.AccountID, PrincipalID: ak.PrincipalID}
		if out, err := svc.Idempotent(ctx, b, key, ok(`{"n":4}`)); err != nil || string(out) != `{"n":4}` {
			t.Fatalf("out %s err %v", out, err)
		}
	})
	t.Run("failure-releases", func(t *testing.T) {
		k := IdempotencyKey{Action: "CreateRootCACertificate", Token: "t-fail", Fingerprint: "fpA"}
		boom := pca.Invalid("Years", "bad")
		if _, err := svc.Idempotent(ctx, a, k, func(context.Context) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
			t.Fatalf("err %v, want the action's error", err)
		}
		k.Fingerprint = "fpB" // released: other parameters are fine now
		if out, err := svc.Idempotent(ctx, a, k, ok(`{"n":5}`)); err != nil || string(out) != `{"n":5}` {
			t.Fatalf("after a failure: out %s err %v", out, err)
		}
	})
	t.Run("panic-releases", func(t *testing.T) {
		k := IdempotencyKey{Action: "CreateRootCACertificate", Token: "t-panic", Fingerprint: "fp"}
		func() {
			defer func() { _ = recover() }()
			_, _ = svc.Idempotent(ctx, a, k, func(context.Context) ([]byte, error) { panic("boom") })
		}()
		if out, err := svc.Idempotent(ctx, a, k, ok(`{"n":6}`)); err != nil || string(out) != `{"n":6}` {
			t.Fatalf("after a panic: out %s err %v", out, err)
		}
	})
	t.Run("concurrent-in-progress", func(t *testing.T) {
		k := IdempotencyKey{Action: "CreateRootCACertificate", Token: "t-slow", Fingerprint: "fp"}
		started, release := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = svc.Idempotent(ctx, a, k, func(context.Context) ([]byte, error) {
				close(started)
				<-release
				return []byte(`{"slow":true}`), nil
			})
		}()
		<-started
		_, err := svc.Idempotent(ctx, a, k, ok(`{}`))
		e, isPCA := pca.AsError(err)
		if !isPCA || e.Kind != pca.KindExists || e.Detail != "ClientTokenInProgress" {
			t.Errorf("while running: err %v, want KindExists ClientTokenInProgress", err)
		}
		close(release)
		wg.Wait()
		if out, err := svc.Idempotent(ctx, a, k, ok(`{}`)); err != nil || string(out) != `{"slow":true}` {
			t.Errorf("after completion: out %s err %v", out, err)
		}
	})
	t.Run("empty-result-refused", func(t *testing.T) {
		k := IdempotencyKey{Action: "X", Token: "t-empty", Fingerprint: "fp"}
		if _, err := svc.Idempotent(ctx, a, k, func(context.Context) ([]byte, error) { return nil, nil }); pca.KindOf(err) != pca.KindInternal {
			t.Fatalf("err %v, want internal", err)
		}
		if out, err := svc.Idempotent(ctx, a, k, ok(`{"n":7}`)); err != nil || string(out) != `{"n":7}` {
			t.Fatalf("token not released: out %s err %v", out, err)
		}
	})
}

func TestTagsService(t *testing.T) {
	ctx := context.Background()
	svc, a := newTestService(t)
	root, sub := hierarchy(t, svc, a)
	c := lcIssue(t, svc, a, sub, "tagged")

	t.Run("instance-uuid-stands-for-its-ca", func(t *testing.T) {
		if err := svc.TagResources(ctx, a, CAResource, []string{strings.ToUpper(sub.InstanceUUID)}, []pca.Tag{{Key: "k", Value: "v"}}); err != nil {
			t.Fatal(err)
		}
		got, err := svc.GetCA(ctx, a, "Identifier", sub.Identifier)
		if err != nil || len(got.Tags) != 1 || got.Tags[0] != (pca.Tag{Key: "k", Value: "v"}) {
			t.Fatalf("sub-CA tags %v, err %v", got.Tags, err)
		}
	})
	t.Run("kind-mismatch-is-not-found", func(t *testing.T) {
		err := svc.TagResources(ctx, a, CertificateResource, []string{root.Identifier}, []pca.Tag{{Key: "k"}})
		if e, ok := pca.AsError(err); !ok || e.Kind != pca.KindNotFound || e.Param != "ResourceId.1" {
			t.Fatalf("err %v, want NotFound on ResourceId.1", err)
		}
	})
	t.Run("quota-checked-before-any-change", func(t *testing.T) {
		var many []pca.Tag
		for i := range MaxTagsPerResource {
			many = append(many, pca.Tag{Key: "q" + string(rune('a'+i))})
		}
		// root has 0 tags (fits), sub has 1 ("k"), so 20 new keys overflow sub.
		err := svc.TagResources(ctx, a, AnyResource, []string{root.Identifier, sub.Identifier}, many)
		if pca.KindOf(err) != pca.KindQuota {
			t.Fatalf("err %v, want KindQuota", err)
		}
		got, _ := svc.GetCA(ctx, a, "Identifier", root.Identifier)
		if len(got.Tags) != 0 {
			t.Errorf("root got %d tags from a refused call", len(got.Tags))
		}
	})
	t.Run("list-kind-filter-and-token", func(t *testing.T) {
		if err := svc.TagResources(ctx, a, CertificateResource, []string{c.Identifier}, []pca.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}}); err != nil {
			t.Fatal(err)
		}
		var seen []string
		token := ""
		for page := 0; ; page++ {
			res, err := svc.ListTags(ctx, a, TagQuery{Kind: CertificateResource, MaxResults: 2, NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range res.Items {
				if it.ResourceID != c.Identifier {
					t.Errorf("certificate listing holds %s", it.ResourceID)
				}
				seen = append(seen, it.Tag.Key)
			}
			if token = res.NextToken; token == "" {
				break
			}
			if page > 5 {
				t.Fatal("no end")
			}
			// The token is bound to the query and the account.
			if _, err := svc.ListTags(ctx, a, TagQuery{Kind: CAResource, MaxResults: 2, NextToken: token}); pca.KindOf(err) != pca.KindInvalid {
				t.Errorf("token reused with another kind: %v", err)
			}
			_, k, err := svc.CreateAccount(ctx, "other-"+token[:4])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.ListTags(ctx, Actor{AccountID: k.AccountID}, TagQuery{Kind: CertificateResource, MaxResults: 2, NextToken: token}); pca.KindOf(err) != pca.KindInvalid {
				t.Errorf("token reused by another account: %v", err)
			}
		}
		if strings.Join(seen, ",") != "a,b,c" {
			t.Errorf("keys %v, want a,b,c", seen)
		}
	})
}

func TestExportPrivateKey(t *testing.T) {
	ctx := context.Background()
	svc, a := newTestService(t)
	_, sub := hierarchy(t, svc, a)
	c := lcIssue(t, svc, a, sub, "export")
	for _, tc := range []struct {
		name     string
		password string
		kind     pca.Kind
	}{
		{"empty", "", pca.KindMissing},
		{"too-long", strings.Repeat("a", 33), pca.KindInvalid},
		{"space", "pass word", pca.KindInvalid},
		{"non-ascii", "pässword", pca.KindInvalid},
		{"control", "pass\nword", pca.KindInvalid},
	} {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			_, err := svc.ExportPrivateKey(ctx, a, c.Identifier, "", []byte(tc.password))
			if pca.KindOf(err) != tc.kind {
				t.Fatalf("err %v, want kind %d", err, tc.kind)
			}
			if tc.password != "" && strings.Contains(err.Error(), tc.password) {
				t.Errorf("the error echoes the password: %v", err)
			}
		})
	}
	t.Run("wrong-resource-group", func(t *testing.T) {
		if _, err := svc.ExportPrivateKey(ctx, a, c.Identifier, "rg-other", []byte("pw")); pca.KindOf(err) != pca.KindNotFound {
			t.Fatalf("err %v, want KindNotFound", err)
		}
	})
	t.Run("ok", func(t *testing.T) {
		pw := "Ab1,.+-_#" + strings.Repeat("x", 23)
		out, err := svc.ExportPrivateKey(ctx, a, c.Identifier, "", []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		key, err := keys.DecryptPKCS8PEM(out, []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
			t.Error("exported key does not match the certificate")
		}
	})
}
