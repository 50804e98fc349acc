package service

import (
	"context"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// takenOnce is a store whose InsertIssued reports the first serial it sees
// as taken, as if another certificate of the issuer had drawn it.
type takenOnce struct {
	store.Store
	serials []string
}

func (s *takenOnce) InsertIssued(ctx context.Context, c *pca.Certificate, key *store.KeyRecord, audit *store.AuditAppend) error {
	s.serials = append(s.serials, c.SerialNumber)
	if len(s.serials) == 1 {
		return store.ErrSerialTaken
	}
	return s.Store.InsertIssued(ctx, c, key, audit)
}

// TestIssueRedrawsTakenSerial: a serial the store reports taken is drawn
// again and the certificate signed again; the stored certificate carries the
// second serial, and the first is not stored.
func TestIssueRedrawsTakenSerial(t *testing.T) {
	svc, a := newTestService(t)
	_, sub := hierarchy(t, svc, a)
	wrapped := &takenOnce{Store: svc.store}
	svc.store = wrapped
	c, err := svc.IssueCertificate(context.Background(), a, IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeServer,
		Subject: subject("www.example.com"), Domain: "www.example.com", Algorithm: pca.ECC256, Validity: pki.Validity{Days: 30}})
	if err != nil {
		t.Fatalf("IssueCertificate: %v", err)
	}
	if len(wrapped.serials) != 2 || wrapped.serials[0] == wrapped.serials[1] {
		t.Fatalf("serials tried %v, want two different ones", wrapped.serials)
	}
	if c.SerialNumber != wrapped.serials[1] {
		t.Fatalf("stored serial %s, want the second draw %s", c.SerialNumber, wrapped.serials[1])
	}
	got, err := svc.store.CertificatesBySerial(context.Background(), a.AccountID, []string{wrapped.serials[0]})
	if err != nil || len(got) != 0 {
		t.Fatalf("the refused serial was stored: %v, %v", got, err)
	}
}
