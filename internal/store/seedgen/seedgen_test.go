package seedgen

import (
	"reflect"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// TestGen: the same seed makes the same records, another seed others; over
// many records the mix is the documented one (60% server, 35% client, 5%
// custom; one in ten revoked after issue), each record filled in.
func TestGen(t *testing.T) {
	ca := pca.CA{ID: 7, AccountID: 3, Identifier: "sub", InstanceUUID: "inst"}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	make1 := func(seed byte, n int) []pca.Certificate {
		g := New(seed)
		out := make([]pca.Certificate, n)
		for i := range out {
			c, err := g.Cert(ca, 11, i, t0.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			out[i] = c
		}
		return out
	}
	a, b, other := make1(1, 5000), make1(1, 5000), make1(2, 50)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed made different records")
	}
	if reflect.DeepEqual(a[:50], other) {
		t.Fatal("another seed made the same records")
	}
	count := map[string]int{}
	ids := map[string]bool{}
	for i, c := range a {
		count[string(c.Type)]++
		if c.Status == pca.StatusRevoke {
			count["revoked"]++
			if !c.RevokedAt.After(c.Created) || !c.Changed.Equal(c.RevokedAt) {
				t.Errorf("record %d revoked at %v, created %v, changed %v", i, c.RevokedAt, c.Created, c.Changed)
			}
		}
		if c.Identifier == "" || ids[c.Identifier] || c.SerialNumber == "" || c.Subject.CommonName == "" || len(c.DER) < 300 ||
			c.CAID != ca.ID || c.InstanceID != 11 || !c.NotAfter.After(c.NotBefore) {
			t.Fatalf("record %d incomplete or repeated: %+v", i, c)
		}
		ids[c.Identifier] = true
	}
	for _, tc := range []struct {
		name     string
		key      string
		min, max int // of 5000
	}{
		{"server", string(pca.TypeServer), 2800, 3200},
		{"client", string(pca.TypeClient), 1550, 1950},
		{"custom", string(pca.TypeEndEntity), 150, 350},
		{"revoked", "revoked", 400, 600},
	} {
		if n := count[tc.key]; n < tc.min || n > tc.max {
			t.Errorf("%s: %d of 5000, want %d to %d", tc.name, n, tc.min, tc.max)
		}
	}
}
