package storetest

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// base is the list tests' clock origin, on whole hours so that date filters
// can name a certificate's change time exactly.
var base = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)

// model is what one account holds, kept by the test independently of the
// store: the expected answer of every list query is computed from it.
type model struct {
	certs []pca.Certificate
}

// add creates and stores a certificate under iss changed at at.
func (m *model) add(f *fixture, iss issuer, typ pca.CertType, at time.Time) pca.Certificate {
	f.t.Helper()
	c := f.cert(iss, typ, at)
	m.certs = append(m.certs, c)
	return c
}

// revoke revokes certificate i of the model at at, in the store and the model.
func (m *model) revoke(f *fixture, i int, at time.Time) {
	f.t.Helper()
	c := &m.certs[i]
	if _, err := f.s.RevokeCertificate(f.ctx, c.AccountID, c.Identifier, at, pca.ReasonSuperseded); err != nil {
		f.t.Fatalf("RevokeCertificate(%s): %v", c.Identifier, err)
	}
	c.Status, c.RevokedAt, c.RevokeReason, c.Changed = pca.StatusRevoke, at, pca.ReasonSuperseded, at
}

// want returns the certificates q selects, ignoring paging, newest first.
func (m *model) want(q store.ListQuery) []pca.Certificate {
	var out []pca.Certificate
	for _, c := range m.certs {
		if matches(c, q) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b pca.Certificate) int { return cmp.Compare(b.ID, a.ID) })
	return out
}

// matches reports whether c passes q's filters (not its paging).
func matches(c pca.Certificate, q store.ListQuery) bool {
	changed := msUTC(c.Changed)
	return (q.Status == "" || c.Status == q.Status) &&
		(q.Type == "" || c.Type == q.Type) &&
		(q.InstanceUUID == "" || strings.EqualFold(c.InstanceUUID, q.InstanceUUID)) &&
		(q.ParentIdentifier == "" || c.ParentIdentifier == q.ParentIdentifier) &&
		(q.ChangedFrom.IsZero() || !changed.Before(msUTC(q.ChangedFrom))) &&
		(q.ChangedBefore.IsZero() || changed.Before(msUTC(q.ChangedBefore)))
}

// listData is account A with one root and two sub-CAs holding twelve
// certificates, interleaved in issue order with account B's certificates.
//
// A's certificate i is issued by s1 when i is even and by s2 when odd, has
// type SERVER, CLIENT, END_ENTITY for i%3 = 0, 1, 2, and was last changed at
// base+i hours, except 1, 4, 6 and 9, revoked at base+24h+i minutes.
type listData struct {
	a, b   model
	aID    int64
	bID    int64
	s1, s2 issuer
	tb     issuer // B's sub-CA
}

var certTypes = []pca.CertType{pca.TypeServer, pca.TypeClient, pca.TypeEndEntity}

// revokedA are the indexes of A's revoked certificates in listData.
var revokedA = []int{1, 4, 6, 9}

func (f *fixture) listData() *listData {
	f.t.Helper()
	d := &listData{}
	rootA := f.root(f.account())
	d.s1, d.s2 = f.sub(rootA), f.sub(rootA)
	d.tb = f.issuerOf()
	d.aID, d.bID = rootA.AccountID, d.tb.ca.AccountID
	for i := range 12 {
		at := base.Add(time.Duration(i) * time.Hour)
		iss := d.s1
		if i%2 == 1 {
			iss = d.s2
		}
		d.a.add(f, iss, certTypes[i%3], at)
		if i%3 == 1 {
			d.b.add(f, d.tb, certTypes[i%2], at)
		}
	}
	for _, i := range revokedA {
		d.a.revoke(f, i, revokeTime(i))
	}
	d.b.revoke(f, 0, revokeTime(0))
	return d
}

// revokeTime is when listData revokes A's certificate i.
func revokeTime(i int) time.Time {
	return base.Add(24*time.Hour + time.Duration(i)*time.Minute)
}
